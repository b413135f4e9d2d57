import ConduitAMQP
import Foundation
import NIOCore
import Testing

/// The AMQP 1.0 type system: smallest encodings byte for byte, round trips, and bad input refused with a reason.
@Suite("AMQP type system")
struct AMQPValueCodecTests {
    static func bytes(_ value: AMQPValue) throws -> [UInt8] {
        var buffer = ByteBuffer()
        try buffer.writeAMQPValue(value)
        return Array(buffer.readableBytesView)
    }

    static func decode(_ bytes: [UInt8]) throws -> AMQPValue {
        var buffer = ByteBuffer(bytes: bytes)
        let value = try buffer.readAMQPValue()
        #expect(buffer.readableBytes == 0)
        return value
    }

    @Test("Values take their smallest encoding, as the spec's examples and AMQP peers write them")
    func smallestEncodings() throws {
        #expect(try Self.bytes(.null) == [0x40])
        #expect(try Self.bytes(.boolean(true)) == [0x41])
        #expect(try Self.bytes(.boolean(false)) == [0x42])
        #expect(try Self.bytes(.uint(0)) == [0x43])
        #expect(try Self.bytes(.uint(7)) == [0x52, 0x07])
        #expect(try Self.bytes(.uint(300)) == [0x70, 0x00, 0x00, 0x01, 0x2C])
        #expect(try Self.bytes(.ulong(0x10)) == [0x53, 0x10])
        #expect(try Self.bytes(.ulong(0)) == [0x44])
        #expect(try Self.bytes(.int(-1)) == [0x54, 0xFF])
        #expect(try Self.bytes(.int(1000)) == [0x71, 0x00, 0x00, 0x03, 0xE8])
        #expect(try Self.bytes(.long(5)) == [0x55, 0x05])
        #expect(try Self.bytes(.string("a")) == [0xA1, 0x01, 0x61])
        #expect(try Self.bytes(.symbol("PLAIN")) == [0xA3, 0x05, 0x50, 0x4C, 0x41, 0x49, 0x4E])
        #expect(try Self.bytes(.binary([1, 2])) == [0xA0, 0x02, 0x01, 0x02])
        #expect(try Self.bytes(.list([])) == [0x45])
        #expect(try Self.bytes(.list([.null, .uint(0)])) == [0xC0, 0x03, 0x02, 0x40, 0x43])
        #expect(
            try Self.bytes(.map([AMQPMapEntry(.symbol("k"), .int(1))]))
                == [0xC1, 0x06, 0x02, 0xA3, 0x01, 0x6B, 0x54, 0x01]
        )
        // An open performative: descriptor 0x10, then its fields.
        #expect(
            try Self.bytes(.described(descriptor: .ulong(0x10), value: .list([.string("c")])))
                == [0x00, 0x53, 0x10, 0xC0, 0x04, 0x01, 0xA1, 0x01, 0x63]
        )
        #expect(
            try Self.bytes(.array(.symbols(["a", "bc"])))
                == [0xE0, 0x0D, 0x02, 0xB3, 0x00, 0x00, 0x00, 0x01, 0x61, 0x00, 0x00, 0x00, 0x02, 0x62, 0x63]
        )
        #expect(try Self.bytes(.timestamp(1)) == [0x83, 0, 0, 0, 0, 0, 0, 0, 1])
    }

    @Test("Every type round-trips, including 32-bit forms and nested compounds")
    func roundTrips() throws {
        let id = UUID(uuidString: "7DA9CFD5-40D5-4BB1-8D64-EC5A52E1C547")!
        let longText = String(repeating: "x", count: 300)
        let values: [AMQPValue] = [
            .null, .boolean(true), .ubyte(200), .ushort(60_000), .uint(.max), .ulong(.max), .byte(-5), .short(-300),
            .int(.min), .long(.min), .float(1.5), .double(-2.25), .decimal32(0x2200_0001),
            .decimal64(0x2238_0000_0000_0001),
            .decimal128(Array(0..<16)), .char("é"), .timestamp(1_700_000_000_123), .uuid(id),
            .binary(Array(repeating: 7, count: 300)),
            .string(longText), .string("Grüße"), .symbol(String(repeating: "s", count: 256)),
            .list((0..<100).map { .uint(UInt32($0 * 1000)) }),
            .map([AMQPMapEntry(.string("a"), .list([.null])), AMQPMapEntry(.ulong(1), .map([]))]),
            .array(AMQPArray(elementCode: 0x71, elements: [.int(1), .int(-1)])),
            .array(AMQPArray(elementCode: 0x98, elements: [.uuid(id), .uuid(id)])),
            .array(AMQPArray(elementCode: 0x40, elements: [])),
            .array(AMQPArray(elementCode: 0xD0, descriptor: .ulong(0x70), elements: [.list([.boolean(true)])])),
            .described(descriptor: .symbol("com.microsoft:test"), value: .map([AMQPMapEntry(.symbol("x"), .null)])),
        ]
        for value in values {
            #expect(try Self.decode(try Self.bytes(value)) == value, "\(value)")
        }
    }

    @Test("Wider encodings than needed are read too")
    func widerEncodings() throws {
        #expect(try Self.decode([0x70, 0, 0, 0, 7]) == .uint(7))
        #expect(try Self.decode([0x56, 0x01]) == .boolean(true))
        #expect(try Self.decode([0xD0, 0, 0, 0, 5, 0, 0, 0, 1, 0x40]) == .list([.null]))
        #expect(try Self.decode([0xB1, 0, 0, 0, 1, 0x7A]) == .string("z"))
    }

    @Test(
        "Bad input is refused with what was wrong",
        arguments: [
            ([0x99], "is not an AMQP format code"),
            ([0x70, 0x00], "is cut short"),
            ([0xA1, 0x05, 0x61], "claims 5 bytes"),
            ([0xA1, 0x02, 0xC3, 0x28], "not valid UTF-8"),
            ([0x56, 0x02], "must be 0 or 1"),
            ([0xC1, 0x03, 0x01, 0x40, 0x40], "odd number of items"),
            ([0xC0, 0x10, 0x01, 0x40], "claims 16 bytes"),
            ([0xC0, 0x02, 0x05, 0x40], "claims 5 items in 1 bytes"),
            ([0xC0, 0x03, 0x01, 0x40, 0x40], "bytes after its 1 items"),
            ([0x00, 0xA1, 0x01, 0x61, 0x40], "descriptor must be an unsigned long or a symbol"),
            ([0xF0, 0, 0, 0, 5, 0xFF, 0xFF, 0xFF, 0xFF, 0x40], "an array claims 4294967295 elements"),
            ([0x73, 0x00, 0x11, 0x00, 0x00], "is not a Unicode code point"),
            ([], "the data ended"),
        ] as [([UInt8], String)]
    )
    func badInput(bytes: [UInt8], reason: String) {
        let error = #expect(throws: AMQPDecodingError.self) { _ = try Self.decode(bytes) }
        #expect(error?.message.contains(reason) == true, "\(error?.description ?? "no error")")
    }

    @Test("Deep nesting, every truncation and random bytes fail cleanly, and a failed read consumes nothing")
    func robustness() throws {
        var deep: [UInt8] = []
        for _ in 0..<40 { deep += [0xC0, 0x00, 0x01] }
        deep += [0x40]
        // Fix the sizes from the inside out so every list is well-formed.
        var size = 1
        for level in (0..<40).reversed() {
            deep[level * 3 + 1] = UInt8(min(size + 1, 255))
            size += 3
        }
        let error = #expect(throws: AMQPDecodingError.self) { _ = try Self.decode(deep) }
        #expect(error?.message.contains("nest deeper than 32") == true)

        let valid = try Self.bytes(
            .described(
                descriptor: .ulong(0x14),
                value: .list([.uint(1), .binary([1, 2, 3]), .array(.symbols(["a"]))])
            )
        )
        for length in 0..<valid.count {
            var buffer = ByteBuffer(bytes: valid.prefix(length))
            #expect(throws: AMQPDecodingError.self) { _ = try buffer.readAMQPValue() }
            #expect(buffer.readableBytes == length, "a failed read leaves the buffer as it was")
        }
        var random = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let count = Int.random(in: 1...64, using: &random)
            var buffer = ByteBuffer(bytes: (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) })
            _ = try? buffer.readAMQPValue()
        }
    }

    @Test("A value the encoder cannot write is an error, not a crash")
    func encodingErrors() {
        var buffer = ByteBuffer()
        #expect(throws: AMQPEncodingError.self) {
            try buffer.writeAMQPValue(.array(AMQPArray(elementCode: 0x71, elements: [.string("not an int")])))
        }
    }
}

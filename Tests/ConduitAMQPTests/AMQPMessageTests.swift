import ConduitAMQP
import Foundation
import NIOCore
import Testing

/// Messages: every section and body kind round-trips, the bytes are the spec's, and the accessors find what they name.
@Suite("AMQP messages")
struct AMQPMessageTests {
    static func roundTrip(_ message: AMQPMessage) throws -> AMQPMessage {
        var buffer = try message.encoded()
        let read = try AMQPMessage.decode(&buffer)
        #expect(buffer.readableBytes == 0, "the whole payload is read")
        return read
    }

    static func bytes(_ message: AMQPMessage) throws -> [UInt8] {
        Array(try message.encoded().readableBytesView)
    }

    static let id = UUID(uuidString: "7DA9CFD5-40D5-4BB1-8D64-EC5A52E1C547")!

    /// A message with every section.
    static let full = AMQPMessage(
        header: AMQPMessage.Header(durable: true, priority: 7, ttl: 60_000, firstAcquirer: false, deliveryCount: 3),
        deliveryAnnotations: [AMQPMapEntry(.symbol("x-opt-lock-token"), .uuid(id))],
        messageAnnotations: [
            AMQPMapEntry(.symbol("x-opt-sequence-number"), .long(42)),
            AMQPMapEntry(.symbol("x-opt-enqueued-time"), .timestamp(1_700_000_000_000)),
        ],
        properties: AMQPMessage.Properties(
            messageId: .uuid(id),
            userId: [1, 2, 3],
            to: "orders",
            subject: "label",
            replyTo: "replies",
            correlationId: .ulong(99),
            contentType: "application/json",
            contentEncoding: "gzip",
            absoluteExpiryTime: 1_700_000_060_000,
            creationTime: 1_700_000_000_000,
            groupId: "session-1",
            groupSequence: 5,
            replyToGroupId: "session-2"
        ),
        applicationProperties: [AMQPMapEntry(.string("color"), .string("red")), AMQPMapEntry(.string("n"), .int(1))],
        body: .data([Array("hello".utf8), Array(repeating: 0xAB, count: 300)]),
        footer: [AMQPMapEntry(.symbol("x-hash"), .binary([9, 9]))]
    )

    @Test("Every section and every body kind round-trips")
    func roundTrips() throws {
        var value = Self.full
        value.body = .value(.map([AMQPMapEntry(.string("k"), .list([.null, .double(1.5)]))]))
        var sequence = Self.full
        sequence.body = .sequence([[.string("a"), .int(1)], [], [.symbol("b")]])
        let messages: [AMQPMessage] = [
            Self.full, value, sequence,
            AMQPMessage(),
            AMQPMessage(body: .data([[]])),
            AMQPMessage(body: .value(.null)),
            AMQPMessage(header: AMQPMessage.Header()),
            AMQPMessage(deliveryAnnotations: []),
            AMQPMessage(messageAnnotations: [AMQPMapEntry(.ulong(1), .string("ulong keys are allowed"))]),
            AMQPMessage(properties: AMQPMessage.Properties()),
            AMQPMessage(properties: AMQPMessage.Properties(messageId: .binary([0xFF]), correlationId: .string("c"))),
            AMQPMessage(applicationProperties: []),
            AMQPMessage(footer: []),
        ]
        for message in messages {
            #expect(try Self.roundTrip(message) == message, "\(message)")
        }
        #expect(
            try Self.roundTrip(AMQPMessage(body: .data([]))).body == .data([]),
            "no body section reads as .data([])"
        )
    }

    @Test("Bytes, checked by hand against the spec")
    func exactBytes() throws {
        // described (00), smallulong descriptor 0x70 (53 70), list8 (c0) of 6 bytes (count + 5 items):
        // count 5, four nulls (40) and delivery-count uint0 (43).
        #expect(
            try Self.bytes(AMQPMessage(header: AMQPMessage.Header(deliveryCount: 0)))
                == [0x00, 0x53, 0x70, 0xC0, 0x06, 0x05, 0x40, 0x40, 0x40, 0x40, 0x43]
        )
        // header (all nulls), then data (00 53 75) holding vbin8 (a0) of 2 bytes "hi".
        #expect(
            try Self.bytes(AMQPMessage(header: AMQPMessage.Header(), body: .data([Array("hi".utf8)])))
                == [0x00, 0x53, 0x70, 0xC0, 0x06, 0x05, 0x40, 0x40, 0x40, 0x40, 0x40]
                + [0x00, 0x53, 0x75, 0xA0, 0x02, 0x68, 0x69]
        )
        // properties: all 13 fields; message-id str8 "a" (a1 01 61) then 12 nulls: 16 bytes after the size.
        #expect(
            try Self.bytes(AMQPMessage(properties: AMQPMessage.Properties(messageId: .string("a"))))
                == [0x00, 0x53, 0x73, 0xC0, 0x10, 0x0D, 0xA1, 0x01, 0x61] + Array(repeating: 0x40, count: 12)
        )
        // amqp-value (00 53 77) holding str8 "ok"; message-annotations (00 53 72) map8 {sym "k": smalllong 1}.
        #expect(
            try Self.bytes(
                AMQPMessage(messageAnnotations: [AMQPMapEntry(.symbol("k"), .long(1))], body: .value(.string("ok")))
            )
                == [0x00, 0x53, 0x72, 0xC1, 0x06, 0x02, 0xA3, 0x01, 0x6B, 0x55, 0x01]
                + [0x00, 0x53, 0x77, 0xA1, 0x02, 0x6F, 0x6B]
        )
        #expect(try Self.bytes(AMQPMessage()).isEmpty, "a message with no sections is no bytes")
    }

    @Test("Sections are written in the spec's order whatever order they were set in")
    func sectionOrder() throws {
        var message = AMQPMessage(body: .sequence([[.uint(1)], [.uint(2)]]))
        message.footer = []
        message.applicationProperties = []
        message.properties = AMQPMessage.Properties()
        message.messageAnnotations = []
        message.deliveryAnnotations = []
        message.header = AMQPMessage.Header()
        var buffer = try message.encoded()
        var codes: [UInt64] = []
        while buffer.readableBytes > 0 {
            codes.append(try #require(try buffer.readAMQPValue().descriptorCode))
        }
        #expect(codes == [0x70, 0x71, 0x72, 0x73, 0x74, 0x76, 0x76, 0x78])
    }

    @Test("Properties keep message ids' types and write content-type and content-encoding as symbols")
    func propertyTypes() throws {
        for id: AMQPValue in [.ulong(7), .uuid(Self.id), .binary([0, 1]), .string("m-1")] {
            let message = AMQPMessage(properties: AMQPMessage.Properties(messageId: id, correlationId: id))
            let read = try Self.roundTrip(message)
            #expect(read.properties?.messageId == id)
            #expect(read.properties?.correlationId == id)
        }
        var buffer = try AMQPMessage(properties: Self.full.properties).encoded()
        guard case .described(_, .list(let fields)) = try buffer.readAMQPValue() else {
            Issue.record("properties is not a described list")
            return
        }
        #expect(fields.count == 13)
        #expect(fields[6] == .symbol("application/json"))
        #expect(fields[7] == .symbol("gzip"))
        #expect(fields[8] == .timestamp(1_700_000_060_000))
        #expect(fields[11] == .uint(5))
    }

    @Test("Symbolic descriptors and symbol addresses are read too")
    func symbolicDescriptors() throws {
        var buffer = ByteBuffer()
        let sections: [AMQPValue] = [
            .described(descriptor: .symbol("amqp:header:list"), value: .list([.boolean(true)])),
            .described(descriptor: .symbol("amqp:message-annotations:map"), value: .map([])),
            .described(
                descriptor: .symbol("amqp:properties:list"),
                value: .list([.ulong(1), .null, .symbol("queue"), .null, .symbol("replies")])
            ),
            .described(descriptor: .symbol("amqp:application-properties:map"), value: .map([])),
            .described(descriptor: .symbol("amqp:data:binary"), value: .binary([1])),
            .described(descriptor: .symbol("amqp:data:binary"), value: .binary([2])),
            .described(descriptor: .symbol("amqp:footer:map"), value: .map([])),
        ]
        for section in sections { try buffer.writeAMQPValue(section) }
        let message = try AMQPMessage.decode(&buffer)
        #expect(message.header == AMQPMessage.Header(durable: true))
        #expect(message.properties == AMQPMessage.Properties(messageId: .ulong(1), to: "queue", replyTo: "replies"))
        #expect(message.body == .data([[1], [2]]))
        #expect(message.messageAnnotations == [] && message.applicationProperties == [] && message.footer == [])
        var value = ByteBuffer()
        try value.writeAMQPValue(.described(descriptor: .symbol("amqp:amqp-value:*"), value: .string("v")))
        try value.writeAMQPValue(.described(descriptor: .symbol("amqp:delivery-annotations:map"), value: .map([])))
        #expect(try AMQPMessage.decode(&value) == AMQPMessage(deliveryAnnotations: [], body: .value(.string("v"))))
    }

    @Test("Annotations and application properties are found by name")
    func accessors() {
        var message = Self.full
        #expect(message[annotation: "x-opt-sequence-number"] == .long(42))
        #expect(message[annotation: "missing"] == nil)
        message[annotation: "x-opt-sequence-number"] = .long(43)
        message[annotation: "x-opt-partition-key"] = .string("p")
        #expect(message[annotation: "x-opt-sequence-number"] == .long(43))
        #expect(message.messageAnnotations?.count == 3, "a new key is appended, an existing one replaced")
        message[annotation: "x-opt-sequence-number"] = nil
        message[annotation: "x-opt-enqueued-time"] = nil
        message[annotation: "x-opt-partition-key"] = nil
        #expect(message.messageAnnotations == nil, "removing the last annotation removes the section")

        #expect(message.applicationProperty("color") == .string("red"))
        #expect(message.applicationProperty("missing") == nil)
        message.applicationProperties = [
            AMQPMapEntry(.symbol("both"), .int(1)), AMQPMapEntry(.string("both"), .int(2)),
            AMQPMapEntry(.symbol("DeadLetterReason"), .string("expired")),
        ]
        #expect(message.applicationProperty("both") == .int(2), "a string key wins over a symbol key")
        #expect(message.applicationProperty("DeadLetterReason") == .string("expired"), "symbol keys are found too")
        #expect(AMQPMessage().applicationProperty("x") == nil)
    }

    @Test("A message that cannot be encoded leaves the buffer as it was")
    func encodingFailure() throws {
        let bad = AMQPValue.array(AMQPArray(elementCode: AMQPFormatCode.smallint, elements: [.string("not an int")]))
        let message = AMQPMessage(
            header: AMQPMessage.Header(deliveryCount: 0),
            applicationProperties: [AMQPMapEntry(.string("k"), bad)]
        )
        var buffer = ByteBuffer(bytes: [1, 2, 3])
        #expect(throws: AMQPEncodingError.self) { try message.encode(into: &buffer) }
        #expect(Array(buffer.readableBytesView) == [1, 2, 3])
    }
}

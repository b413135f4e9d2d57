import ConduitAMQP
import NIOCore
import Testing

/// Reading messages: the order rules, the pyamqp exception to them, and malformed payloads refused with a reason.
@Suite("AMQP message decoding")
struct AMQPMessageDecodingTests {
    static func payload(_ sections: [AMQPValue]) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        for section in sections { try buffer.writeAMQPValue(section) }
        return buffer
    }

    static func section(_ code: UInt64, _ value: AMQPValue) -> AMQPValue {
        .described(descriptor: .ulong(code), value: value)
    }

    static let header = section(0x70, .list([.null, .null, .null, .null, .uint(0)]))
    static let deliveryAnnotations = section(0x71, .map([AMQPMapEntry(.symbol("x-opt-lock-token"), .string("t"))]))
    static let properties = section(0x73, .list([.string("id")]))
    static let data = section(0x75, .binary([1, 2]))
    static let sequence = section(0x76, .list([.int(1)]))
    static let value = section(0x77, .string("v"))
    static let footer = section(0x78, .map([]))

    @Test(
        "Malformed payloads are refused with the section or field at fault",
        arguments: [
            ([properties, header], "the header section is out of order: it comes after the properties section"),
            ([header, header], "a message has at most one header section"),
            ([footer, data], "the data section is out of order: it comes after the footer section"),
            ([properties, deliveryAnnotations, data], "the delivery-annotations section is out of order"),
            (
                [deliveryAnnotations, footer, deliveryAnnotations],
                "a message has at most one delivery-annotations section"
            ),
            ([data, value], "the body mixes data and amqp-value sections"),
            ([sequence, data], "the body mixes amqp-sequence and data sections"),
            ([value, sequence], "the body mixes amqp-value and amqp-sequence sections"),
            ([value, value], "a message has at most one amqp-value section"),
            ([section(0x99, .list([]))], "0x99 is not the descriptor of a message section"),
            ([section(0x24, .list([]))], "0x24 is not the descriptor of a message section"),
            (
                [.described(descriptor: .symbol("amqp:nope:list"), value: .list([]))],
                "amqp:nope:list is not the descriptor of a message section"
            ),
            ([.string("bare")], "a message section must be a described value"),
            ([section(0x75, .string("text"))], "a data section must hold binary"),
            ([section(0x76, .string("text"))], "an amqp-sequence section must hold a list"),
            ([section(0x74, .list([]))], "the application-properties section must hold a map"),
            ([section(0x70, .list([.string("yes")]))], "header.durable (field 0) must be a boolean"),
            ([section(0x70, .map([]))], "the body of header must be a list"),
            (
                [section(0x73, .list([.symbol("id")]))],
                "properties.message-id (field 0) must be a ulong, uuid, binary or string"
            ),
            (
                [section(0x73, .list([.null, .null, .null, .null, .null, .null, .string("text/plain")]))],
                "properties.content-type (field 6) must be a symbol"
            ),
            (
                [section(0x73, .list([.null, .null, .null, .null, .null, .null, .null, .null, .long(1)]))],
                "properties.absolute-expiry-time (field 8) must be a timestamp"
            ),
        ] as [([AMQPValue], String)]
    )
    func malformed(sections: [AMQPValue], reason: String) throws {
        var buffer = try Self.payload(sections)
        let before = buffer
        let error = #expect(throws: AMQPDecodingError.self) { _ = try AMQPMessage.decode(&buffer) }
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "no error")")
        #expect(buffer == before, "nothing is read when decoding fails")
    }

    @Test("An error's offset is where its section starts")
    func offsets() throws {
        var buffer = try Self.payload([Self.properties, Self.header])
        let headerStart = buffer.readerIndex + (try Self.payload([Self.properties]).readableBytes)
        let error = #expect(throws: AMQPDecodingError.self) { _ = try AMQPMessage.decode(&buffer) }
        #expect(error?.offset == headerStart)
    }

    @Test("A truncated section is refused, naming it")
    func truncated() throws {
        var whole = try AMQPMessage(
            header: AMQPMessage.Header(deliveryCount: 0),
            properties: AMQPMessage.Properties(messageId: .string("id")),
            body: .data([[1, 2, 3]])
        ).encoded()
        var cut = whole.getSlice(at: whole.readerIndex, length: whole.readableBytes - 1)!
        let error = #expect(throws: AMQPDecodingError.self) { _ = try AMQPMessage.decode(&cut) }
        #expect(error?.message.hasPrefix("the data section cannot be read") == true, "\(error?.message ?? "")")
        var headerOnly = whole.readSlice(length: 5)!
        let headerError = #expect(throws: AMQPDecodingError.self) { _ = try AMQPMessage.decode(&headerOnly) }
        #expect(headerError?.message.hasPrefix("the header section cannot be read") == true)
        var stray = ByteBuffer(bytes: [0x00, 0x53])
        #expect(throws: AMQPDecodingError.self) { _ = try AMQPMessage.decode(&stray) }
    }

    @Test("Delivery annotations written last, as pyamqp writes them, are read")
    func pyamqpDeliveryAnnotations() throws {
        var buffer = try Self.payload([Self.header, Self.properties, Self.data, Self.footer, Self.deliveryAnnotations])
        let message = try AMQPMessage.decode(&buffer)
        #expect(message.deliveryAnnotations == [AMQPMapEntry(.symbol("x-opt-lock-token"), .string("t"))])
        #expect(message.body == .data([[1, 2]]))
        #expect(message.footer == [])
        var reencoded = try message.encoded()
        let codes = try (0..<5).map { _ in try reencoded.readAMQPValue().descriptorCode }
        #expect(codes == [0x70, 0x71, 0x73, 0x75, 0x78], "written back in the spec's order")
    }

    @Test("Sections may all be left out, and several data or amqp-sequence sections form one body")
    func optionalSections() throws {
        var empty = ByteBuffer()
        #expect(try AMQPMessage.decode(&empty) == AMQPMessage())
        var bodyOnly = try Self.payload([Self.sequence, Self.sequence])
        #expect(try AMQPMessage.decode(&bodyOnly).body == .sequence([[.int(1)], [.int(1)]]))
        var noBody = try Self.payload([Self.properties, Self.footer])
        let message = try AMQPMessage.decode(&noBody)
        #expect(message.body == .data([]) && message.properties?.messageId == .string("id") && message.footer == [])
    }
}

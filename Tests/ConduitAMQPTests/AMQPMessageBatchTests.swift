import ConduitAMQP
import NIOCore
import Testing

/// Batches as the Azure SDKs send them: one envelope whose data sections each hold a complete message.
@Suite("AMQP message batches")
struct AMQPMessageBatchTests {
    static func nulls(_ count: Int) -> [UInt8] { Array(repeating: 0x40, count: count) }

    /// properties (00 53 73), list8 of 19 bytes, 13 fields: message-id str8 "id-1", then 12 nulls. pyamqp writes
    /// every field of Properties, null or not.
    static let properties1: [UInt8] = [0x00, 0x53, 0x73, 0xC0, 0x13, 0x0D, 0xA1, 0x04] + Array("id-1".utf8) + nulls(12)

    /// First message: properties, then data (00 53 75) vbin8 "hello".
    static let message1: [UInt8] = properties1 + [0x00, 0x53, 0x75, 0xA0, 0x05] + Array("hello".utf8)

    /// Second message, as pyamqp writes one with a time to live: a header with all 5 fields (ttl uint 60000 =
    /// 70 00 00 ea 60), properties with message-id "id-2", absolute-expiry-time and creation-time (timestamps 83,
    /// 1700000060000 and 1700000000000 ms), application-properties {"color": "red"} (map8, string keys), data "world".
    static let message2: [UInt8] =
        [0x00, 0x53, 0x70, 0xC0, 0x0A, 0x05, 0x40, 0x40, 0x70, 0x00, 0x00, 0xEA, 0x60, 0x40, 0x40]
        + [0x00, 0x53, 0x73, 0xC0, 0x23, 0x0D, 0xA1, 0x04] + Array("id-2".utf8) + nulls(7)
        + [0x83, 0x00, 0x00, 0x01, 0x8B, 0xCF, 0xE6, 0x52, 0x60, 0x83, 0x00, 0x00, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x00]
        + nulls(3)
        + [0x00, 0x53, 0x74, 0xC1, 0x0D, 0x02, 0xA1, 0x05] + Array("color".utf8) + [0xA1, 0x03] + Array("red".utf8)
        + [0x00, 0x53, 0x75, 0xA0, 0x05] + Array("world".utf8)

    /// The envelope of `sender.send_messages([m1, m2])`: properties (message-id of the first message), then one
    /// data section per message, each holding that message's complete encoding and so starting `00 53 73` or
    /// `00 53 70`.
    static let envelope: [UInt8] =
        properties1
        + [0x00, 0x53, 0x75, 0xA0, UInt8(message1.count)] + message1
        + [0x00, 0x53, 0x75, 0xA0, UInt8(message2.count)] + message2

    @Test("A Python client's batch is read, then unpacked into its messages")
    func pythonBatch() throws {
        var buffer = ByteBuffer(bytes: Self.envelope)
        let batch = try AMQPMessage.decode(&buffer)
        #expect(batch.properties == AMQPMessage.Properties(messageId: .string("id-1")))
        #expect(batch.body == .data([Self.message1, Self.message2]))

        let messages = try batch.batchedMessages()
        #expect(messages.count == 2)
        #expect(
            messages[0]
                == AMQPMessage(properties: .init(messageId: .string("id-1")), body: .data([Array("hello".utf8)]))
        )
        let second = messages[1]
        #expect(second.header == AMQPMessage.Header(ttl: 60_000))
        #expect(
            second.properties
                == AMQPMessage.Properties(
                    messageId: .string("id-2"),
                    absoluteExpiryTime: 1_700_000_060_000,
                    creationTime: 1_700_000_000_000
                )
        )
        #expect(second.applicationProperty("color") == .string("red"))
        #expect(second.body == .data([Array("world".utf8)]))
    }

    @Test("Batching the same messages again writes the Python client's bytes exactly")
    func sameBytesAsPython() throws {
        var m1 = ByteBuffer(bytes: Self.message1)
        var m2 = ByteBuffer(bytes: Self.message2)
        let batch = try AMQPMessage.batch([try AMQPMessage.decode(&m1), try AMQPMessage.decode(&m2)])
        #expect(Array(try batch.encoded().readableBytesView) == Self.envelope)
    }

    @Test("The envelope copies message-id, group-id and the partition key from the first message only")
    func envelope() throws {
        var first = AMQPMessage(
            header: AMQPMessage.Header(deliveryCount: 0),
            properties: AMQPMessage.Properties(messageId: .ulong(1), subject: "not copied", groupId: "session"),
            applicationProperties: [AMQPMapEntry(.string("not"), .string("copied"))],
            body: .value(.string("one"))
        )
        first[annotation: AMQPMessage.partitionKeyAnnotation] = .string("pk")
        first[annotation: "x-opt-other"] = .int(1)
        let second = AMQPMessage(properties: AMQPMessage.Properties(messageId: .ulong(2)), body: .data([[2]]))
        let batch = try AMQPMessage.batch([first, second])
        #expect(batch.properties == AMQPMessage.Properties(messageId: .ulong(1), groupId: "session"))
        #expect(batch.messageAnnotations == [AMQPMapEntry(.symbol("x-opt-partition-key"), .string("pk"))])
        #expect(batch.header == nil && batch.applicationProperties == nil && batch.footer == nil)
        #expect(try batch.batchedMessages() == [first, second])
        #expect(AMQPMessage.batchFormat == 0x8001_3700)

        let plain = try AMQPMessage.batch([AMQPMessage(body: .data([[1]]))])
        #expect(plain.properties == nil && plain.messageAnnotations == nil, "nothing to copy, no section")
        #expect(try AMQPMessage.batch([]) == AMQPMessage(body: .data([])))
    }

    @Test("A batch that does not unpack says which message is at fault")
    func malformedBatch() throws {
        let bad = AMQPMessage(body: .data([Self.message1, [0x00, 0x53, 0x73, 0xC0, 0x05]]))
        let error = #expect(throws: AMQPDecodingError.self) { _ = try bad.batchedMessages() }
        #expect(error?.message.hasPrefix("batched message 1: the properties section cannot be read") == true)

        let empty = AMQPMessage(body: .data([Self.message1, []]))
        let emptyError = #expect(throws: AMQPDecodingError.self) { _ = try empty.batchedMessages() }
        #expect(emptyError?.message == "batched message 1 is empty")

        let notData = AMQPMessage(body: .value(.binary(Self.message1)))
        let notDataError = #expect(throws: AMQPDecodingError.self) { _ = try notData.batchedMessages() }
        #expect(notDataError?.message.hasPrefix("a batch's body must be data sections") == true)
    }
}

import NIOCore

extension AMQPMessage {
    /// The message format of a batch (`0x80013700`, in the transfer's `message-format`): Azure SDKs send several
    /// messages as one delivery whose data sections each hold one complete encoded message.
    public static let batchFormat: UInt32 = 0x8001_3700

    /// The message annotation that carries a partition key (Service Bus partitioned entities, Event Hubs).
    public static let partitionKeyAnnotation = "x-opt-partition-key"

    /// The envelope Azure SDKs send for a batch (to be transferred with ``batchFormat``): one data section per
    /// message holding its complete encoding, `properties` with the first message's `message-id` and `group-id`
    /// (when it has either), and `message-annotations` with the first message's `x-opt-partition-key` (when set).
    ///
    /// ```swift
    /// let envelope = try AMQPMessage.batch([first, second])
    /// let transfer = AMQPPerformative.Transfer(handle: 0, deliveryId: 1, deliveryTag: [0, 0, 0, 1])
    /// // transfer.messageFormat = AMQPMessage.batchFormat, payload = try envelope.encoded()
    /// ```
    /// - Throws: ``AMQPEncodingError`` when a message holds an array with an element of another type.
    public static func batch(_ messages: [AMQPMessage]) throws(AMQPEncodingError) -> AMQPMessage {
        var envelope = AMQPMessage()
        if let first = messages.first {
            if let properties = first.properties, properties.messageId != .null || properties.groupId != nil {
                envelope.properties = Properties(messageId: properties.messageId, groupId: properties.groupId)
            }
            envelope[annotation: partitionKeyAnnotation] = first[annotation: partitionKeyAnnotation]
        }
        var chunks: [[UInt8]] = []
        chunks.reserveCapacity(messages.count)
        for message in messages {
            chunks.append(Array(try message.encoded().readableBytesView))
        }
        envelope.body = .data(chunks)
        return envelope
    }

    /// The messages of a batch envelope (a delivery with ``batchFormat``): each data section decoded as a message.
    ///
    /// - Throws: ``AMQPDecodingError`` when the body is not data sections, or when a section is empty or not a
    ///   valid message; its message starts with `batched message <index>` and its offset is within that section.
    public func batchedMessages() throws(AMQPDecodingError) -> [AMQPMessage] {
        guard case .data(let chunks) = body else {
            throw AMQPDecodingError("a batch's body must be data sections, one per message, not \(body)", offset: 0)
        }
        var messages: [AMQPMessage] = []
        messages.reserveCapacity(chunks.count)
        for (index, chunk) in chunks.enumerated() {
            guard !chunk.isEmpty else {
                throw AMQPDecodingError("batched message \(index) is empty", offset: 0)
            }
            var buffer = ByteBuffer(bytes: chunk)
            do throws(AMQPDecodingError) {
                messages.append(try AMQPMessage.decode(&buffer))
            } catch {
                throw AMQPDecodingError("batched message \(index): \(error.message)", offset: error.offset)
            }
        }
        return messages
    }
}

import ConduitAMQP
import Foundation
import NIOCore

/// Service Bus messages as AMQP messages and back (service-bus-protocols.md §3.6, §4.3).
enum BusAMQPMessages {
    /// A message a client sent: the data sections (or a string or binary amqp-value) are the body; the properties,
    /// header, annotations and application properties map to the broker properties.
    static func busMessage(_ message: AMQPMessage) throws -> BusMessage {
        let body: Data
        switch message.body {
        case .data(let sections): body = Data(sections.joined())
        case .value(.string(let text)): body = Data(text.utf8)
        case .value(.binary(let bytes)): body = Data(bytes)
        case .value(.null): body = Data()
        default:
            throw BusAMQPError.badMessage(
                "Only data sections and string or binary amqp-value bodies are stored; this message has another body."
            )
        }
        var result = BusMessage(body: body)
        if let properties = message.properties {
            result.messageId = properties.messageId.text
            result.correlationId = properties.correlationId.text
            result.contentType = properties.contentType
            result.label = properties.subject
            result.to = properties.to
            result.replyTo = properties.replyTo
            result.sessionId = properties.groupId
        }
        if let ttl = message.header?.ttl { result.timeToLiveSeconds = Double(ttl) / 1000 }
        for entry in message.messageAnnotations ?? [] {
            guard case .symbol(let key) = entry.key else { continue }
            switch (key, entry.value) {
            case ("x-opt-scheduled-enqueue-time", .timestamp(let ms)): result.scheduledEnqueueTime = ms
            case ("x-opt-partition-key", .string(let key)): result.partitionKey = key
            default: break
            }
        }
        for entry in message.applicationProperties ?? [] {
            guard let key = entry.key.text else { continue }
            result.userProperties[key] = propertyValue(entry.value)
        }
        return result
    }

    /// The messages of one transfer: the message, or each message of a batch (format 0x80013700).
    static func busMessages(payload: ByteBuffer, format: UInt32) throws -> [BusMessage] {
        var buffer = payload
        let message = try AMQPMessage.decode(&buffer)
        if format == AMQPMessage.batchFormat {
            return try message.batchedMessages().map(busMessage)
        }
        return [try busMessage(message)]
    }

    /// A stored message as a receiver gets it: the header with the number of earlier deliveries, the properties,
    /// the `x-opt-*` annotations, the lock token and the application properties (with the dead-letter reason).
    static func amqpMessage(_ received: ReceivedMessage, now: Int64) -> AMQPMessage {
        let message = received.message
        var result = AMQPMessage(body: .data([Array(message.body)]))
        var header = AMQPMessage.Header()
        header.durable = true
        header.deliveryCount = UInt32(max(received.deliveryCount - 1, 0))
        if let ttl = message.timeToLiveSeconds { header.ttl = UInt32(clamping: Int64(ttl * 1000)) }
        result.header = header
        var properties = AMQPMessage.Properties()
        properties.messageId = message.messageId.map { .string($0) } ?? .null
        properties.correlationId = message.correlationId.map { .string($0) } ?? .null
        properties.contentType = message.contentType
        properties.subject = message.label
        properties.to = message.to
        properties.replyTo = message.replyTo
        properties.groupId = message.sessionId
        properties.creationTime = received.enqueuedTime
        properties.absoluteExpiryTime = received.expiresAt
        result.properties = properties
        var annotations: [AMQPMapEntry] = [
            AMQPMapEntry(.symbol("x-opt-sequence-number"), .long(received.sequenceNumber)),
            AMQPMapEntry(.symbol("x-opt-enqueued-time"), .timestamp(received.enqueuedTime)),
        ]
        if let until = received.lockedUntil {
            annotations.append(AMQPMapEntry(.symbol("x-opt-locked-until"), .timestamp(until)))
        }
        if let key = message.partitionKey {
            annotations.append(AMQPMapEntry(.symbol("x-opt-partition-key"), .string(key)))
        }
        if let scheduled = message.scheduledEnqueueTime {
            annotations.append(AMQPMapEntry(.symbol("x-opt-scheduled-enqueue-time"), .timestamp(scheduled)))
        }
        // 0 active, 1 deferred, 2 scheduled.
        let state: Int32 = received.isDeferred ? 1 : (message.scheduledEnqueueTime ?? 0) > now ? 2 : 0
        annotations.append(AMQPMapEntry(.symbol("x-opt-message-state"), .int(state)))
        result.messageAnnotations = annotations
        if let token = received.lockToken {
            result.deliveryAnnotations = [AMQPMapEntry(.symbol("x-opt-lock-token"), .uuid(token))]
        }
        var application = message.userProperties.sorted { $0.key < $1.key }.map {
            AMQPMapEntry(.string($0.key), amqpValue($0.value))
        }
        if let reason = received.deadLetterReason {
            application.append(AMQPMapEntry(.string("DeadLetterReason"), .string(reason)))
        }
        if let description = received.deadLetterErrorDescription {
            application.append(AMQPMapEntry(.string("DeadLetterErrorDescription"), .string(description)))
        }
        if !application.isEmpty { result.applicationProperties = application }
        return result
    }

    static func propertyValue(_ value: AMQPValue) -> PropertyValue {
        switch value {
        case .null: .null
        case .string(let text), .symbol(let text): .string(text)
        case .boolean(let flag): .bool(flag)
        case .ubyte(let n): .int64(Int64(n))
        case .ushort(let n): .int64(Int64(n))
        case .uint(let n): .int64(Int64(n))
        case .ulong(let n): .int64(Int64(clamping: n))
        case .byte(let n): .int64(Int64(n))
        case .short(let n): .int64(Int64(n))
        case .int(let n): .int64(Int64(n))
        case .long(let n): .int64(n)
        case .float(let n): .double(Double(n))
        case .double(let n): .double(n)
        case .timestamp(let ms): .date(Date(timeIntervalSince1970: Double(ms) / 1000))
        case .uuid(let uuid): .uuid(uuid)
        case .char(let scalar): .string(String(scalar))
        default: .string(value.text ?? "\(value)")
        }
    }

    static func amqpValue(_ value: PropertyValue) -> AMQPValue {
        switch value {
        case .null: .null
        case .string(let text): .string(text)
        case .int64(let n): .long(n)
        case .double(let n): .double(n)
        case .bool(let flag): .boolean(flag)
        case .date(let date): .timestamp(Int64((date.timeIntervalSince1970 * 1000).rounded()))
        case .duration(let duration):
            .long(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
        case .uuid(let uuid): .uuid(uuid)
        }
    }
}

extension UUID {
    /// The 16 bytes .NET's `Guid.ToByteArray()` gives: the first three groups little-endian (how Service Bus lock
    /// tokens travel as delivery tags).
    var dotNetBytes: [UInt8] {
        let b = uuid
        return [b.3, b.2, b.1, b.0, b.5, b.4, b.7, b.6, b.8, b.9, b.10, b.11, b.12, b.13, b.14, b.15]
    }

    /// A GUID from .NET's byte order.
    init?(dotNetBytes b: [UInt8]) {
        guard b.count == 16 else { return nil }
        self.init(
            uuid: (b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
        )
    }
}

/// Why the broker refused something a client sent over AMQP.
struct BusAMQPError: Error, Sendable {
    var condition: String
    var message: String

    static func badMessage(_ message: String) -> BusAMQPError {
        BusAMQPError(condition: AMQPError.decodeError, message: message)
    }

    /// A request whose arguments are wrong (the SDKs raise an argument exception).
    static func argument(_ message: String) -> BusAMQPError {
        BusAMQPError(condition: "com.microsoft:argument-error", message: message)
    }

    var amqpError: AMQPError { AMQPError(condition: condition, description: message) }
}

/// .NET `DateTime` ticks (100 ns since 0001-01-01 UTC), as Service Bus writes some times.
enum DotNetTicks {
    static let unixEpoch: Int64 = 621_355_968_000_000_000

    static func fromUnixMilliseconds(_ ms: Int64) -> Int64 { unixEpoch + ms * 10_000 }
}

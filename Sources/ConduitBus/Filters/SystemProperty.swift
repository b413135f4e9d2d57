/// A broker (system) property of a message, reached with the `sys.` scope.
///
/// The list is the broker properties of "Messages, payloads, and serialization"
/// (`service-bus-messages-payloads.md`); the raw value is the name that page gives. The names of the current
/// .NET client's `ServiceBusMessage` are accepted too (`Subject` for `Label`, `ScheduledEnqueueTime`,
/// `EnqueuedTime`, `ExpiresAt`, `LockedUntil`, `TransactionPartitionKey`), and names are case-insensitive.
public enum SystemProperty: String, CaseIterable, Sendable, Hashable, Codable {
    /// `ContentType` (AMQP content-type), a string.
    case contentType = "ContentType"
    /// `CorrelationId` (AMQP correlation-id), a string.
    case correlationId = "CorrelationId"
    /// `DeadLetterSource`, a string; read-only.
    case deadLetterSource = "DeadLetterSource"
    /// `DeliveryCount`, an integer; read-only.
    case deliveryCount = "DeliveryCount"
    /// `EnqueuedSequenceNumber`, an integer; read-only.
    case enqueuedSequenceNumber = "EnqueuedSequenceNumber"
    /// `EnqueuedTimeUtc`, a date; read-only.
    case enqueuedTimeUtc = "EnqueuedTimeUtc"
    /// `ExpiresAtUtc` (AMQP absolute-expiry-time), a date; read-only.
    case expiresAtUtc = "ExpiresAtUtc"
    /// `ForcePersistence`, a Boolean (express entities only).
    case forcePersistence = "ForcePersistence"
    /// `Label`, also named `Subject` (AMQP subject), a string.
    case label = "Label"
    /// `LockedUntilUtc`, a date; read-only.
    case lockedUntilUtc = "LockedUntilUtc"
    /// `LockToken`, a GUID; read-only.
    case lockToken = "LockToken"
    /// `MessageId` (AMQP message-id), a string.
    case messageId = "MessageId"
    /// `PartitionKey`, a string.
    case partitionKey = "PartitionKey"
    /// `ReplyTo` (AMQP reply-to), a string.
    case replyTo = "ReplyTo"
    /// `ReplyToSessionId` (AMQP reply-to-group-id), a string.
    case replyToSessionId = "ReplyToSessionId"
    /// `ScheduledEnqueueTimeUtc`, a date.
    case scheduledEnqueueTimeUtc = "ScheduledEnqueueTimeUtc"
    /// `SequenceNumber`, an integer; read-only.
    case sequenceNumber = "SequenceNumber"
    /// `SessionId` (AMQP group-id), a string.
    case sessionId = "SessionId"
    /// `Size`, the stored size in bytes, an integer; read-only.
    case size = "Size"
    /// `TimeToLive`, a duration.
    case timeToLive = "TimeToLive"
    /// `To` (AMQP to), a string.
    case to = "To"
    /// `ViaPartitionKey` (`TransactionPartitionKey` in the current .NET client), a string.
    case viaPartitionKey = "ViaPartitionKey"

    /// The type of value a system property holds.
    public enum ValueType: Sendable, Hashable {
        /// ``PropertyValue/string(_:)``.
        case string
        /// ``PropertyValue/int64(_:)``.
        case int64
        /// ``PropertyValue/bool(_:)``.
        case bool
        /// ``PropertyValue/date(_:)``.
        case date
        /// ``PropertyValue/duration(_:)``.
        case duration
        /// ``PropertyValue/uuid(_:)``.
        case uuid
    }

    /// Looks a name up, case-insensitively, among the names and their aliases; `nil` if it names none.
    public init?(name: String) {
        guard let property = Self.byLowercasedName[name.lowercased()] else { return nil }
        self = property
    }

    /// The name as the documentation spells it.
    public var name: String { rawValue }

    /// The type of value the property holds.
    public var valueType: ValueType {
        switch self {
        case .deliveryCount, .enqueuedSequenceNumber, .sequenceNumber, .size: .int64
        case .enqueuedTimeUtc, .expiresAtUtc, .lockedUntilUtc, .scheduledEnqueueTimeUtc: .date
        case .timeToLive: .duration
        case .forcePersistence: .bool
        case .lockToken: .uuid
        case .contentType, .correlationId, .deadLetterSource, .label, .messageId, .partitionKey, .replyTo,
            .replyToSessionId, .sessionId, .to, .viaPartitionKey:
            .string
        }
    }

    /// Whether a rule action may set or remove it: the properties the documentation does not call read-only.
    public var isSettable: Bool {
        switch self {
        case .deadLetterSource, .deliveryCount, .enqueuedSequenceNumber, .enqueuedTimeUtc, .expiresAtUtc,
            .lockedUntilUtc, .lockToken, .sequenceNumber, .size:
            false
        case .contentType, .correlationId, .forcePersistence, .label, .messageId, .partitionKey, .replyTo,
            .replyToSessionId, .scheduledEnqueueTimeUtc, .sessionId, .timeToLive, .to, .viaPartitionKey:
            true
        }
    }

    private static let aliases: [String: SystemProperty] = [
        "subject": .label,
        "scheduledenqueuetime": .scheduledEnqueueTimeUtc,
        "enqueuedtime": .enqueuedTimeUtc,
        "expiresat": .expiresAtUtc,
        "lockeduntil": .lockedUntilUtc,
        "transactionpartitionkey": .viaPartitionKey,
    ]

    private static let byLowercasedName: [String: SystemProperty] = {
        var names = aliases
        for property in allCases {
            names[property.rawValue.lowercased()] = property
        }
        return names
    }()
}

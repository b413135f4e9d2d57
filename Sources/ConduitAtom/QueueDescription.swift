import Foundation

/// The properties of a queue: the `QueueDescription` element of the management API.
///
/// ``init()`` gives Azure's defaults, which are also what a PUT body that leaves an element out gets.
/// The runtime properties (``createdAt`` … ``countDetails``) are read-only: the broker fills them in for
/// responses, and values a client sends back in an update are read but carry no meaning.
public struct QueueDescription: Sendable, Hashable {
    /// How long a peek-lock holds a message. Default `PT1M`.
    public var lockDuration = ISO8601Duration.minutes(1)
    /// The maximum size of the queue in megabytes. Default 1024.
    public var maxSizeInMegabytes = 1024
    /// Whether duplicate detection is on. Default false.
    public var requiresDuplicateDetection = false
    /// Whether the queue is session-aware. Default false.
    public var requiresSession = false
    /// The time to live of messages that set none. Default ``ISO8601Duration/maximum`` (unlimited).
    public var defaultMessageTimeToLive = ISO8601Duration.maximum
    /// Whether expired messages go to the dead-letter queue. Default false.
    public var deadLetteringOnMessageExpiration = false
    /// How long duplicate detection remembers message ids. Default `PT10M`.
    public var duplicateDetectionHistoryTimeWindow = ISO8601Duration.minutes(10)
    /// Deliveries after which a message is dead-lettered. Default 10.
    public var maxDeliveryCount = 10
    /// Whether server-side batching is on. Default true.
    public var enableBatchedOperations = true
    /// Whether the queue can be used without authorization. Default false.
    public var isAnonymousAccessible = false
    /// The entity-level shared access rules. Default none.
    public var authorizationRules: [AuthorizationRule] = []
    /// The entity status. Default ``EntityStatus/active``.
    public var status = EntityStatus.active
    /// Free text the user attaches to the queue (at most 1024 characters on Azure). Default none.
    public var userMetadata: String?
    /// Whether the queue keeps ordering. Default true (Azure reports false for partitioned queues).
    public var supportOrdering = true
    /// Idle time after which the queue is deleted. Default ``ISO8601Duration/maximum`` (never).
    public var autoDeleteOnIdle = ISO8601Duration.maximum
    /// Whether the queue is partitioned. Default false.
    public var enablePartitioning = false
    /// Whether the queue is an express entity. Default false.
    public var enableExpress = false
    /// The entity to which every message is forwarded. Default none.
    public var forwardTo: String?
    /// The entity to which dead-lettered messages are forwarded. Default none.
    public var forwardDeadLetteredMessagesTo: String?
    /// The largest accepted message in kilobytes. Default 256 (Azure standard tier).
    public var maxMessageSizeInKilobytes = 256

    /// Read-only: when the queue was created.
    public var createdAt: Date?
    /// Read-only: when the queue's description was last changed.
    public var updatedAt: Date?
    /// Read-only: when a message was last sent or received; nil if never. Responses write it whenever it or
    /// ``countDetails`` is set, as `0001-01-01T00:00:00Z` (Azure's "never") when nil, like Azure's GET.
    public var accessedAt: Date?
    /// Read-only: the size of the stored messages in bytes. Written as 0 when nil.
    public var sizeInBytes: Int?
    /// Read-only: the number of messages. Written as 0 when nil.
    public var messageCount: Int?
    /// Read-only: the message counts by kind; written only when set (Azure includes it on GET).
    public var countDetails: MessageCountDetails?
    /// Read-only: the availability Azure reports. Default ``EntityAvailabilityStatus/available``.
    public var entityAvailabilityStatus = EntityAvailabilityStatus.available

    /// A queue with Azure's defaults.
    public init() {}
}

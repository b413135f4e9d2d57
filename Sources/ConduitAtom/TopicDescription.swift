import Foundation

/// The properties of a topic: the `TopicDescription` element of the management API.
///
/// ``init()`` gives Azure's defaults, which are also what a PUT body that leaves an element out gets.
/// The runtime properties (``createdAt`` … ``subscriptionCount``) are read-only.
public struct TopicDescription: Sendable, Hashable {
    /// The time to live of messages that set none. Default ``ISO8601Duration/maximum`` (unlimited).
    public var defaultMessageTimeToLive = ISO8601Duration.maximum
    /// The maximum size of the topic in megabytes. Default 1024.
    public var maxSizeInMegabytes = 1024
    /// Whether duplicate detection is on. Default false.
    public var requiresDuplicateDetection = false
    /// How long duplicate detection remembers message ids. Default `PT10M`.
    public var duplicateDetectionHistoryTimeWindow = ISO8601Duration.minutes(10)
    /// Whether server-side batching is on. Default true.
    public var enableBatchedOperations = true
    /// Whether messages are filtered before publishing. Default false.
    public var filteringMessagesBeforePublishing = false
    /// Whether the topic can be used without authorization. Default false.
    public var isAnonymousAccessible = false
    /// The entity-level shared access rules. Default none.
    public var authorizationRules: [AuthorizationRule] = []
    /// The entity status. Default ``EntityStatus/active``.
    public var status = EntityStatus.active
    /// Free text the user attaches to the topic. Default none.
    public var userMetadata: String?
    /// Whether the topic keeps ordering. Default true.
    public var supportOrdering = true
    /// Idle time after which the topic is deleted. Default ``ISO8601Duration/maximum`` (never).
    public var autoDeleteOnIdle = ISO8601Duration.maximum
    /// Whether the topic is partitioned. Default false.
    public var enablePartitioning = false
    /// Whether the topic's subscriptions are partitioned. Default false.
    public var enableSubscriptionPartitioning = false
    /// Whether the topic is an express entity. Default false.
    public var enableExpress = false
    /// The largest accepted message in kilobytes. Default 256 (Azure standard tier).
    public var maxMessageSizeInKilobytes = 256

    /// Read-only: when the topic was created.
    public var createdAt: Date?
    /// Read-only: when the topic's description was last changed.
    public var updatedAt: Date?
    /// Read-only: when a message was last sent; nil if never. Responses write it whenever it or
    /// ``countDetails`` is set, as `0001-01-01T00:00:00Z` (Azure's "never") when nil, like Azure's GET.
    public var accessedAt: Date?
    /// Read-only: the size of the stored messages in bytes. Written as 0 when nil.
    public var sizeInBytes: Int?
    /// Read-only: the message counts by kind; written only when set (Azure includes it on GET).
    public var countDetails: MessageCountDetails?
    /// Read-only: the number of subscriptions; written only when set (Azure includes it on GET).
    public var subscriptionCount: Int?
    /// Read-only: the availability Azure reports. Default ``EntityAvailabilityStatus/available``.
    public var entityAvailabilityStatus = EntityAvailabilityStatus.available

    /// A topic with Azure's defaults.
    public init() {}
}

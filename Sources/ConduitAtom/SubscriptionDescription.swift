import Foundation

/// The properties of a topic subscription: the `SubscriptionDescription` element of the management API.
///
/// ``init()`` gives Azure's defaults, which are also what a PUT body that leaves an element out gets.
/// The runtime properties (``messageCount`` … ``countDetails``) are read-only.
public struct SubscriptionDescription: Sendable, Hashable {
    /// How long a peek-lock holds a message. Default `PT1M`.
    public var lockDuration = ISO8601Duration.minutes(1)
    /// Whether the subscription is session-aware. Default false.
    public var requiresSession = false
    /// The time to live of messages that set none. Default ``ISO8601Duration/maximum`` (unlimited).
    public var defaultMessageTimeToLive = ISO8601Duration.maximum
    /// Whether expired messages go to the dead-letter queue. Default false.
    public var deadLetteringOnMessageExpiration = false
    /// Whether messages whose filter evaluation fails go to the dead-letter queue. Default true.
    public var deadLetteringOnFilterEvaluationExceptions = true
    /// The rule to create instead of `$Default` (a true filter); only sent on create, by the .NET client, as
    /// `DefaultRuleDescription`. Never part of a response.
    public var defaultRule: RuleDescription?
    /// Deliveries after which a message is dead-lettered. Default 10.
    public var maxDeliveryCount = 10
    /// Whether server-side batching is on. Default true.
    public var enableBatchedOperations = true
    /// The entity status. Default ``EntityStatus/active``.
    public var status = EntityStatus.active
    /// The entity to which every message is forwarded. Default none.
    public var forwardTo: String?
    /// Free text the user attaches to the subscription. Default none.
    public var userMetadata: String?
    /// The entity to which dead-lettered messages are forwarded. Default none.
    public var forwardDeadLetteredMessagesTo: String?
    /// Idle time after which the subscription is deleted. Default ``ISO8601Duration/maximum`` (never).
    public var autoDeleteOnIdle = ISO8601Duration.maximum

    /// Read-only: the number of messages. Written as 0 when nil.
    public var messageCount: Int?
    /// Read-only: when the subscription was created.
    public var createdAt: Date?
    /// Read-only: when the subscription's description was last changed.
    public var updatedAt: Date?
    /// Read-only: when a message was last received; nil if never. Responses always write it, as
    /// `0001-01-01T00:00:00Z` (Azure's "never") when nil; they also end with `IsClientAffine` false, as Azure's do.
    public var accessedAt: Date?
    /// Read-only: the message counts by kind; written only when set (Azure includes it on GET).
    public var countDetails: MessageCountDetails?
    /// Read-only: the availability Azure reports. Default ``EntityAvailabilityStatus/available``.
    public var entityAvailabilityStatus = EntityAvailabilityStatus.available

    /// A subscription with Azure's defaults.
    public init() {}
}

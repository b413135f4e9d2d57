/// A topic's settings: what applies to every message sent to it, before subscriptions copy it.
public struct TopicDescription: Sendable, Hashable, Codable {
    /// The topic's name (lower case; shares the namespace with queues).
    public var name: String
    /// How long a message lives when it sets no TTL of its own; `nil` for ever.
    public var defaultMessageTimeToLiveSeconds: Double?
    /// When set, a message whose `MessageId` was seen within this many seconds is accepted and dropped.
    public var duplicateDetectionWindowSeconds: Double?
    /// The topic's own SAS rules, valid for it and its subscriptions beside the namespace's.
    public var authorizationRules: [AuthorizationRule]?

    public init(
        name: String,
        defaultMessageTimeToLiveSeconds: Double? = nil,
        duplicateDetectionWindowSeconds: Double? = nil
    ) {
        self.name = name.lowercased()
        self.defaultMessageTimeToLiveSeconds = defaultMessageTimeToLiveSeconds
        self.duplicateDetectionWindowSeconds = duplicateDetectionWindowSeconds
    }

    /// Checks the name and the values; the error says which is wrong.
    public func validate() throws(BusError) {
        try QueueDescription(
            name: name,
            defaultMessageTimeToLiveSeconds: defaultMessageTimeToLiveSeconds,
            duplicateDetectionWindowSeconds: duplicateDetectionWindowSeconds
        ).validate(kind: "topic")
    }
}

/// A subscription's settings: those of the queue that holds its messages.
public struct SubscriptionDescription: Sendable, Hashable, Codable {
    public var topic: String
    public var name: String
    public var lockDurationSeconds: Double
    public var maxDeliveryCount: Int
    public var defaultMessageTimeToLiveSeconds: Double?
    public var deadLetteringOnMessageExpiration: Bool
    /// Auto-forwarding: the messages the subscription selects go on to this queue, topic or event hub.
    public var forwardTo: String?
    /// Whether its messages are received per session (they must carry a `SessionId`); `nil` is no.
    public var requiresSession: Bool?

    public init(
        topic: String,
        name: String,
        lockDurationSeconds: Double = 60,
        maxDeliveryCount: Int = 10,
        defaultMessageTimeToLiveSeconds: Double? = nil,
        deadLetteringOnMessageExpiration: Bool = false,
        forwardTo: String? = nil,
        requiresSession: Bool? = nil
    ) {
        self.forwardTo = forwardTo?.lowercased()
        self.requiresSession = requiresSession
        self.topic = topic.lowercased()
        self.name = name.lowercased()
        self.lockDurationSeconds = lockDurationSeconds
        self.maxDeliveryCount = maxDeliveryCount
        self.defaultMessageTimeToLiveSeconds = defaultMessageTimeToLiveSeconds
        self.deadLetteringOnMessageExpiration = deadLetteringOnMessageExpiration
    }

    /// The entity path of its messages: `<topic>/subscriptions/<name>`.
    public var path: String { TopicStore.subscriptionPath(topic: topic, subscription: name) }

    /// The settings of the queue that holds its messages.
    var queue: QueueDescription {
        var queue = QueueDescription(
            name: path,
            lockDurationSeconds: lockDurationSeconds,
            maxDeliveryCount: maxDeliveryCount,
            defaultMessageTimeToLiveSeconds: defaultMessageTimeToLiveSeconds,
            deadLetteringOnMessageExpiration: deadLetteringOnMessageExpiration,
            forwardTo: forwardTo
        )
        queue.requiresSession = requiresSession
        return queue
    }
}

/// A subscription rule: a filter and an optional action (reference: Azure's topic filters). Rules without an
/// action together put one copy of a matching message on the subscription; each matching rule with an action puts
/// its own copy, with the `RuleName` property.
public struct SubscriptionRule: Sendable, Hashable, Codable {
    /// The rule made with every subscription: a true filter.
    public static let defaultName = "$Default"

    public var name: String
    public var filter: RuleFilter
    public var action: SQLRuleAction?

    public init(name: String, filter: RuleFilter = .true, action: SQLRuleAction? = nil) {
        self.name = name
        self.filter = filter
        self.action = action
    }
}

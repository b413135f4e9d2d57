import Foundation

/// A message as a sender gives it: the body and the Service Bus system and user properties.
public struct BusMessage: Sendable, Hashable, Codable {
    public var body: Data
    public var messageId: String?
    public var contentType: String?
    public var correlationId: String?
    public var sessionId: String?
    public var label: String?
    public var to: String?
    public var replyTo: String?
    /// Event hubs: the key that picks the partition (the same key, the same partition).
    public var partitionKey: String?
    /// Seconds; `nil` takes the queue's default.
    public var timeToLiveSeconds: Double?
    /// Unix milliseconds before which the message is not delivered (a scheduled message).
    public var scheduledEnqueueTime: Int64?
    /// User (application) properties, typed as the REST and AMQP mappings give them.
    public var userProperties: [String: PropertyValue]

    public init(
        body: Data,
        messageId: String? = nil,
        contentType: String? = nil,
        correlationId: String? = nil,
        sessionId: String? = nil,
        label: String? = nil,
        to: String? = nil,
        replyTo: String? = nil,
        timeToLiveSeconds: Double? = nil,
        scheduledEnqueueTime: Int64? = nil,
        userProperties: [String: PropertyValue] = [:]
    ) {
        self.body = body
        self.messageId = messageId
        self.contentType = contentType
        self.correlationId = correlationId
        self.sessionId = sessionId
        self.label = label
        self.to = to
        self.replyTo = replyTo
        self.timeToLiveSeconds = timeToLiveSeconds
        self.scheduledEnqueueTime = scheduledEnqueueTime
        self.userProperties = userProperties
    }
}

/// A message as a receiver gets it.
public struct ReceivedMessage: Sendable, Hashable {
    public var message: BusMessage
    public var sequenceNumber: Int64
    /// Unix milliseconds.
    public var enqueuedTime: Int64
    /// Unix milliseconds; `nil` when it never expires.
    public var expiresAt: Int64?
    /// How often it has been delivered, this delivery included (1 on the first).
    public var deliveryCount: Int
    /// The peek-lock's token; `nil` for receive-and-delete.
    public var lockToken: UUID?
    /// Unix milliseconds; `nil` for receive-and-delete.
    public var lockedUntil: Int64?
    /// Set on dead-lettered messages.
    public var deadLetterReason: String?
    public var deadLetterErrorDescription: String?
    /// Whether its receiver deferred it (it is received only by its sequence number).
    public var isDeferred = false
}

extension ReceivedMessage {
    /// A message on its first delivery, locked for the receiver it is handed to as it is stored.
    static func handed(
        _ message: BusMessage,
        sequence: Int64,
        now: Int64,
        expires: Int64?,
        token: UUID,
        until: Int64
    ) -> ReceivedMessage {
        ReceivedMessage(
            message: message,
            sequenceNumber: sequence,
            enqueuedTime: now,
            expiresAt: expires,
            deliveryCount: 1,
            lockToken: token,
            lockedUntil: until,
            deadLetterReason: nil,
            deadLetterErrorDescription: nil,
            isDeferred: false
        )
    }
}

/// How many messages an entity holds.
public struct MessageCounts: Sendable, Hashable {
    /// Available or locked.
    public var active = 0
    /// Sent with a later enqueue time.
    public var scheduled = 0
    /// In the `$DeadLetterQueue` sub-queue.
    public var deadLettered = 0

    public init(active: Int = 0, scheduled: Int = 0, deadLettered: Int = 0) {
        self.active = active
        self.scheduled = scheduled
        self.deadLettered = deadLettered
    }

    /// All of them.
    public var total: Int { active + scheduled + deadLettered }
}

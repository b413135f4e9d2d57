/// A queue's settings, with Azure Service Bus's defaults and no fixed caps (limits come from configuration).
public struct QueueDescription: Sendable, Hashable, Codable {
    /// The queue's name (paths are case-insensitive, kept in lower case).
    public var name: String
    /// How long a peek-lock holds a message (Azure's default: 60 s).
    public var lockDurationSeconds: Double
    /// Deliveries after which a message goes to the dead-letter sub-queue (Azure's default: 10; any value ≥ 1).
    public var maxDeliveryCount: Int
    /// How long a message lives when it sets no TTL of its own; `nil` for ever.
    public var defaultMessageTimeToLiveSeconds: Double?
    /// Whether expired messages go to the dead-letter sub-queue (otherwise they are dropped).
    public var deadLetteringOnMessageExpiration: Bool
    /// When set, a message whose `MessageId` was seen within this many seconds is accepted and dropped.
    public var duplicateDetectionWindowSeconds: Double?
    /// Auto-forwarding: messages sent to this queue (or subscription) go on to this queue, topic or event hub.
    public var forwardTo: String?
    /// The queue's own SAS rules, valid for it beside the namespace's.
    public var authorizationRules: [AuthorizationRule]?
    /// Whether the queue holds sessions: every message carries a `SessionId`, and receivers take one session at a
    /// time (`nil` or false: no sessions).
    public var requiresSession: Bool?

    /// Whether the queue holds sessions.
    public var isSessionful: Bool { requiresSession == true }

    /// When a lock taken at `now` (Unix ms) on a message or session of this queue runs out.
    func lockedUntil(now: Int64) -> Int64 { now + Int64(lockDurationSeconds * 1000) }

    public init(
        name: String,
        lockDurationSeconds: Double = 60,
        maxDeliveryCount: Int = 10,
        defaultMessageTimeToLiveSeconds: Double? = nil,
        deadLetteringOnMessageExpiration: Bool = false,
        duplicateDetectionWindowSeconds: Double? = nil,
        forwardTo: String? = nil
    ) {
        self.forwardTo = forwardTo?.lowercased()
        self.name = name.lowercased()
        self.lockDurationSeconds = lockDurationSeconds
        self.maxDeliveryCount = maxDeliveryCount
        self.defaultMessageTimeToLiveSeconds = defaultMessageTimeToLiveSeconds
        self.deadLetteringOnMessageExpiration = deadLetteringOnMessageExpiration
        self.duplicateDetectionWindowSeconds = duplicateDetectionWindowSeconds
    }

    /// Checks the name and the values; the error says which is wrong.
    public func validate() throws(BusError) {
        try validate(kind: "queue")
    }

    /// Checks the name (of a `kind` of entity) and the values.
    func validate(kind: String, checksName: Bool = true) throws(BusError) {
        let allowed = name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)
        }
        guard !checksName || (!name.isEmpty && name.count <= 260 && allowed && !name.hasPrefix("$")) else {
            throw BusError(
                .badRequest,
                "'\(name)' is not a valid \(kind) name: use letters, digits, '-', '_' and '.' (at most 260 characters)."
            )
        }
        guard lockDurationSeconds > 0, lockDurationSeconds.isFinite else {
            throw BusError(.badRequest, "The lock duration must be a positive number of seconds.")
        }
        guard maxDeliveryCount >= 1 else {
            throw BusError(.badRequest, "The maximum delivery count must be at least 1, not \(maxDeliveryCount).")
        }
        if let ttl = defaultMessageTimeToLiveSeconds, !(ttl > 0 && ttl.isFinite) {
            throw BusError(.badRequest, "The default message time to live must be a positive number of seconds.")
        }
        if let forwardTo, forwardTo == name {
            throw BusError(.badRequest, "The \(kind) '\(name)' cannot forward to itself.")
        }
        if let window = duplicateDetectionWindowSeconds, !(window > 0 && window.isFinite) {
            throw BusError(.badRequest, "The duplicate detection window must be a positive number of seconds.")
        }
    }
}

/// An error of the bus, with the HTTP status the REST data plane answers with.
public struct BusError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case badRequest
        /// The entity does not exist (410 Gone, as Service Bus REST answers).
        case entityNotFound
        /// No message holds that lock token, or its lock expired (404).
        case lockLost
        /// Another receiver holds the session's lock (or it is not held any more).
        case sessionLocked
        /// The entity exists already (409).
        case conflict
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var httpStatus: Int {
        switch kind {
        case .badRequest: 400
        case .entityNotFound: 410
        case .lockLost: 404
        case .sessionLocked: 409
        case .conflict: 409
        }
    }

    public var description: String { message }
}

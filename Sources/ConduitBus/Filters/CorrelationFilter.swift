/// A correlation filter: a set of property values a message must all have (see "Topic filters and actions",
/// `topic-filters`).
///
/// Each system field that is set must equal the message's property, string comparison being case-sensitive;
/// each entry of ``properties`` must equal the message's user property of that name (names ignore case, as
/// everywhere in the rule language; numbers compare by value). The conditions combine with AND, so a filter
/// with nothing set matches every message.
public struct CorrelationFilter: Sendable, Hashable, Codable {
    /// `CorrelationId` to match.
    public var correlationId: String?
    /// `MessageId` to match.
    public var messageId: String?
    /// `To` to match.
    public var to: String?
    /// `ReplyTo` to match.
    public var replyTo: String?
    /// `Subject` (`Label`) to match.
    public var subject: String?
    /// `SessionId` to match.
    public var sessionId: String?
    /// `ReplyToSessionId` to match.
    public var replyToSessionId: String?
    /// `ContentType` to match.
    public var contentType: String?
    /// User properties to match, by name.
    public var properties: [String: PropertyValue]

    /// `Label`, the older name of ``subject``.
    public var label: String? {
        get { subject }
        set { subject = newValue }
    }

    /// Makes a filter from the values to match.
    public init(
        correlationId: String? = nil,
        messageId: String? = nil,
        to: String? = nil,
        replyTo: String? = nil,
        subject: String? = nil,
        sessionId: String? = nil,
        replyToSessionId: String? = nil,
        contentType: String? = nil,
        properties: [String: PropertyValue] = [:]
    ) {
        self.correlationId = correlationId
        self.messageId = messageId
        self.to = to
        self.replyTo = replyTo
        self.subject = subject
        self.sessionId = sessionId
        self.replyToSessionId = replyToSessionId
        self.contentType = contentType
        self.properties = properties
    }

    /// The system properties the filter sets, with the values to match.
    public var systemConditions: [(SystemProperty, String)] {
        let fields: [(SystemProperty, String?)] = [
            (.correlationId, correlationId), (.messageId, messageId), (.to, to), (.replyTo, replyTo),
            (.label, subject), (.sessionId, sessionId), (.replyToSessionId, replyToSessionId),
            (.contentType, contentType),
        ]
        return fields.compactMap { property, value in value.map { (property, $0) } }
    }

    /// Whether every condition holds for the message.
    public func matches(_ message: FilteredMessage) -> Bool {
        for (property, expected) in systemConditions {
            guard let actual = message[system: property], actual.correlates(with: .string(expected)) else {
                return false
            }
        }
        for (name, expected) in properties {
            guard let actual = message.value(of: .user(name)), actual.correlates(with: expected) else {
                return false
            }
        }
        return true
    }
}

/// A correlation filter, matching system properties and application properties for equality.
///
/// Wire children, in order: `CorrelationId`, `MessageId`, `To`, `ReplyTo`, `Label` (the subject), `SessionId`,
/// `ReplyToSessionId`, `ContentType`, `Properties`.
public struct CorrelationRuleFilter: Sendable, Hashable {
    /// The correlation id to match.
    public var correlationId: String?
    /// The message id to match.
    public var messageId: String?
    /// The `To` address to match.
    public var to: String?
    /// The reply-to address to match.
    public var replyTo: String?
    /// The label (subject) to match; written as `Label`.
    public var label: String?
    /// The session id to match.
    public var sessionId: String?
    /// The reply-to session id to match.
    public var replyToSessionId: String?
    /// The content type to match.
    public var contentType: String?
    /// Application properties to match, in the order given.
    public var properties: [RuleKeyValue] = []

    /// Creates an empty correlation filter.
    public init() {}

    init(decoding node: XMLNode, reader: FieldReader) throws(ManagementCodecError) {
        for child in node.children {
            switch child.localName {
            case "CorrelationId": correlationId = child.text
            case "MessageId": messageId = child.text
            case "To": to = child.text
            case "ReplyTo": replyTo = child.text
            case "Label": label = child.text
            case "SessionId": sessionId = child.text
            case "ReplyToSessionId": replyToSessionId = child.text
            case "ContentType": contentType = child.text
            case "Properties": properties = try RuleKeyValue.decodeList(child, reader: reader)
            default: continue
            }
        }
    }

    func write(to writer: inout XMLWriter) {
        writer.optionalLeaf("CorrelationId", correlationId)
        writer.optionalLeaf("MessageId", messageId)
        writer.optionalLeaf("To", to)
        writer.optionalLeaf("ReplyTo", replyTo)
        writer.optionalLeaf("Label", label)
        writer.optionalLeaf("SessionId", sessionId)
        writer.optionalLeaf("ReplyToSessionId", replyToSessionId)
        writer.optionalLeaf("ContentType", contentType)
        RuleKeyValue.writeList("Properties", properties, to: &writer)
    }
}

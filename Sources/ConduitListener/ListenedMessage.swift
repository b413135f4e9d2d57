import ConduitAMQP
import ConduitContext

/// A message as a listener reads it, whatever the transport.
public struct ListenedMessage: Sendable {
    public var body: [UInt8]
    public var contentType: String?
    public var messageId: String?
    public var sequenceNumber: Int64?
    /// Whether the context was truncated to fit 192 KB (the `MessageMaxSizeExceeded` property).
    public var isTruncated: Bool

    public init(body: [UInt8], contentType: String?, messageId: String?, sequenceNumber: Int64?, isTruncated: Bool) {
        self.body = body
        self.contentType = contentType
        self.messageId = messageId
        self.sequenceNumber = sequenceNumber
        self.isTruncated = isTruncated
    }

    public init(_ message: AMQPMessage) {
        switch message.body {
        case .data(let sections): body = sections.flatMap { $0 }
        case .value(.binary(let bytes)): body = bytes
        case .value(.string(let text)): body = Array(text.utf8)
        default: body = []
        }
        contentType = message.properties?.contentType
        messageId = message.properties?.messageId.text
        if case .long(let number)? = message[annotation: "x-opt-sequence-number"] { sequenceNumber = number }
        isTruncated = message.applicationProperty("MessageMaxSizeExceeded") != nil
    }

    /// A request relayed through a hybrid connection: its body, `Content-Type`, and the `x-conduit-message-id` and
    /// `x-ms-dynamics-msg-size-exceeded` headers of a Conduit post.
    public init(relayed request: RelayListener.Request) {
        body = request.body
        contentType = request.header("Content-Type")
        messageId = request.header("x-conduit-message-id")
        sequenceNumber = nil
        isTruncated = request.header("x-ms-dynamics-msg-size-exceeded") != nil
    }

    /// The execution context in the body, decoded by the content type, and its format.
    /// - Throws: ``ListenerError`` when the content type is not a context's or the body does not decode.
    public func decodedContext() throws(ListenerError) -> (context: RemoteExecutionContext, format: WireFormat) {
        guard let type = contentType, let format = WireFormat(contentType: type) else {
            throw ListenerError(
                "message \(messageId ?? "?") has the content type '\(contentType ?? "none")', not an execution context (application/msbin1, application/json or application/xml)"
            )
        }
        do {
            return (try ContextCodec.decode(body, format: format), format)
        } catch {
            throw ListenerError("message \(messageId ?? "?") is not a readable \(format.rawValue) context: \(error)")
        }
    }
}

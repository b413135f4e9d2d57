/// The payload-size rule Dataverse applies before posting (reference §8).
///
/// The body is measured as it will be sent: the serialized `RemoteExecutionContext` in the endpoint's format,
/// counted in bytes (the message body only: not broker properties, HTTP headers or AMQP framing). A body of exactly
/// the limit fits. Above it, `ParentContext`, `InputParameters`, `PreEntityImages` and `PostEntityImages` are
/// removed and the body measured again: if it now fits it is sent marked as truncated (Service Bus adds
/// `MessageMaxSizeExceeded`, webhooks `x-ms-dynamics-msg-size-exceeded`); if not, nothing is sent and
/// ``PayloadTooLargeError`` says why.
///
/// ```swift
/// let payload = try PayloadSizePolicy.serviceBus.apply(to: context, format: .binary)
/// if payload.isTruncated { /* add MessageMaxSizeExceeded */ }
/// ```
public struct PayloadSizePolicy: Hashable, Sendable {
    /// The largest body, in bytes, sent whole.
    public var limit: Int

    /// 192 KB (196,608 bytes): queues, topics, event hubs and relays.
    public static let serviceBus = PayloadSizePolicy(limit: 192 * 1024)
    /// 256 KB (262,144 bytes): webhooks.
    public static let webhook = PayloadSizePolicy(limit: 256 * 1024)

    /// Creates a policy with a limit in bytes.
    public init(limit: Int) {
        self.limit = limit
    }

    /// Serializes `context` in `format` and applies the rule.
    /// - Throws: ``PayloadTooLargeError`` when even the truncated body is above the limit.
    public func apply(
        to context: RemoteExecutionContext,
        format: WireFormat,
        options: ContextEncodingOptions = ContextEncodingOptions()
    ) throws(PayloadTooLargeError) -> SizedPayload {
        let body = ContextCodec.encode(context, format: format, options: options)
        if body.count <= limit {
            return SizedPayload(body: body, context: context, isTruncated: false, originalSize: body.count)
        }
        let truncated = PayloadSizePolicy.truncate(context)
        let smaller = ContextCodec.encode(truncated, format: format, options: options)
        guard smaller.count <= limit else {
            throw PayloadTooLargeError(
                format: format,
                originalSize: body.count,
                truncatedSize: smaller.count,
                limit: limit
            )
        }
        return SizedPayload(body: smaller, context: truncated, isTruncated: true, originalSize: body.count)
    }

    /// The context with `ParentContext`, `InputParameters`, `PreEntityImages` and `PostEntityImages` removed.
    public static func truncate(_ context: RemoteExecutionContext) -> RemoteExecutionContext {
        var copy = context
        copy.parentContext = nil
        copy.inputParameters = []
        copy.preEntityImages = []
        copy.postEntityImages = []
        return copy
    }
}

/// A body ready to send, after the size rule.
public struct SizedPayload: Hashable, Sendable {
    /// The bytes to send.
    public var body: [UInt8]
    /// The context the body holds (the truncated one when ``isTruncated``).
    public var context: RemoteExecutionContext
    /// `true` when ParentContext, InputParameters and the images were removed to fit.
    public var isTruncated: Bool
    /// The size before truncation, in bytes.
    public var originalSize: Int
}

/// Even without ParentContext, InputParameters and the images, the body is above the limit: Dataverse sends
/// nothing, and the system job fails without retrying.
public struct PayloadTooLargeError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The format measured.
    public var format: WireFormat
    /// The full body's size in bytes.
    public var originalSize: Int
    /// The size after removing ParentContext, InputParameters, PreEntityImages and PostEntityImages.
    public var truncatedSize: Int
    /// The limit in bytes.
    public var limit: Int

    public var description: String {
        "the \(format.displayName) execution context is \(originalSize) bytes, and still \(truncatedSize) bytes "
            + "without ParentContext, InputParameters, PreEntityImages and PostEntityImages: above the "
            + "\(limit)-byte (\(limit / 1024) KB) limit, so it was not sent. Make the step send fewer columns "
            + "(filtering attributes, image columns) or shorten the data in OutputParameters and SharedVariables."
    }
}

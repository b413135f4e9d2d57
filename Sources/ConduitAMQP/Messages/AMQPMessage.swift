/// A message in format 0 (AMQP 1.0 part 3.2), as the payload of a transfer carries it: a header and annotations for
/// the transport, the bare message (properties, application properties, body) and a footer.
///
/// ```swift
/// var message = AMQPMessage(body: .data([Array("hello".utf8)]))
/// message.header = AMQPMessage.Header(deliveryCount: 0)
/// message.properties = AMQPMessage.Properties(messageId: .string("order-1"))
/// var payload = try message.encoded()
/// let received = try AMQPMessage.decode(&payload)
/// ```
///
/// Every section is optional on the wire. A message read from bytes holds exactly the sections those bytes had, so
/// it can be written again with the same meaning (the encoding may be smaller or larger: see ``encode(into:)``).
public struct AMQPMessage: Sendable, Hashable {
    /// The transport header (`amqp:header:list`, 0x70): durability, priority, time to live, delivery count.
    public var header: Header?
    /// Annotations for the next hop only (`amqp:delivery-annotations:map`, 0x71), such as `x-opt-lock-token`.
    public var deliveryAnnotations: [AMQPMapEntry]?
    /// Annotations that travel with the message (`amqp:message-annotations:map`, 0x72), keyed by symbols such as
    /// `x-opt-partition-key` or `x-opt-sequence-number`.
    public var messageAnnotations: [AMQPMapEntry]?
    /// The immutable standard properties (`amqp:properties:list`, 0x73): message id, to, subject, group id, ….
    public var properties: Properties?
    /// The application's properties (`amqp:application-properties:map`, 0x74), keyed by strings.
    public var applicationProperties: [AMQPMapEntry]?
    /// The application data: data sections, amqp-sequence sections or one amqp-value section.
    public var body: Body
    /// Annotations after the body (`amqp:footer:map`, 0x78), such as hashes or signatures.
    public var footer: [AMQPMapEntry]?

    /// The body of a message: one of the three kinds of body sections, which a message does not mix.
    public enum Body: Sendable, Hashable {
        /// Data sections (`amqp:data:binary`, 0x75), one per element, each opaque bytes. `.data([])` is a message
        /// with no body section at all, which some clients send (an Event Hubs `$management` request).
        case data([[UInt8]])
        /// One amqp-value section (`amqp:amqp-value:*`, 0x77): a single AMQP value of any type.
        case value(AMQPValue)
        /// Amqp-sequence sections (`amqp:amqp-sequence:list`, 0x76), one per element, each a list of values.
        case sequence([[AMQPValue]])
    }

    /// A message made of the given sections; with no arguments, a message with no sections at all.
    ///
    /// ```swift
    /// let text = AMQPMessage(body: .value(.string("SharedAccessSignature sr=…")))
    /// ```
    public init(
        header: Header? = nil,
        deliveryAnnotations: [AMQPMapEntry]? = nil,
        messageAnnotations: [AMQPMapEntry]? = nil,
        properties: Properties? = nil,
        applicationProperties: [AMQPMapEntry]? = nil,
        body: Body = .data([]),
        footer: [AMQPMapEntry]? = nil
    ) {
        self.header = header
        self.deliveryAnnotations = deliveryAnnotations
        self.messageAnnotations = messageAnnotations
        self.properties = properties
        self.applicationProperties = applicationProperties
        self.body = body
        self.footer = footer
    }

    /// The message annotation whose key is the symbol `key` (`message[annotation: "x-opt-partition-key"]`).
    ///
    /// Setting a value replaces the entry with that key or appends one; setting `nil` removes it, and the section
    /// with it when it was the last entry (an absent section means the same as an empty map).
    public subscript(annotation key: String) -> AMQPValue? {
        get { messageAnnotations?.first { $0.key == .symbol(key) }?.value }
        set {
            var entries = messageAnnotations ?? []
            if let newValue {
                if let index = entries.firstIndex(where: { $0.key == .symbol(key) }) {
                    entries[index].value = newValue
                } else {
                    entries.append(AMQPMapEntry(.symbol(key), newValue))
                }
            } else {
                entries.removeAll { $0.key == .symbol(key) }
            }
            messageAnnotations = entries.isEmpty ? nil : entries
        }
    }

    /// The application property named `name`: the entry whose key is the string `name`, or else the symbol `name`
    /// (the spec asks for string keys, but some clients send symbols).
    public func applicationProperty(_ name: String) -> AMQPValue? {
        guard let entries = applicationProperties else { return nil }
        return entries.first { $0.key == .string(name) }?.value ?? entries.first { $0.key == .symbol(name) }?.value
    }
}

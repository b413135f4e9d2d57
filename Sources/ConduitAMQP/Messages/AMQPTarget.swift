/// The target terminus of a link (`amqp:target:list`, 0x29; AMQP 1.0 part 3.5.4), as `attach` carries it: the node
/// messages go to.
///
/// A transaction coordinator target (`amqp:coordinator:list`, 0x30) is not a target and is refused.
///
/// ```swift
/// let target = try AMQPTarget(attach.target)
/// let entity = target.address  // "amqps://host/queue", "$cbs", …
/// ```
public struct AMQPTarget: Sendable, Hashable {
    /// The address of the node. Read from a string or a symbol (some clients send a symbol); written as a string.
    public var address: String?
    /// The terminus durability: 0 none (default), 1 configuration, 2 unsettled-state.
    public var durable: UInt32?
    /// When the terminus expires: `link-detach`, `session-end` (default), `connection-close` or `never`.
    public var expiryPolicy: String?
    /// How long the terminus lives after its expiry event, in seconds (default 0).
    public var timeout: UInt32?
    /// Whether the peer asks for a node to be created (default `false`).
    public var dynamic: Bool?
    /// Properties of the dynamic node (`lifetime-policy`, `supported-dist-modes`), keyed by symbols.
    public var dynamicNodeProperties: [AMQPMapEntry]?
    /// The capabilities the target has or the sender desires.
    public var capabilities: [String]?

    /// The descriptor code of `amqp:target:list`.
    public static let code: UInt64 = 0x29

    /// A target with the given fields.
    public init(
        address: String? = nil,
        durable: UInt32? = nil,
        expiryPolicy: String? = nil,
        timeout: UInt32? = nil,
        dynamic: Bool? = nil,
        dynamicNodeProperties: [AMQPMapEntry]? = nil,
        capabilities: [String]? = nil
    ) {
        self.address = address
        self.durable = durable
        self.expiryPolicy = expiryPolicy
        self.timeout = timeout
        self.dynamic = dynamic
        self.dynamicNodeProperties = dynamicNodeProperties
        self.capabilities = capabilities
    }

    /// Reads a target (an `attach`'s `target` field, when it is not null). The descriptor may be the code or
    /// `amqp:target:list`; fields left out at the end read as absent.
    /// - Throws: ``AMQPDecodingError`` for a value that is not a target, or a field of the wrong type (named).
    public init(_ value: AMQPValue) throws(AMQPDecodingError) {
        let f = try AMQPFields(value, code: Self.code, name: "target")
        self.address = try f.anyString(0, "address")
        self.durable = try f.uint(1, "durable")
        self.expiryPolicy = try f.symbol(2, "expiry-policy")
        self.timeout = try f.uint(3, "timeout")
        self.dynamic = try f.bool(4, "dynamic")
        self.dynamicNodeProperties = try f.map(5, "dynamic-node-properties")
        self.capabilities = try f.symbols(6, "capabilities")
    }

    /// The target as a described list with all 7 fields written (explicit nulls).
    public var value: AMQPValue {
        .composite(
            Self.code,
            [
                .optional(address), .optional(durable), .optional(expiryPolicy, symbol: true), .optional(timeout),
                .optional(dynamic), .optional(map: dynamicNodeProperties), .optional(symbols: capabilities),
            ]
        )
    }
}

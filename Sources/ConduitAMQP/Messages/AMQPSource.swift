/// The source terminus of a link (`amqp:source:list`, 0x28; AMQP 1.0 part 3.5.3), as `attach` carries it: the
/// node messages come from, and how a receiver wants them (filters, outcomes).
///
/// ```swift
/// let source = try AMQPSource(attach.source)
/// let entity = source.address            // "amqps://host/queue" or "queue"
/// let start = source.selector            // "amqp.annotation.x-opt-offset > '-1'" for an Event Hubs reader
/// ```
public struct AMQPSource: Sendable, Hashable {
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
    /// The distribution mode: `move` or `copy`.
    public var distributionMode: String?
    /// The filter-set: symbol keys, each value null or a described filter (such as
    /// `apache.org:selector-filter:string` or Service Bus's `com.microsoft:session-filter`), kept as values.
    public var filter: [AMQPMapEntry]?
    /// The outcome for deliveries the receiver never settles: null, or a described outcome.
    public var defaultOutcome: AMQPValue
    /// The outcomes the receiver supports (descriptor symbols such as `amqp:accepted:list`).
    public var outcomes: [String]?
    /// The capabilities the source has or the receiver desires.
    public var capabilities: [String]?

    /// The descriptor code of `amqp:source:list`.
    public static let code: UInt64 = 0x28
    /// The key and descriptor of the JMS-style selector filter (Event Hubs start positions).
    public static let selectorFilter = "apache.org:selector-filter:string"
    /// The numeric descriptor of the selector filter (`0x0000468C:0x00000004`), which real Event Hubs writes.
    public static let selectorFilterCode: UInt64 = 0x0000_468C_0000_0004

    /// A source with the given fields.
    public init(
        address: String? = nil,
        durable: UInt32? = nil,
        expiryPolicy: String? = nil,
        timeout: UInt32? = nil,
        dynamic: Bool? = nil,
        dynamicNodeProperties: [AMQPMapEntry]? = nil,
        distributionMode: String? = nil,
        filter: [AMQPMapEntry]? = nil,
        defaultOutcome: AMQPValue = .null,
        outcomes: [String]? = nil,
        capabilities: [String]? = nil
    ) {
        self.address = address
        self.durable = durable
        self.expiryPolicy = expiryPolicy
        self.timeout = timeout
        self.dynamic = dynamic
        self.dynamicNodeProperties = dynamicNodeProperties
        self.distributionMode = distributionMode
        self.filter = filter
        self.defaultOutcome = defaultOutcome
        self.outcomes = outcomes
        self.capabilities = capabilities
    }

    /// Reads a source (an `attach`'s `source` field, when it is not null). The descriptor may be the code or
    /// `amqp:source:list`; fields left out at the end read as absent.
    /// - Throws: ``AMQPDecodingError`` for a value that is not a source, or a field of the wrong type (named).
    public init(_ value: AMQPValue) throws(AMQPDecodingError) {
        let f = try AMQPFields(value, code: Self.code, name: "source")
        self.address = try f.anyString(0, "address")
        self.durable = try f.uint(1, "durable")
        self.expiryPolicy = try f.symbol(2, "expiry-policy")
        self.timeout = try f.uint(3, "timeout")
        self.dynamic = try f.bool(4, "dynamic")
        self.dynamicNodeProperties = try f.map(5, "dynamic-node-properties")
        self.distributionMode = try f.symbol(6, "distribution-mode")
        self.filter = try f.map(7, "filter")
        self.defaultOutcome = f[8]
        self.outcomes = try f.symbols(9, "outcomes")
        self.capabilities = try f.symbols(10, "capabilities")
    }

    /// The source as a described list with all 11 fields written (explicit nulls).
    public var value: AMQPValue {
        .composite(
            Self.code,
            [
                .optional(address), .optional(durable), .optional(expiryPolicy, symbol: true), .optional(timeout),
                .optional(dynamic), .optional(map: dynamicNodeProperties), .optional(distributionMode, symbol: true),
                .optional(map: filter), defaultOutcome, .optional(symbols: outcomes), .optional(symbols: capabilities),
            ]
        )
    }

    /// The filter whose key is the symbol `name`, if the filter-set has it.
    public func filter(named name: String) -> AMQPValue? {
        filter?.first { $0.key == .symbol(name) }?.value
    }

    /// The expression of the first selector filter in the filter-set (a string described by
    /// ``selectorFilter`` or ``selectorFilterCode``, under any key), as Event Hubs readers send their start position.
    public var selector: String? {
        for entry in filter ?? [] {
            switch entry.value {
            case .described(.symbol(Self.selectorFilter), .string(let expression)),
                .described(.ulong(Self.selectorFilterCode), .string(let expression)):
                return expression
            default: continue
            }
        }
        return nil
    }
}

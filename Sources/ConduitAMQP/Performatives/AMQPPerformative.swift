import NIOCore

/// The AMQP 1.0 performatives (part 2.7), each with every field, in order. Source, target and delivery states are
/// kept as values for now.
public enum AMQPPerformative: Sendable, Hashable {
    case open(Open)
    case begin(Begin)
    case attach(Attach)
    case flow(Flow)
    case transfer(Transfer)
    case disposition(Disposition)
    case detach(Detach)
    case end(AMQPError?)
    case close(AMQPError?)

    public struct Open: Sendable, Hashable {
        public var containerId: String
        public var hostname: String?
        public var maxFrameSize: UInt32?
        public var channelMax: UInt16?
        /// Milliseconds.
        public var idleTimeOut: UInt32?
        public var outgoingLocales: [String]?
        public var incomingLocales: [String]?
        public var offeredCapabilities: [String]?
        public var desiredCapabilities: [String]?
        public var properties: [AMQPMapEntry]?

        public init(containerId: String, hostname: String? = nil, maxFrameSize: UInt32? = nil) {
            self.containerId = containerId
            self.hostname = hostname
            self.maxFrameSize = maxFrameSize
        }
    }

    public struct Begin: Sendable, Hashable {
        public var remoteChannel: UInt16?
        public var nextOutgoingId: UInt32
        public var incomingWindow: UInt32
        public var outgoingWindow: UInt32
        public var handleMax: UInt32?
        public var offeredCapabilities: [String]?
        public var desiredCapabilities: [String]?
        public var properties: [AMQPMapEntry]?

        public init(
            remoteChannel: UInt16? = nil,
            nextOutgoingId: UInt32,
            incomingWindow: UInt32,
            outgoingWindow: UInt32
        ) {
            self.remoteChannel = remoteChannel
            self.nextOutgoingId = nextOutgoingId
            self.incomingWindow = incomingWindow
            self.outgoingWindow = outgoingWindow
        }
    }

    public struct Attach: Sendable, Hashable {
        public var name: String
        public var handle: UInt32
        /// `false` sender, `true` receiver.
        public var role: Bool
        public var senderSettleMode: UInt8?
        public var receiverSettleMode: UInt8?
        public var source: AMQPValue
        public var target: AMQPValue
        public var unsettled: [AMQPMapEntry]?
        public var incompleteUnsettled: Bool?
        public var initialDeliveryCount: UInt32?
        public var maxMessageSize: UInt64?
        public var offeredCapabilities: [String]?
        public var desiredCapabilities: [String]?
        public var properties: [AMQPMapEntry]?

        public init(name: String, handle: UInt32, role: Bool, source: AMQPValue = .null, target: AMQPValue = .null) {
            self.name = name
            self.handle = handle
            self.role = role
            self.source = source
            self.target = target
        }
    }

    public struct Flow: Sendable, Hashable {
        public var nextIncomingId: UInt32?
        public var incomingWindow: UInt32
        public var nextOutgoingId: UInt32
        public var outgoingWindow: UInt32
        public var handle: UInt32?
        public var deliveryCount: UInt32?
        public var linkCredit: UInt32?
        public var available: UInt32?
        public var drain: Bool?
        public var echo: Bool?
        public var properties: [AMQPMapEntry]?

        public init(incomingWindow: UInt32, nextOutgoingId: UInt32, outgoingWindow: UInt32) {
            self.incomingWindow = incomingWindow
            self.nextOutgoingId = nextOutgoingId
            self.outgoingWindow = outgoingWindow
        }
    }

    public struct Transfer: Sendable, Hashable {
        public var handle: UInt32
        public var deliveryId: UInt32?
        public var deliveryTag: [UInt8]?
        public var messageFormat: UInt32?
        public var settled: Bool?
        public var more: Bool?
        public var receiverSettleMode: UInt8?
        public var state: AMQPValue
        public var resume: Bool?
        public var aborted: Bool?
        public var batchable: Bool?

        public init(handle: UInt32, deliveryId: UInt32? = nil, deliveryTag: [UInt8]? = nil, state: AMQPValue = .null) {
            self.handle = handle
            self.deliveryId = deliveryId
            self.deliveryTag = deliveryTag
            self.state = state
        }
    }

    public struct Disposition: Sendable, Hashable {
        public var role: Bool
        public var first: UInt32
        public var last: UInt32?
        public var settled: Bool?
        public var state: AMQPValue
        public var batchable: Bool?

        public init(role: Bool, first: UInt32, last: UInt32? = nil, settled: Bool? = nil, state: AMQPValue = .null) {
            self.role = role
            self.first = first
            self.last = last
            self.settled = settled
            self.state = state
        }
    }

    public struct Detach: Sendable, Hashable {
        public var handle: UInt32
        public var closed: Bool?
        public var error: AMQPError?

        public init(handle: UInt32, closed: Bool? = nil, error: AMQPError? = nil) {
            self.handle = handle
            self.closed = closed
            self.error = error
        }
    }

    /// Reads a performative from a frame body's first value.
    public init(_ value: AMQPValue) throws(AMQPDecodingError) {
        guard case .described(let descriptor, _) = value else {
            throw AMQPDecodingError("a frame body must start with a described performative, not \(value)", offset: 0)
        }
        let code: UInt64
        switch descriptor {
        case .ulong(let number): code = number
        case .symbol(let name):
            guard let known = Self.names.first(where: { "amqp:\($0.value):list" == name })?.key else {
                throw AMQPDecodingError("\(name) is not a performative", offset: 0)
            }
            code = known
        default: throw AMQPDecodingError("\(descriptor) is not a performative descriptor", offset: 0)
        }
        guard let name = Self.names[code] else {
            throw AMQPDecodingError("0x\(String(code, radix: 16)) is not a performative", offset: 0)
        }
        let f = try AMQPFields(value, code: code, name: name)
        switch code {
        case 0x10:
            var open = Open(containerId: try f.requiredString(0, "container-id"))
            open.hostname = try f.string(1, "hostname")
            open.maxFrameSize = try f.uint(2, "max-frame-size")
            open.channelMax = try f.ushort(3, "channel-max")
            open.idleTimeOut = try f.uint(4, "idle-time-out")
            open.outgoingLocales = try f.symbols(5, "outgoing-locales")
            open.incomingLocales = try f.symbols(6, "incoming-locales")
            open.offeredCapabilities = try f.symbols(7, "offered-capabilities")
            open.desiredCapabilities = try f.symbols(8, "desired-capabilities")
            open.properties = try f.map(9, "properties")
            self = .open(open)
        case 0x11:
            var begin = Begin(
                remoteChannel: try f.ushort(0, "remote-channel"),
                nextOutgoingId: try f.requiredUInt(1, "next-outgoing-id"),
                incomingWindow: try f.requiredUInt(2, "incoming-window"),
                outgoingWindow: try f.requiredUInt(3, "outgoing-window")
            )
            begin.handleMax = try f.uint(4, "handle-max")
            begin.offeredCapabilities = try f.symbols(5, "offered-capabilities")
            begin.desiredCapabilities = try f.symbols(6, "desired-capabilities")
            begin.properties = try f.map(7, "properties")
            self = .begin(begin)
        case 0x12:
            var attach = Attach(
                name: try f.requiredString(0, "name"),
                handle: try f.requiredUInt(1, "handle"),
                role: try f.requiredBool(2, "role"),
                source: f[5],
                target: f[6]
            )
            attach.senderSettleMode = try f.ubyte(3, "snd-settle-mode")
            attach.receiverSettleMode = try f.ubyte(4, "rcv-settle-mode")
            attach.unsettled = try f.map(7, "unsettled")
            attach.incompleteUnsettled = try f.bool(8, "incomplete-unsettled")
            attach.initialDeliveryCount = try f.uint(9, "initial-delivery-count")
            attach.maxMessageSize = try f.ulong(10, "max-message-size")
            attach.offeredCapabilities = try f.symbols(11, "offered-capabilities")
            attach.desiredCapabilities = try f.symbols(12, "desired-capabilities")
            attach.properties = try f.map(13, "properties")
            self = .attach(attach)
        case 0x13:
            var flow = Flow(
                incomingWindow: try f.requiredUInt(1, "incoming-window"),
                nextOutgoingId: try f.requiredUInt(2, "next-outgoing-id"),
                outgoingWindow: try f.requiredUInt(3, "outgoing-window")
            )
            flow.nextIncomingId = try f.uint(0, "next-incoming-id")
            flow.handle = try f.uint(4, "handle")
            flow.deliveryCount = try f.uint(5, "delivery-count")
            flow.linkCredit = try f.uint(6, "link-credit")
            flow.available = try f.uint(7, "available")
            flow.drain = try f.bool(8, "drain")
            flow.echo = try f.bool(9, "echo")
            flow.properties = try f.map(10, "properties")
            self = .flow(flow)
        case 0x14:
            var transfer = Transfer(
                handle: try f.requiredUInt(0, "handle"),
                deliveryId: try f.uint(1, "delivery-id"),
                deliveryTag: try f.binary(2, "delivery-tag"),
                state: f[7]
            )
            transfer.messageFormat = try f.uint(3, "message-format")
            transfer.settled = try f.bool(4, "settled")
            transfer.more = try f.bool(5, "more")
            transfer.receiverSettleMode = try f.ubyte(6, "rcv-settle-mode")
            transfer.resume = try f.bool(8, "resume")
            transfer.aborted = try f.bool(9, "aborted")
            transfer.batchable = try f.bool(10, "batchable")
            self = .transfer(transfer)
        case 0x15:
            var disposition = Disposition(
                role: try f.requiredBool(0, "role"),
                first: try f.requiredUInt(1, "first"),
                last: try f.uint(2, "last"),
                settled: try f.bool(3, "settled"),
                state: f[4]
            )
            disposition.batchable = try f.bool(5, "batchable")
            self = .disposition(disposition)
        case 0x16:
            self = .detach(
                Detach(handle: try f.requiredUInt(0, "handle"), closed: try f.bool(1, "closed"), error: try f.error(2))
            )
        case 0x17:
            self = .end(try f.error(0))
        default:
            self = .close(try f.error(0))
        }
    }

    /// The performatives by descriptor code, with their names (`amqp:<name>:list`).
    static let names: [UInt64: String] = [
        0x10: "open", 0x11: "begin", 0x12: "attach", 0x13: "flow", 0x14: "transfer", 0x15: "disposition",
        0x16: "detach", 0x17: "end", 0x18: "close",
    ]

    /// The performative as a described list with every field written (explicit nulls).
    public var value: AMQPValue {
        switch self {
        case .open(let o):
            return .composite(
                0x10,
                [
                    .string(o.containerId), .optional(o.hostname), .optional(o.maxFrameSize), .optional(o.channelMax),
                    .optional(o.idleTimeOut), .optional(symbols: o.outgoingLocales),
                    .optional(symbols: o.incomingLocales), .optional(symbols: o.offeredCapabilities),
                    .optional(symbols: o.desiredCapabilities), .optional(map: o.properties),
                ]
            )
        case .begin(let b):
            return .composite(
                0x11,
                [
                    .optional(b.remoteChannel), .uint(b.nextOutgoingId), .uint(b.incomingWindow),
                    .uint(b.outgoingWindow), .optional(b.handleMax), .optional(symbols: b.offeredCapabilities),
                    .optional(symbols: b.desiredCapabilities), .optional(map: b.properties),
                ]
            )
        case .attach(let a):
            return .composite(
                0x12,
                [
                    .string(a.name), .uint(a.handle), .boolean(a.role), .optional(a.senderSettleMode),
                    .optional(a.receiverSettleMode), a.source, a.target, .optional(map: a.unsettled),
                    .optional(a.incompleteUnsettled), .optional(a.initialDeliveryCount), .optional(a.maxMessageSize),
                    .optional(symbols: a.offeredCapabilities), .optional(symbols: a.desiredCapabilities),
                    .optional(map: a.properties),
                ]
            )
        case .flow(let f):
            return .composite(
                0x13,
                [
                    .optional(f.nextIncomingId), .uint(f.incomingWindow), .uint(f.nextOutgoingId),
                    .uint(f.outgoingWindow), .optional(f.handle), .optional(f.deliveryCount), .optional(f.linkCredit),
                    .optional(f.available), .optional(f.drain), .optional(f.echo), .optional(map: f.properties),
                ]
            )
        case .transfer(let t):
            return .composite(
                0x14,
                [
                    .uint(t.handle), .optional(t.deliveryId), .optional(t.deliveryTag), .optional(t.messageFormat),
                    .optional(t.settled), .optional(t.more), .optional(t.receiverSettleMode), t.state,
                    .optional(t.resume), .optional(t.aborted), .optional(t.batchable),
                ]
            )
        case .disposition(let d):
            return .composite(
                0x15,
                [
                    .boolean(d.role), .uint(d.first), .optional(d.last), .optional(d.settled), d.state,
                    .optional(d.batchable),
                ]
            )
        case .detach(let d):
            return .composite(0x16, [.uint(d.handle), .optional(d.closed), d.error?.value ?? .null])
        case .end(let error):
            return .composite(0x17, [error?.value ?? .null])
        case .close(let error):
            return .composite(0x18, [error?.value ?? .null])
        }
    }
}

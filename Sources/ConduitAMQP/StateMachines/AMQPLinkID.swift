import NIOCore

/// A link of one connection: the session's local channel and the link's local handle (this side's numbers).
public struct AMQPLinkID: Sendable, Hashable, CustomStringConvertible {
    public var channel: UInt16
    public var handle: UInt32

    public init(channel: UInt16, handle: UInt32) {
        self.channel = channel
        self.handle = handle
    }

    public var description: String { "\(channel)/\(handle)" }
}

/// Which end of a link this side is.
public enum AMQPRole: Sendable, Hashable {
    /// This side sends messages on the link.
    case sender
    /// This side receives messages on the link.
    case receiver

    /// The `role` field of `attach` and `disposition` (false sender, true receiver).
    public var flag: Bool { self == .receiver }

    init(flag: Bool) { self = flag ? .receiver : .sender }
}

/// A complete message that arrived on a link where this side receives.
public struct AMQPIncomingDelivery: Sendable, Hashable {
    public var link: AMQPLinkID
    public var deliveryId: UInt32
    public var deliveryTag: [UInt8]
    public var messageFormat: UInt32
    /// Whether the sender settled it already (nothing is sent back).
    public var settled: Bool
    /// The message's bytes: its sections, from every frame of the delivery.
    public var payload: ByteBuffer
}

/// An outcome the peer gave for a message this side sent.
public struct AMQPSettlement: Sendable, Hashable {
    public var link: AMQPLinkID
    public var deliveryId: UInt32
    public var deliveryTag: [UInt8]
    /// The peer's outcome (`nil` when it gave none).
    public var state: AMQPDeliveryState?
    /// Whether the peer settled (forgot) the delivery; if not, it waits for this side to settle it.
    public var settled: Bool
}

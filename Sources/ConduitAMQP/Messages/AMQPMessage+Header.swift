extension AMQPMessage {
    /// The header section (`amqp:header:list`, 0x70): how the message is to be delivered.
    ///
    /// A field left `nil` takes the spec's default at the receiver (not durable, priority 4, no expiry, not first
    /// acquirer, delivery count 0). The header is always written with all five fields, nulls included. A broker
    /// should still set ``deliveryCount`` on every delivery, 0 on the first one: the .NET SDK throws
    /// `Nullable object must have a value` on a null delivery count, and Python reports `None`.
    public struct Header: Sendable, Hashable {
        /// Whether the message must survive an intermediary's restart (default `false`).
        public var durable: Bool?
        /// The relative priority, higher first (default 4).
        public var priority: UInt8?
        /// The time to live, in milliseconds from arrival at an intermediary.
        public var ttl: UInt32?
        /// Whether no other link has acquired the message before (default `false`).
        public var firstAcquirer: Bool?
        /// The number of earlier unsuccessful delivery attempts (default 0).
        public var deliveryCount: UInt32?

        /// A header with the given fields.
        public init(
            durable: Bool? = nil,
            priority: UInt8? = nil,
            ttl: UInt32? = nil,
            firstAcquirer: Bool? = nil,
            deliveryCount: UInt32? = nil
        ) {
            self.durable = durable
            self.priority = priority
            self.ttl = ttl
            self.firstAcquirer = firstAcquirer
            self.deliveryCount = deliveryCount
        }

        static let code: UInt64 = 0x70

        init(_ value: AMQPValue) throws(AMQPDecodingError) {
            let f = try AMQPFields(value, code: Self.code, name: "header")
            self.durable = try f.bool(0, "durable")
            self.priority = try f.ubyte(1, "priority")
            self.ttl = try f.uint(2, "ttl")
            self.firstAcquirer = try f.bool(3, "first-acquirer")
            self.deliveryCount = try f.uint(4, "delivery-count")
        }

        /// The section, all five fields written (explicit nulls).
        var value: AMQPValue {
            .composite(
                Self.code,
                [
                    .optional(durable), .optional(priority), .optional(ttl), .optional(firstAcquirer),
                    .optional(deliveryCount),
                ]
            )
        }
    }
}

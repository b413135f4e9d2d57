/// The state of a delivery (AMQP 1.0 part 3.4), as `transfer` and `disposition` carry it: `received`, or one of the
/// four outcomes.
///
/// Service Bus peek-lock settlement maps onto the outcomes: complete is `accepted`, abandon and defer are `modified`,
/// dead-letter is `rejected`. Since azure-servicebus 7.15 the client waits for the broker to settle with the same
/// outcome, and a `rejected` echo must carry no error.
///
/// ```swift
/// let state = try AMQPDeliveryState(disposition.state)  // nil when the field is null
/// let echo = AMQPPerformative.Disposition(role: false, first: 7, settled: true, state: state?.value ?? .null)
/// ```
public enum AMQPDeliveryState: Sendable, Hashable {
    /// `amqp:received:list` (0x23): how much of the message arrived, to resume a transfer. Not an outcome.
    case received(sectionNumber: UInt32, sectionOffset: UInt64)
    /// `amqp:accepted:list` (0x24): the message was processed (Service Bus: complete).
    case accepted
    /// `amqp:rejected:list` (0x25): the message is invalid and will not be processed (Service Bus: dead-letter,
    /// with `com.microsoft:dead-letter` from the client and no error in the broker's echo).
    case rejected(AMQPError?)
    /// `amqp:released:list` (0x26): the message was not processed and may go to another receiver.
    case released
    /// `amqp:modified:list` (0x27): released with changes (Service Bus: abandon, `deliveryFailed` true; defer,
    /// `undeliverableHere` true too), and annotations to merge into the message's.
    case modified(deliveryFailed: Bool?, undeliverableHere: Bool?, messageAnnotations: [AMQPMapEntry]?)

    /// The delivery states by descriptor code, with their names (`amqp:<name>:list`).
    static let names: [UInt64: String] = [
        0x23: "received", 0x24: "accepted", 0x25: "rejected", 0x26: "released", 0x27: "modified",
    ]

    /// The code of `amqp:transactional-state:list`, which is refused (see ``init(_:)``).
    static let transactionalStateCode: UInt64 = 0x34

    /// Reads a delivery state, `nil` for null (the field left out). Descriptors may be codes or symbols.
    ///
    /// A `transactional-state` (0x34) is refused rather than read as its inner outcome: that would drop the
    /// transaction id and settle at once what the client meant to settle at discharge. Transactions are not
    /// implemented; the raw value is still in the performative for whoever adds them.
    /// - Throws: ``AMQPDecodingError`` for a value that is not a described list, an unknown descriptor, a
    ///   transactional state, or a field of the wrong type (named).
    public init?(_ value: AMQPValue) throws(AMQPDecodingError) {
        if case .null = value { return nil }
        guard case .described(let descriptor, _) = value else {
            throw AMQPDecodingError("a delivery state must be a described list, not \(value)", offset: 0)
        }
        let code: UInt64
        switch descriptor {
        case .ulong(let number): code = number
        case .symbol("amqp:transactional-state:list"): code = Self.transactionalStateCode
        case .symbol(let name):
            guard let known = Self.names.first(where: { "amqp:\($0.value):list" == name })?.key else {
                throw AMQPDecodingError("\(name) is not a delivery state", offset: 0)
            }
            code = known
        default: throw AMQPDecodingError("\(descriptor) is not a delivery state descriptor", offset: 0)
        }
        guard let name = Self.names[code] else {
            if code == Self.transactionalStateCode {
                throw AMQPDecodingError(
                    "transactional-state (0x34) is not supported: transactions are not implemented",
                    offset: 0
                )
            }
            throw AMQPDecodingError("0x\(String(code, radix: 16)) is not a delivery state", offset: 0)
        }
        let f = try AMQPFields(value, code: code, name: name)
        switch code {
        case 0x23:
            self = .received(
                sectionNumber: try f.requiredUInt(0, "section-number"),
                sectionOffset: try f.requiredULong(1, "section-offset")
            )
        case 0x24: self = .accepted
        case 0x25: self = .rejected(try f.error(0))
        case 0x26: self = .released
        default:
            self = .modified(
                deliveryFailed: try f.bool(0, "delivery-failed"),
                undeliverableHere: try f.bool(1, "undeliverable-here"),
                messageAnnotations: try f.map(2, "message-annotations")
            )
        }
    }

    /// The state as a described list with every field written: `accepted` and `released` as empty lists,
    /// `rejected` with its error or a null, `modified` with all three fields.
    public var value: AMQPValue {
        switch self {
        case .received(let number, let offset): .composite(0x23, [.uint(number), .ulong(offset)])
        case .accepted: .composite(0x24, [])
        case .rejected(let error): .composite(0x25, [error?.value ?? .null])
        case .released: .composite(0x26, [])
        case .modified(let failed, let undeliverable, let annotations):
            .composite(0x27, [.optional(failed), .optional(undeliverable), .optional(map: annotations)])
        }
    }

    /// The spec's name of the state (`received`, `accepted`, `rejected`, `released`, `modified`): the name the
    /// Python SDK compares when it checks that a settlement was echoed with the outcome it sent.
    public var outcomeName: String {
        switch self {
        case .received: "received"
        case .accepted: "accepted"
        case .rejected: "rejected"
        case .released: "released"
        case .modified: "modified"
        }
    }
}

import ConduitAMQP
import NIOCore
import Testing

/// Delivery states: every state round-trips, the settlement echoes have the bytes the Python SDK expects.
@Suite("AMQP delivery states")
struct AMQPDeliveryStateTests {
    static func bytes(_ state: AMQPDeliveryState) throws -> [UInt8] {
        var buffer = ByteBuffer()
        try buffer.writeAMQPValue(state.value)
        return Array(buffer.readableBytesView)
    }

    static func roundTrip(_ state: AMQPDeliveryState) throws -> AMQPDeliveryState? {
        var buffer = ByteBuffer()
        try buffer.writeAMQPValue(state.value)
        return try AMQPDeliveryState(try buffer.readAMQPValue())
    }

    /// What the Python SDK sends to dead-letter: the info keys are symbols.
    static let deadLetter = AMQPError(
        condition: "com.microsoft:dead-letter",
        description: "bad order",
        info: [
            AMQPMapEntry(.symbol("DeadLetterReason"), .string("invalid")),
            AMQPMapEntry(.symbol("DeadLetterErrorDescription"), .string("bad order")),
        ]
    )

    @Test("Every state round-trips with its fields")
    func roundTrips() throws {
        let states: [AMQPDeliveryState] = [
            .received(sectionNumber: 2, sectionOffset: 1 << 40), .accepted, .rejected(nil), .rejected(Self.deadLetter),
            .released, .modified(deliveryFailed: true, undeliverableHere: false, messageAnnotations: nil),
            .modified(
                deliveryFailed: nil,
                undeliverableHere: true,
                messageAnnotations: [AMQPMapEntry(.symbol("x-opt-k"), .int(1))]
            ),
        ]
        for state in states {
            #expect(try Self.roundTrip(state) == state, "\(state)")
        }
        #expect(try AMQPDeliveryState(.null) == nil, "a null state field is no state")
    }

    @Test("The echoes are written with all their fields, a rejection without an error as a null")
    func exactBytes() throws {
        #expect(try Self.bytes(.accepted) == [0x00, 0x53, 0x24, 0x45])
        #expect(try Self.bytes(.released) == [0x00, 0x53, 0x26, 0x45])
        #expect(try Self.bytes(.rejected(nil)) == [0x00, 0x53, 0x25, 0xC0, 0x02, 0x01, 0x40])
        #expect(
            try Self.bytes(.modified(deliveryFailed: true, undeliverableHere: nil, messageAnnotations: nil))
                == [0x00, 0x53, 0x27, 0xC0, 0x04, 0x03, 0x41, 0x40, 0x40]
        )
        #expect(
            try Self.bytes(.received(sectionNumber: 0, sectionOffset: 0)) == [
                0x00, 0x53, 0x23, 0xC0, 0x03, 0x02, 0x43, 0x44,
            ]
        )
    }

    @Test("Short field lists, symbolic descriptors and a dead-letter request are read")
    func shortForms() throws {
        let rejected = AMQPValue.described(descriptor: .ulong(0x25), value: .list([]))
        #expect(try AMQPDeliveryState(rejected) == .rejected(nil))
        let modified = AMQPValue.described(descriptor: .symbol("amqp:modified:list"), value: .list([.boolean(true)]))
        #expect(
            try AMQPDeliveryState(modified)
                == .modified(deliveryFailed: true, undeliverableHere: nil, messageAnnotations: nil)
        )
        let accepted = AMQPValue.described(descriptor: .symbol("amqp:accepted:list"), value: .list([]))
        #expect(try AMQPDeliveryState(accepted) == .accepted)
        let deadLetter = AMQPValue.described(descriptor: .ulong(0x25), value: .list([Self.deadLetter.value]))
        guard case .rejected(let error) = try AMQPDeliveryState(deadLetter) else {
            Issue.record("not a rejection")
            return
        }
        #expect(error?.condition == "com.microsoft:dead-letter")
        #expect(error?.info?.first?.key == .symbol("DeadLetterReason"))
    }

    @Test("Each state has the name the Python SDK compares")
    func outcomeNames() {
        #expect(AMQPDeliveryState.received(sectionNumber: 0, sectionOffset: 0).outcomeName == "received")
        #expect(AMQPDeliveryState.accepted.outcomeName == "accepted")
        #expect(AMQPDeliveryState.rejected(nil).outcomeName == "rejected")
        #expect(AMQPDeliveryState.released.outcomeName == "released")
        #expect(
            AMQPDeliveryState.modified(deliveryFailed: nil, undeliverableHere: nil, messageAnnotations: nil).outcomeName
                == "modified"
        )
    }

    @Test(
        "Malformed states are refused with the field at fault",
        arguments: [
            (AMQPValue.described(descriptor: .ulong(0x99), value: .list([])), "0x99 is not a delivery state"),
            (
                .described(descriptor: .symbol("amqp:nope:list"), value: .list([])),
                "amqp:nope:list is not a delivery state"
            ),
            (
                .described(descriptor: .ulong(0x34), value: .list([.binary([1])])),
                "transactional-state (0x34) is not supported"
            ),
            (
                .described(descriptor: .symbol("amqp:transactional-state:list"), value: .list([.binary([1])])),
                "transactional-state (0x34) is not supported"
            ),
            (
                .described(descriptor: .ulong(0x23), value: .list([.uint(1)])),
                "received.section-offset (field 1) is mandatory"
            ),
            (
                .described(descriptor: .ulong(0x23), value: .list([.int(1), .ulong(0)])),
                "received.section-number (field 0) must be a uint"
            ),
            (
                .described(descriptor: .ulong(0x27), value: .list([.string("yes")])),
                "modified.delivery-failed (field 0) must be a boolean"
            ),
            (.described(descriptor: .ulong(0x25), value: .list([.string("x")])), "error must be a described list"),
            (.described(descriptor: .ulong(0x24), value: .map([])), "the body of accepted must be a list"),
            (.list([]), "a delivery state must be a described list"),
        ] as [(AMQPValue, String)]
    )
    func malformed(value: AMQPValue, reason: String) {
        let error = #expect(throws: AMQPDecodingError.self) { _ = try AMQPDeliveryState(value) }
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "no error")")
    }
}

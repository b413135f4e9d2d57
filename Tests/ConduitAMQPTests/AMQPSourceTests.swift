import ConduitAMQP
import NIOCore
import Testing

/// Sources: every field round-trips, filters keep their described values, addresses may be symbols.
@Suite("AMQP source terminus")
struct AMQPSourceTests {
    static func roundTrip(_ source: AMQPSource) throws -> AMQPSource {
        var buffer = ByteBuffer()
        try buffer.writeAMQPValue(source.value)
        return try AMQPSource(try buffer.readAMQPValue())
    }

    /// An Event Hubs reader's start position, as PROBE saw the Python client send it.
    static let offsetFilter = AMQPMapEntry(
        .symbol(AMQPSource.selectorFilter),
        .described(
            descriptor: .symbol(AMQPSource.selectorFilter),
            value: .string("amqp.annotation.x-opt-offset > '-1'")
        )
    )

    @Test("Every field round-trips, and a selector filter keeps its described value")
    func roundTrips() throws {
        let full = AMQPSource(
            address: "amqps://localhost/hub/ConsumerGroups/$Default/Partitions/0",
            durable: 2,
            expiryPolicy: "link-detach",
            timeout: 30,
            dynamic: false,
            dynamicNodeProperties: [AMQPMapEntry(.symbol("supported-dist-modes"), .symbol("move"))],
            distributionMode: "move",
            filter: [
                Self.offsetFilter,
                AMQPMapEntry(.symbol("com.microsoft:session-filter"), .null),
            ],
            defaultOutcome: AMQPDeliveryState.released.value,
            outcomes: ["amqp:accepted:list", "amqp:rejected:list"],
            capabilities: ["queue"]
        )
        #expect(try Self.roundTrip(full) == full)
        #expect(try Self.roundTrip(full).filter?.first == Self.offsetFilter)
        #expect(try Self.roundTrip(AMQPSource()) == AMQPSource())
        #expect(try Self.roundTrip(AMQPSource(address: "$cbs")) == AMQPSource(address: "$cbs"))
    }

    @Test("All 11 fields are written, symbols where the spec has symbols")
    func explicitFields() throws {
        let source = AMQPSource(
            address: "q",
            expiryPolicy: "never",
            distributionMode: "copy",
            outcomes: ["amqp:accepted:list"]
        )
        guard case .described(.ulong(0x28), .list(let fields)) = source.value else {
            Issue.record("a source is not a described list")
            return
        }
        #expect(fields.count == 11)
        #expect(fields[0] == .string("q"))
        #expect(fields[2] == .symbol("never"))
        #expect(fields[6] == .symbol("copy"))
        #expect(fields[9] == .array(.symbols(["amqp:accepted:list"])))
        #expect(fields[10] == .null)
        var buffer = ByteBuffer()
        try buffer.writeAMQPValue(AMQPSource().value)
        #expect(
            Array(buffer.readableBytesView) == [0x00, 0x53, 0x28, 0xC0, 0x0C, 0x0B] + Array(repeating: 0x40, count: 11)
        )
    }

    @Test("A symbol address, a symbolic descriptor and short field lists are read")
    func shortForms() throws {
        let value = AMQPValue.described(
            descriptor: .symbol("amqp:source:list"),
            value: .list([
                .symbol("orders"), .uint(0), .symbol("session-end"), .null, .null, .null, .null,
                .map([Self.offsetFilter]), .null, .symbol("amqp:accepted:list"),
            ])
        )
        let source = try AMQPSource(value)
        #expect(source.address == "orders")
        #expect(source.expiryPolicy == "session-end")
        #expect(source.outcomes == ["amqp:accepted:list"], "a single symbol stands for an array of one")
        #expect(source.capabilities == nil)
        #expect(source.filter(named: AMQPSource.selectorFilter) == Self.offsetFilter.value)
        #expect(source.filter(named: "missing") == nil)
        #expect(source.selector == "amqp.annotation.x-opt-offset > '-1'")
    }

    @Test("The selector is found under its numeric descriptor too, and absent otherwise")
    func selector() {
        let numeric = AMQPSource(
            filter: [
                AMQPMapEntry(.symbol("other"), .described(descriptor: .symbol("x:other"), value: .string("no"))),
                AMQPMapEntry(
                    .symbol("eventhub-start"),
                    .described(
                        descriptor: .ulong(AMQPSource.selectorFilterCode),
                        value: .string("amqp.annotation.x-opt-sequence-number > '5'")
                    )
                ),
            ]
        )
        #expect(numeric.selector == "amqp.annotation.x-opt-sequence-number > '5'")
        #expect(AMQPSource(address: "q").selector == nil)
    }

    @Test(
        "Malformed sources are refused with the field at fault",
        arguments: [
            (
                AMQPValue.described(descriptor: .ulong(0x28), value: .list([.int(1)])),
                "source.address (field 0) must be a string or a symbol"
            ),
            (
                .described(descriptor: .ulong(0x28), value: .list([.null, .string("2")])),
                "source.durable (field 1) must be a uint"
            ),
            (
                .described(descriptor: .ulong(0x28), value: .list([.null, .null, .string("never")])),
                "source.expiry-policy (field 2) must be a symbol"
            ),
            (
                .described(
                    descriptor: .ulong(0x28),
                    value: .list([.null, .null, .null, .null, .null, .null, .null, .list([])])
                ), "source.filter (field 7) must be a map"
            ),
            (.described(descriptor: .ulong(0x29), value: .list([])), "is not the descriptor of source"),
            (.null, "source must be a described list"),
        ] as [(AMQPValue, String)]
    )
    func malformed(value: AMQPValue, reason: String) {
        let error = #expect(throws: AMQPDecodingError.self) { _ = try AMQPSource(value) }
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "no error")")
    }
}

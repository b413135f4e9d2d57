import ConduitAMQP
import NIOCore
import Testing

/// Targets: every field round-trips and is written, addresses may be symbols, a coordinator is not a target.
@Suite("AMQP target terminus")
struct AMQPTargetTests {
    @Test("Every field round-trips, all 7 written")
    func roundTrips() throws {
        let full = AMQPTarget(
            address: "amqps://localhost/orders",
            durable: 1,
            expiryPolicy: "connection-close",
            timeout: 60,
            dynamic: true,
            dynamicNodeProperties: [
                AMQPMapEntry(.symbol("lifetime-policy"), .described(descriptor: .ulong(0x2B), value: .list([])))
            ],
            capabilities: ["com.microsoft:topic"]
        )
        for target in [full, AMQPTarget(), AMQPTarget(address: "$cbs")] {
            var buffer = ByteBuffer()
            try buffer.writeAMQPValue(target.value)
            #expect(try AMQPTarget(try buffer.readAMQPValue()) == target)
        }
        guard case .described(.ulong(0x29), .list(let fields)) = AMQPTarget(address: "q").value else {
            Issue.record("a target is not a described list")
            return
        }
        #expect(fields == [.string("q")] + Array(repeating: .null, count: 6))
    }

    @Test("A symbol address and a symbolic descriptor are read; a coordinator or a bad field is refused")
    func readForms() throws {
        let symbolic = AMQPValue.described(descriptor: .symbol("amqp:target:list"), value: .list([.symbol("queue")]))
        #expect(try AMQPTarget(symbolic) == AMQPTarget(address: "queue"))
        let coordinator = AMQPValue.described(descriptor: .ulong(0x30), value: .list([]))
        let error = #expect(throws: AMQPDecodingError.self) { _ = try AMQPTarget(coordinator) }
        #expect(error?.message.contains("is not the descriptor of target") == true)
        let timeout = AMQPValue.described(descriptor: .ulong(0x29), value: .list([.null, .null, .null, .long(5)]))
        let timeoutError = #expect(throws: AMQPDecodingError.self) { _ = try AMQPTarget(timeout) }
        #expect(timeoutError?.message.contains("target.timeout (field 3) must be a uint") == true)
    }
}

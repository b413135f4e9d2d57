import ConduitAMQP
import NIOCore
import Testing

/// Performatives: every field written (explicit nulls), read back by position, wrong types refused by name.
@Suite("AMQP performatives")
struct AMQPPerformativeTests {
    static func roundTrip(_ performative: AMQPPerformative) throws -> AMQPPerformative {
        var buffer = ByteBuffer()
        try buffer.writeAMQPValue(performative.value)
        return try AMQPPerformative(try buffer.readAMQPValue())
    }

    @Test("Every performative round-trips with its fields")
    func roundTrips() throws {
        var open = AMQPPerformative.Open(containerId: "conduit", hostname: "localhost", maxFrameSize: 65_536)
        open.channelMax = 255
        open.idleTimeOut = 120_000
        open.offeredCapabilities = ["com.microsoft:session-filter"]
        open.properties = [AMQPMapEntry(.symbol("product"), .string("Conduit"))]
        var begin = AMQPPerformative.Begin(
            remoteChannel: 0,
            nextOutgoingId: 1,
            incomingWindow: 5000,
            outgoingWindow: 5000
        )
        begin.handleMax = 255
        var attach = AMQPPerformative.Attach(
            name: "sender-1",
            handle: 0,
            role: false,
            source: .described(descriptor: .ulong(0x28), value: .list([.string("client")])),
            target: .described(descriptor: .ulong(0x29), value: .list([.string("orders")]))
        )
        attach.senderSettleMode = 2
        attach.maxMessageSize = 262_144
        attach.properties = [AMQPMapEntry(.symbol("com.microsoft:entity-type"), .int(0))]
        var flow = AMQPPerformative.Flow(incomingWindow: 5000, nextOutgoingId: 1, outgoingWindow: 5000)
        flow.handle = 1
        flow.linkCredit = 300
        flow.drain = false
        var transfer = AMQPPerformative.Transfer(handle: 0, deliveryId: 7, deliveryTag: Array(0..<16))
        transfer.messageFormat = 0
        transfer.settled = false
        let accepted = AMQPValue.described(descriptor: .ulong(0x24), value: .list([]))
        let performatives: [AMQPPerformative] = [
            .open(open), .begin(begin), .attach(attach), .flow(flow), .transfer(transfer),
            .disposition(AMQPPerformative.Disposition(role: true, first: 7, last: 9, settled: true, state: accepted)),
            .detach(AMQPPerformative.Detach(handle: 1, closed: true, error: AMQPError(condition: AMQPError.notFound))),
            .end(nil), .close(AMQPError(condition: AMQPError.decodeError, description: "bad", info: [])),
        ]
        for performative in performatives {
            #expect(try Self.roundTrip(performative) == performative, "\(performative)")
        }
    }

    @Test("Every field is written, null up to the last, as clients that read fields by position need")
    func explicitNulls() throws {
        var buffer = ByteBuffer()
        try buffer.writeAMQPValue(AMQPPerformative.close(nil).value)
        #expect(Array(buffer.readableBytesView) == [0x00, 0x53, 0x18, 0xC0, 0x02, 0x01, 0x40])
        guard
            case .described(_, .list(let fields)) = AMQPPerformative.attach(.init(name: "a", handle: 0, role: true))
                .value
        else {
            Issue.record("attach is not a described list")
            return
        }
        #expect(fields.count == 14)
    }

    @Test("Fields left out at the end read as absent; a symbol descriptor works too")
    func shortForms() throws {
        let open = AMQPValue.described(descriptor: .symbol("amqp:open:list"), value: .list([.string("peer")]))
        #expect(try AMQPPerformative(open) == .open(AMQPPerformative.Open(containerId: "peer")))
        let capability = AMQPValue.described(
            descriptor: .ulong(0x10),
            value: .list([.string("peer"), .null, .null, .null, .null, .null, .null, .symbol("one")])
        )
        guard case .open(let read) = try AMQPPerformative(capability) else {
            Issue.record("not an open")
            return
        }
        #expect(read.offeredCapabilities == ["one"], "a single symbol stands for an array of one")
    }

    @Test(
        "Malformed performatives are refused with the field at fault",
        arguments: [
            (
                AMQPValue.described(descriptor: .ulong(0x10), value: .list([])),
                "open.container-id (field 0) is mandatory"
            ),
            (
                .described(descriptor: .ulong(0x11), value: .list([.null, .string("x")])),
                "begin.next-outgoing-id (field 1) must be a uint"
            ),
            (
                .described(descriptor: .ulong(0x12), value: .list([.string("n"), .uint(0), .uint(1)])),
                "attach.role (field 2) must be a boolean"
            ),
            (.described(descriptor: .ulong(0x99), value: .list([])), "0x99 is not a performative"),
            (
                .described(descriptor: .symbol("amqp:nope:list"), value: .list([])),
                "amqp:nope:list is not a performative"
            ),
            (.list([]), "must start with a described performative"),
            (.described(descriptor: .ulong(0x18), value: .string("x")), "the body of close must be a list"),
            (
                .described(
                    descriptor: .ulong(0x18),
                    value: .list([.described(descriptor: .ulong(0x1d), value: .list([.string("x")]))])
                ),
                "error.condition (field 0) must be a symbol"
            ),
        ] as [(AMQPValue, String)]
    )
    func malformed(value: AMQPValue, reason: String) {
        let error = #expect(throws: AMQPDecodingError.self) { _ = try AMQPPerformative(value) }
        #expect(error?.message.contains(reason) == true, "\(error?.message ?? "no error")")
    }
}

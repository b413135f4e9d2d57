import ConduitAMQP
import NIOCore
import Testing

@Suite("AMQP server connection state machine")
struct AMQPConnectionStateMachineTests {
    @Test("SASL, open and begin as the Azure SDKs do them; replies carry every field")
    func handshake() throws {
        var peer = AMQPConnectionPeer()
        peer.sendHeader(.sasl)
        guard case .header(let saslHeader) = try #require(peer.received.first) else {
            Issue.record("no SASL header")
            return
        }
        #expect(saslHeader == .sasl)
        peer.sendSASL(.initial(mechanism: "ANONYMOUS", response: [], hostname: "127.0.0.1"))
        let authenticate = try #require(peer.takeEvents().first)
        #expect(authenticate == .authenticate(mechanism: "ANONYMOUS", response: [], hostname: "127.0.0.1"))
        peer.apply(peer.machine.saslOutcome(authenticated: true))
        // The mechanisms offered, then the outcome (code 0).
        let sasl = peer.received.compactMap { input -> AMQPSASLFrame? in
            guard case .frame(let frame) = input, frame.type == .sasl else { return nil }
            var body = frame.body
            return try? AMQPSASLFrame(body.readAMQPValue())
        }
        #expect(sasl == [.mechanisms(["MSSBCBS", "PLAIN", "ANONYMOUS"]), .outcome(code: 0, additionalData: nil)])
        peer.received = []
        // Header and open pipelined, as Python's pyamqp sends them.
        var pipelined = ByteBuffer()
        AMQPProtocolHeader.amqp.write(to: &pipelined)
        var body = ByteBuffer()
        _ = try body.writeAMQPValue(
            AMQPPerformative.open(.init(containerId: "SBSender-1", hostname: "127.0.0.1", maxFrameSize: 65_536)).value
        )
        AMQPFrame(type: .amqp, channel: 0, body: body).write(to: &pipelined)
        peer.sendBytes(pipelined)
        #expect(peer.received.first == .header(.amqp))
        let open = peer.takePerformatives()
        guard case .open(let reply)? = open.first?.performative else {
            Issue.record("no open: \(open)")
            return
        }
        #expect(reply.maxFrameSize == 1 << 20)
        #expect(reply.idleTimeOut == 240_000)
        peer.send(
            .begin(.init(remoteChannel: nil, nextOutgoingId: 0, incomingWindow: 65_536, outgoingWindow: 65_536)),
            channel: 3
        )
        let begin = peer.takePerformatives()
        guard case .begin(let answer)? = begin.first?.performative else {
            Issue.record("no begin: \(begin)")
            return
        }
        #expect(answer.remoteChannel == 3)
        // Written with all 8 fields (pyamqp copies read begin by position).
        var encoded = ByteBuffer()
        _ = try encoded.writeAMQPValue(AMQPPerformative.begin(answer).value)
        guard case .described(_, .list(let fields)) = try encoded.readAMQPValue() else {
            Issue.record("begin is not a described list")
            return
        }
        #expect(fields.count == 8)
        #expect(!peer.machine.isClosed)
    }

    @Test("a client sender gets ample credit; its message arrives whole and is accepted once settled")
    func incomingMessage() throws {
        var peer = AMQPConnectionPeer()
        peer.openSession()
        var attach = AMQPPerformative.Attach(
            name: "sender-link-1",
            handle: 7,
            role: false,
            source: AMQPSource.value("sender-link-1"),
            target: AMQPTarget.value("amqps://127.0.0.1/q1")
        )
        attach.senderSettleMode = 0
        peer.send(.attach(attach))
        let link = try #require(peer.lastAttachedLink)
        guard case .attachRequested(_, let role, let request)? = peer.takeEvents().first else {
            Issue.record("no attach request")
            return
        }
        #expect(role == .receiver)
        #expect(request.name == "sender-link-1")
        peer.apply(peer.machine.acceptAttach(link))
        let replies = peer.takePerformatives()
        guard case .attach(let reply)? = replies.first?.performative, case .flow(let flow)? = replies.last?.performative
        else {
            Issue.record("expected attach and flow: \(replies)")
            return
        }
        #expect(reply.role == true && reply.target == attach.target && reply.maxMessageSize == 1 << 20)
        #expect(flow.linkCredit == 1000 && flow.handle == reply.handle)
        // A message in three frames.
        var message = AMQPMessage(body: .data([Array(repeating: 7, count: 3000)]))
        message.properties = .init(messageId: .string("m-1"))
        var payload = try message.encoded()
        let first = payload.readSlice(length: 1000)!
        let second = payload.readSlice(length: 1000)!
        var transfer = AMQPPerformative.Transfer(handle: 7, deliveryId: 0, deliveryTag: [0, 0, 0, 1])
        transfer.messageFormat = 0
        transfer.settled = false
        transfer.more = true
        peer.send(.transfer(transfer), payload: first)
        var next = AMQPPerformative.Transfer(handle: 7)
        next.more = true
        peer.send(.transfer(next), payload: second)
        #expect(peer.events.isEmpty)
        next.more = false
        peer.send(.transfer(next), payload: payload)
        guard case .message(let delivery)? = peer.takeEvents().first else {
            Issue.record("no message")
            return
        }
        #expect(delivery.deliveryTag == [0, 0, 0, 1] && !delivery.settled)
        var bytes = delivery.payload
        #expect(try AMQPMessage.decode(&bytes) == message)
        peer.apply(peer.machine.settleIncoming(link, deliveryId: 0, state: .accepted))
        guard case .disposition(let disposition)? = peer.takePerformatives().first?.performative else {
            Issue.record("no disposition")
            return
        }
        #expect(disposition.role == true && disposition.first == 0 && disposition.settled == true)
        #expect(try AMQPDeliveryState(disposition.state) == .accepted)
    }

    @Test("a client receiver: credit, a transfer with the lock token as tag, its outcome, and the settlement echo")
    func outgoingMessage() throws {
        var peer = AMQPConnectionPeer()
        peer.openSession()
        var attach = AMQPPerformative.Attach(
            name: "receiver-link-1",
            handle: 0,
            role: true,
            source: AMQPSource.value("q1"),
            target: AMQPTarget.value("receiver-link-1")
        )
        attach.receiverSettleMode = 1
        peer.send(.attach(attach))
        let link = try #require(peer.lastAttachedLink)
        peer.apply(peer.machine.acceptAttach(link))
        guard case .attach(let reply)? = peer.takePerformatives().first?.performative else {
            Issue.record("no attach")
            return
        }
        #expect(reply.role == false && reply.initialDeliveryCount == 0 && reply.receiverSettleMode == 1)
        _ = peer.takeEvents()
        // Nothing may go without credit.
        #expect(peer.machine.send(link, tag: [1], payload: ByteBuffer(bytes: [0]), settled: false).deliveryId == nil)
        var flow = AMQPPerformative.Flow(incomingWindow: 65_536, nextOutgoingId: 0, outgoingWindow: 65_536)
        flow.nextIncomingId = 0
        flow.handle = 0
        flow.deliveryCount = 0
        flow.linkCredit = 2
        peer.send(.flow(flow))
        #expect(peer.takeEvents() == [.credit(link, credit: 2, drain: false)])
        let tag = Array(repeating: UInt8(0xAB), count: 16)
        let sent = peer.machine.send(
            link,
            tag: tag,
            payload: ByteBuffer(bytes: [0x00, 0x53, 0x77, 0x40]),
            settled: false
        )
        peer.apply(sent.actions)
        let id = try #require(sent.deliveryId)
        guard case .transfer(let transfer)? = peer.takePerformatives().first?.performative else {
            Issue.record("no transfer")
            return
        }
        #expect(transfer.deliveryTag == tag && transfer.settled == false && transfer.handle == reply.handle)
        #expect(peer.machine.credit(link) == 1)
        // The client dead-letters it (rejected, unsettled) and waits for the echo.
        var disposition = AMQPPerformative.Disposition(role: true, first: id, settled: false)
        disposition.state = AMQPDeliveryState.rejected(AMQPError(condition: "com.microsoft:dead-letter")).value
        peer.send(.disposition(disposition))
        guard case .settled(let settlement)? = peer.takeEvents().first else {
            Issue.record("no settlement")
            return
        }
        #expect(settlement.deliveryTag == tag && !settlement.settled)
        #expect(settlement.state == .rejected(AMQPError(condition: "com.microsoft:dead-letter")))
        peer.apply(peer.machine.settleOutgoing(link, deliveryId: id, state: .rejected(nil)))
        guard case .disposition(let echo)? = peer.takePerformatives().first?.performative else {
            Issue.record("no echo")
            return
        }
        #expect(echo.role == false && echo.settled == true)
        #expect(try AMQPDeliveryState(echo.state) == .rejected(nil))
    }

    @Test("a drain with nothing to send uses the credit up and tells the client")
    func drain() throws {
        var peer = AMQPConnectionPeer()
        peer.openSession()
        peer.send(
            .attach(
                .init(name: "r", handle: 0, role: true, source: AMQPSource.value("q"), target: AMQPTarget.value("r"))
            )
        )
        let link = try #require(peer.lastAttachedLink)
        peer.apply(peer.machine.acceptAttach(link))
        _ = peer.takePerformatives()
        _ = peer.takeEvents()
        var flow = AMQPPerformative.Flow(incomingWindow: 65_536, nextOutgoingId: 0, outgoingWindow: 65_536)
        flow.handle = 0
        flow.deliveryCount = 0
        flow.linkCredit = 5
        flow.drain = true
        peer.send(.flow(flow))
        #expect(peer.takeEvents() == [.credit(link, credit: 5, drain: true)])
        peer.apply(peer.machine.drain(link))
        guard case .flow(let answer)? = peer.takePerformatives().first?.performative else {
            Issue.record("no flow")
            return
        }
        #expect(answer.deliveryCount == 5 && answer.linkCredit == 0 && answer.drain == true)
        #expect(peer.machine.credit(link) == 0)
    }

    @Test("a message larger than the peer's frame size leaves in several transfers")
    func splitsLargeMessages() throws {
        var peer = AMQPConnectionPeer()
        peer.openSession(maxFrameSize: 512)
        peer.send(
            .attach(
                .init(name: "r", handle: 0, role: true, source: AMQPSource.value("q"), target: AMQPTarget.value("r"))
            )
        )
        let link = try #require(peer.lastAttachedLink)
        peer.apply(peer.machine.acceptAttach(link))
        var flow = AMQPPerformative.Flow(incomingWindow: 65_536, nextOutgoingId: 0, outgoingWindow: 65_536)
        flow.handle = 0
        flow.deliveryCount = 0
        flow.linkCredit = 1
        peer.send(.flow(flow))
        _ = peer.takePerformatives()
        let payload = ByteBuffer(bytes: (0..<5000).map { UInt8($0 % 251) })
        let sent = peer.machine.send(link, tag: [9], payload: payload, settled: true)
        peer.apply(sent.actions)
        let frames = peer.received.compactMap { input -> AMQPFrame? in
            if case .frame(let frame) = input { return frame }
            return nil
        }
        #expect(frames.count > 10)
        #expect(frames.allSatisfy { $0.body.readableBytes + 8 <= 512 })
        var joined = ByteBuffer()
        var mores: [Bool] = []
        for (_, performative, var rest) in peer.takePerformatives() {
            guard case .transfer(let transfer) = performative else { continue }
            mores.append(transfer.more ?? false)
            joined.writeBuffer(&rest)
        }
        #expect(joined == payload)
        #expect(mores.last == false && mores.dropLast().allSatisfy { $0 })
    }

    @Test("the peer's idle timeout gets heartbeats; silence beyond this side's timeout closes the connection")
    func idleTimeout() throws {
        var peer = AMQPConnectionPeer(configuration: .init(idleTimeout: 10_000))
        peer.sendHeader(.amqp)
        var open = AMQPPerformative.Open(containerId: "c", maxFrameSize: 65_536)
        open.idleTimeOut = 4_000
        peer.send(.open(open))
        peer.received = []
        peer.machine.didWrite(now: peer.now)
        peer.apply(peer.machine.tick(now: peer.now + 1_000_000_000))
        #expect(peer.received.isEmpty)
        peer.apply(peer.machine.tick(now: peer.now + 2_100_000_000))
        guard case .frame(let heartbeat)? = peer.received.first else {
            Issue.record("no heartbeat")
            return
        }
        #expect(heartbeat.isHeartbeat)
        peer.apply(peer.machine.tick(now: peer.now + 11_000_000_000))
        guard case .close(let error)? = peer.takePerformatives().last?.performative else {
            Issue.record("no close")
            return
        }
        #expect(error?.condition == "amqp:resource-limit-exceeded")
        #expect(peer.machine.isClosed)
    }
}

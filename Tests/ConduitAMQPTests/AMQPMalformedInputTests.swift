import ConduitAMQP
import ConduitTestSupport
import NIOCore
import Testing

/// Bad input closes the connection with the proper AMQP error and does nothing else.
@Suite("AMQP malformed input")
struct AMQPMalformedInputTests {
    /// The error of the close the machine wrote, if it wrote one.
    static func closeError(_ peer: inout AMQPConnectionPeer) -> AMQPError?? {
        for (_, performative, _) in peer.takePerformatives() {
            if case .close(let error) = performative { return .some(error) }
        }
        return nil
    }

    @Test("an HTTP request instead of the protocol header gets AMQP's header back and the connection ends")
    func wrongHeader() {
        var peer = AMQPConnectionPeer()
        peer.sendBytes(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
        #expect(peer.machine.isClosed)
        #expect(peer.events.contains { if case .closeConnection = $0 { true } else { false } })
    }

    @Test("an AMQP version other than 1.0.0 is answered with 1.0.0 and closed")
    func wrongVersion() {
        var peer = AMQPConnectionPeer()
        peer.sendHeader(AMQPProtocolHeader(id: 0, major: 0, minor: 9, revision: 1))
        #expect(peer.received.first == .header(.amqp))
        #expect(peer.machine.isClosed)
    }

    @Test("a session before open, or a frame on a channel with no session, is not allowed")
    func illegalOrder() {
        var peer = AMQPConnectionPeer()
        peer.sendHeader(.amqp)
        peer.send(.begin(.init(remoteChannel: nil, nextOutgoingId: 0, incomingWindow: 10, outgoingWindow: 10)))
        #expect(peer.machine.isClosed)

        var other = AMQPConnectionPeer()
        other.openSession()
        other.send(.attach(.init(name: "x", handle: 0, role: false)), channel: 9)
        #expect(Self.closeError(&other)??.condition == "amqp:connection:framing-error")
        #expect(other.machine.isClosed)
    }

    @Test("a frame body that is not AMQP closes with amqp:decode-error")
    func garbageBody() {
        var peer = AMQPConnectionPeer()
        peer.openSession()
        var buffer = ByteBuffer()
        AMQPFrame(type: .amqp, channel: 0, body: ByteBuffer(bytes: [0x00, 0x53, 0x12, 0xd0, 0xff, 0xff])).write(
            to: &buffer
        )
        peer.sendBytes(buffer)
        #expect(Self.closeError(&peer)??.condition == AMQPError.decodeError)
        #expect(peer.machine.isClosed)
    }

    @Test("a frame larger than the announced maximum closes with amqp:connection:framing-error")
    func oversizedFrame() {
        var peer = AMQPConnectionPeer(configuration: .init(maxFrameSize: 4096))
        peer.openSession()
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(1 << 20))
        buffer.writeBytes([2, 0, 0, 0])
        peer.sendBytes(buffer)
        #expect(Self.closeError(&peer)??.condition == AMQPError.framingError)
        #expect(peer.machine.isClosed)
    }

    @Test("a transfer on a handle that is not attached closes with amqp:session:unattached-handle")
    func unattachedHandle() {
        var peer = AMQPConnectionPeer()
        peer.openSession()
        peer.send(.transfer(.init(handle: 42, deliveryId: 0, deliveryTag: [1])), payload: ByteBuffer(bytes: [0x40]))
        #expect(Self.closeError(&peer)??.condition == "amqp:session:unattached-handle")
    }

    @Test("more messages than the credit given detach the link with amqp:link:transfer-limit-exceeded")
    func creditExceeded() throws {
        var peer = AMQPConnectionPeer(configuration: .init(linkCredit: 2))
        peer.openSession()
        peer.send(.attach(.init(name: "s", handle: 0, role: false, source: .null, target: AMQPTarget.value("q"))))
        let link = try #require(peer.lastAttachedLink)
        peer.apply(peer.machine.acceptAttach(link))
        _ = peer.takePerformatives()
        for id in UInt32(0)..<3 {
            peer.send(.transfer(.init(handle: 0, deliveryId: id, deliveryTag: [UInt8(id)])), payload: ByteBuffer())
        }
        let detach = peer.takePerformatives().compactMap { item -> AMQPPerformative.Detach? in
            if case .detach(let detach) = item.performative { return detach }
            return nil
        }
        #expect(detach.first?.error?.condition == "amqp:link:transfer-limit-exceeded")
        #expect(!peer.machine.isClosed)
    }

    /// Conditions a close may carry when the input is bad.
    static let closeConditions: Set<String> = [
        AMQPError.decodeError, AMQPError.framingError, AMQPError.notAllowed, "amqp:session:unattached-handle",
        "amqp:session:handle-in-use", "amqp:session:window-violation", "amqp:invalid-field",
        "amqp:resource-limit-exceeded", AMQPError.unauthorizedAccess,
    ]

    @Test("5,000 random and mutated byte streams: the machine never traps, and closes only with a protocol error")
    func randomized() async throws {
        var random = SeededRandom(seed: 0xC0_0D_17)
        // A valid opening to mutate: SASL, header, open, begin, attach, a transfer.
        var valid = ByteBuffer()
        for part: AMQPPerformative in [
            .open(.init(containerId: "fuzz", maxFrameSize: 65_536)),
            .begin(.init(remoteChannel: nil, nextOutgoingId: 0, incomingWindow: 100, outgoingWindow: 100)),
            .attach(.init(name: "s", handle: 0, role: false, source: .null, target: AMQPTarget.value("q"))),
            .transfer(.init(handle: 0, deliveryId: 0, deliveryTag: [1])),
            .flow(.init(incomingWindow: 1, nextOutgoingId: 0, outgoingWindow: 1)),
            .detach(.init(handle: 0, closed: true)),
            .end(nil),
            .close(nil),
        ] {
            var body = ByteBuffer()
            _ = try body.writeAMQPValue(part.value)
            AMQPFrame(type: .amqp, channel: 0, body: body).write(to: &valid)
        }
        var closes = 0
        for round in 0..<5_000 {
            // Share the test pool's threads with the suites running beside this one.
            if round % 50 == 0 { await Task.yield() }
            var peer = AMQPConnectionPeer(configuration: .init(saslMechanisms: [], maxFrameSize: 65_536))
            var bytes = ByteBuffer()
            AMQPProtocolHeader.amqp.write(to: &bytes)
            if round % 4 == 0 {
                // Pure noise after the header.
                bytes.writeBytes(
                    (0..<Int.random(in: 0...200, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                )
            } else {
                // The valid stream with a few bytes changed, cut at a random point.
                var stream = Array(valid.readableBytesView)
                for _ in 0..<Int.random(in: 1...4, using: &random) {
                    stream[Int.random(in: 0..<stream.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                }
                bytes.writeBytes(stream.prefix(Int.random(in: 0...stream.count, using: &random)))
            }
            // In pieces of random sizes, as TCP delivers them.
            while bytes.readableBytes > 0 {
                let piece = bytes.readSlice(length: min(bytes.readableBytes, Int.random(in: 1...64, using: &random)))!
                peer.sendBytes(piece)
            }
            if peer.machine.isClosed {
                closes += 1
                if case .some(.some(let error)) = Self.closeError(&peer) {
                    #expect(Self.closeConditions.contains(error.condition), "round \(round): \(error)")
                }
            }
            // Whatever happened, a closed machine stays closed and silent.
            if peer.machine.isClosed {
                peer.received = []
                peer.sendBytes(valid)
                #expect(peer.received.isEmpty)
            }
        }
        #expect(closes > 250)
    }
}

import ConduitAMQP
import NIOCore

/// A client side for driving ``AMQPConnectionStateMachine`` in tests: it writes frames as bytes, feeds them
/// through the frame decoder into the machine, and reads the machine's writes back as performatives.
struct AMQPConnectionPeer {
    var machine: AMQPConnectionStateMachine
    var now: UInt64 = 1_000_000_000
    /// What the machine did besides writing, in order.
    var events: [AMQPConnectionStateMachine.Action] = []
    /// Everything the machine wrote, decoded.
    var received: [AMQPFrameInput] = []
    private var decoder = NIOSingleStepByteToMessageProcessor(AMQPFrameDecoder(maximumFrameSize: 1 << 24))
    private var inbound: NIOSingleStepByteToMessageProcessor<AMQPFrameDecoder>

    init(configuration: AMQPConnectionStateMachine.Configuration = .init()) {
        machine = AMQPConnectionStateMachine(configuration: configuration)
        inbound = NIOSingleStepByteToMessageProcessor(
            AMQPFrameDecoder(maximumFrameSize: Int(configuration.maxFrameSize))
        )
    }

    /// Sends raw bytes to the machine (through the frame decoder, as the I/O adapter does).
    mutating func sendBytes(_ bytes: ByteBuffer) {
        var inputs: [AMQPFrameInput] = []
        do {
            try inbound.process(buffer: bytes) { inputs.append($0) }
        } catch {
            for input in inputs { apply(machine.receive(input, now: now)) }
            apply(machine.framingError("\(error)"))
            return
        }
        for input in inputs { apply(machine.receive(input, now: now)) }
    }

    mutating func sendHeader(_ header: AMQPProtocolHeader) {
        var buffer = ByteBuffer()
        header.write(to: &buffer)
        sendBytes(buffer)
    }

    mutating func send(_ performative: AMQPPerformative, channel: UInt16 = 0, payload: ByteBuffer? = nil) {
        var body = ByteBuffer()
        _ = try? body.writeAMQPValue(performative.value)
        if var payload { body.writeBuffer(&payload) }
        var buffer = ByteBuffer()
        AMQPFrame(type: .amqp, channel: channel, body: body).write(to: &buffer)
        sendBytes(buffer)
    }

    mutating func sendSASL(_ frame: AMQPSASLFrame) {
        var body = ByteBuffer()
        _ = try? body.writeAMQPValue(frame.value)
        var buffer = ByteBuffer()
        AMQPFrame(type: .sasl, channel: 0, body: body).write(to: &buffer)
        sendBytes(buffer)
    }

    /// Applies a command's or an input's actions: writes are decoded into ``received``, the rest kept in
    /// ``events``.
    mutating func apply(_ actions: [AMQPConnectionStateMachine.Action]) {
        for action in actions {
            if case .write(let bytes) = action {
                try? decoder.process(buffer: bytes) { received.append($0) }
            } else {
                events.append(action)
            }
        }
    }

    /// The performatives written since the last call, with their channels and payloads.
    mutating func takePerformatives() -> [(channel: UInt16, performative: AMQPPerformative, payload: ByteBuffer)] {
        defer { received = [] }
        return received.compactMap { input in
            guard case .frame(let frame) = input, frame.type == .amqp, !frame.isHeartbeat else { return nil }
            var body = frame.body
            guard let value = try? body.readAMQPValue(), let performative = try? AMQPPerformative(value) else {
                return nil
            }
            return (frame.channel, performative, body)
        }
    }

    mutating func takeEvents() -> [AMQPConnectionStateMachine.Action] {
        defer { events = [] }
        return events
    }

    /// SASL ANONYMOUS, the AMQP header, open and begin on channel 0: the state the SDKs reach before attaching.
    mutating func openSession(maxFrameSize: UInt32 = 1 << 20) {
        sendHeader(.sasl)
        sendSASL(.initial(mechanism: "ANONYMOUS", response: [], hostname: "localhost"))
        apply(machine.saslOutcome(authenticated: true))
        sendHeader(.amqp)
        send(.open(.init(containerId: "test-client", hostname: "localhost", maxFrameSize: maxFrameSize)))
        send(.begin(.init(remoteChannel: nil, nextOutgoingId: 0, incomingWindow: 65_536, outgoingWindow: 65_536)))
        received = []
        events = []
    }

    /// The link the machine reported for the latest attach.
    var lastAttachedLink: AMQPLinkID? {
        for event in events.reversed() {
            if case .attachRequested(let link, _, _) = event { return link }
        }
        return nil
    }
}

extension AMQPTarget {
    /// A target terminus value with just an address.
    static func value(_ address: String) -> AMQPValue { AMQPTarget(address: address).value }
}

extension AMQPSource {
    /// A source terminus value with just an address.
    static func value(_ address: String) -> AMQPValue { AMQPSource(address: address).value }
}

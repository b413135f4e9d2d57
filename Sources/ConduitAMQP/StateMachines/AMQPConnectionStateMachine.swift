import NIOCore

/// The server side of one AMQP 1.0 connection (part 2): protocol headers, SASL, open and close, sessions with their
/// windows, links with their credit, incoming deliveries (reassembled from their frames) and outgoing ones (split to
/// the peer's frame size). Pure: each input returns the actions for the one I/O adapter that owns it to perform.
///
/// The application decides what the protocol cannot: whether a SASL exchange authenticates, whether an attach is
/// accepted, what to do with a message, and what to send. It answers with the command methods (`saslOutcome`,
/// `acceptAttach`, `refuseAttach`, `settleIncoming`, `send`, `settleOutgoing`, `detach`, `drain`, `close`).
///
/// A protocol violation by the peer closes the connection with the proper error (`amqp:decode-error`,
/// `amqp:connection:framing-error`, `amqp:not-allowed`, …); nothing else happens.
public struct AMQPConnectionStateMachine: Sendable {
    /// What the server offers and announces.
    public struct Configuration: Sendable, Hashable {
        /// The SASL mechanisms offered; empty accepts a plain AMQP header without SASL.
        public var saslMechanisms: [String]
        /// Whether a client may skip SASL and send the AMQP header at once.
        public var allowsPlainAMQP: Bool
        public var containerId: String
        /// The largest frame this side accepts.
        public var maxFrameSize: UInt32
        public var channelMax: UInt16
        /// How long the peer may stay silent before the connection is closed (ms); the peer is asked to send at
        /// least every half of it.
        public var idleTimeout: UInt32
        /// The session window this side keeps open for incoming transfers.
        public var incomingWindow: UInt32
        /// The credit given to each link where this side receives, restored as the application settles.
        public var linkCredit: UInt32
        /// The largest message accepted on a link (announced in `attach`).
        public var maxMessageSize: UInt64

        public init(
            saslMechanisms: [String] = ["MSSBCBS", "PLAIN", "ANONYMOUS"],
            allowsPlainAMQP: Bool = true,
            containerId: String = "conduit",
            maxFrameSize: UInt32 = 1 << 20,
            channelMax: UInt16 = 4095,
            idleTimeout: UInt32 = 240_000,
            incomingWindow: UInt32 = 5000,
            linkCredit: UInt32 = 1000,
            maxMessageSize: UInt64 = 1 << 20
        ) {
            self.saslMechanisms = saslMechanisms
            self.allowsPlainAMQP = allowsPlainAMQP
            self.containerId = containerId
            self.maxFrameSize = maxFrameSize
            self.channelMax = channelMax
            self.idleTimeout = idleTimeout
            self.incomingWindow = incomingWindow
            self.linkCredit = linkCredit
            self.maxMessageSize = maxMessageSize
        }
    }

    /// What the I/O adapter does.
    public enum Action: Sendable, Hashable {
        /// Write these bytes (a protocol header or frames).
        case write(ByteBuffer)
        /// Decide whether this SASL init authenticates; answer with `saslOutcome`.
        case authenticate(mechanism: String, response: [UInt8]?, hostname: String?)
        /// The peer opened the connection (this side has answered).
        case opened(AMQPPerformative.Open)
        /// Client: the server answered a `begin` this side sent; the session on `channel` is ready.
        case sessionBegun(channel: UInt16)
        /// Client: the server answered an `attach` this side sent (a refusal has a null terminus and a detach follows).
        case attached(AMQPLinkID, AMQPPerformative.Attach)
        /// The peer asks for a link; answer with `acceptAttach` or `refuseAttach`. `role` is this side's.
        case attachRequested(AMQPLinkID, role: AMQPRole, AMQPPerformative.Attach)
        /// A message arrived; settle it with `settleIncoming` (also when the sender settled it: that restores
        /// credit).
        case message(AMQPIncomingDelivery)
        /// The peer's credit on a link where this side sends changed: `credit` messages may be sent now. With
        /// `drain`, send what is available and then call `drain`.
        case credit(AMQPLinkID, credit: UInt32, drain: Bool)
        /// The peer gave an outcome for a message this side sent.
        case settled(AMQPSettlement)
        /// A link is gone (the peer detached it, its session ended, or this side's detach was answered).
        case linkDetached(AMQPLinkID, error: AMQPError?)
        /// The connection is over: close the channel once the writes are flushed.
        case closeConnection(error: AMQPError?)
    }

    enum State: Sendable {
        case awaitingHeader
        case awaitingSASLInit
        case authenticating
        case awaitingAMQPHeader
        case awaitingOpen
        /// Client: the SASL header went out; the server's header and mechanisms are awaited.
        case clientAwaitingSASLHeader(AMQPSASLCredentials, hostname: String?)
        case clientAwaitingMechanisms(AMQPSASLCredentials, hostname: String?)
        case clientAwaitingOutcome(hostname: String?)
        /// Client: the AMQP header and open went out; the server's header, then its open, are awaited.
        case clientAwaitingAMQPHeader
        case clientAwaitingOpen
        case open
        /// This side sent close and waits for the peer's.
        case closeSent
        case closed
    }

    public let configuration: Configuration
    var state = State.awaitingHeader
    /// The peer's limits, from its `open`.
    var peerMaxFrameSize: UInt32 = 512
    var peerIdleTimeout: UInt32?
    var peerChannelMax: UInt16 = 0
    /// Sessions by this side's channel, and the map from the peer's channel numbers.
    var sessions: [UInt16: AMQPSessionState] = [:]
    /// Client: channels whose `begin` waits for the server's answer.
    var pendingBegins: Set<UInt16> = []
    var localChannels: [UInt16: UInt16] = [:]
    /// When the last bytes arrived and left (nanoseconds of any monotonic clock).
    var lastReceived: UInt64 = 0
    var lastSent: UInt64 = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Whether the connection is over.
    public var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    // MARK: - Input

    /// Handles one decoded input (a protocol header or a frame) that arrived at `now` (nanoseconds).
    public mutating func receive(_ input: AMQPFrameInput, now: UInt64) -> [Action] {
        // A closed connection reads nothing more.
        if case .closed = state { return [] }
        lastReceived = now
        switch input {
        case .header(let header): return receiveHeader(header)
        case .frame(let frame):
            if frame.isHeartbeat {
                switch state {
                case .open, .closeSent, .awaitingOpen: return []
                default: break
                }
            }
            do {
                return try receiveFrame(frame)
            } catch let error as AMQPDecodingError {
                return fail(AMQPError(condition: AMQPError.decodeError, description: error.message))
            } catch let error as AMQPError {
                return fail(error)
            } catch {
                return fail(AMQPError(condition: AMQPError.internalError, description: "\(error)"))
            }
        }
    }

    /// A framing error from the decoder: closes the connection with `amqp:connection:framing-error`.
    public mutating func framingError(_ message: String) -> [Action] {
        let error = AMQPError(condition: AMQPError.framingError, description: message)
        switch state {
        case .awaitingHeader, .awaitingAMQPHeader:
            // Not even a protocol header: answer with the one this side speaks, and close (part 2.2).
            let wanted: AMQPProtocolHeader =
                if case .awaitingHeader = state, !configuration.saslMechanisms.isEmpty, !configuration.allowsPlainAMQP {
                    .sasl
                } else {
                    .amqp
                }
            state = .closed
            var buffer = ByteBuffer()
            wanted.write(to: &buffer)
            return [.write(buffer), .closeConnection(error: error)]
        default:
            return fail(error)
        }
    }

    /// The transport ended (the peer went away): every link is gone.
    public mutating func transportClosed() -> [Action] {
        guard !isClosed else { return [] }
        state = .closed
        var actions: [Action] = []
        for (_, session) in sessions.sorted(by: { $0.key < $1.key }) {
            for link in session.links.keys.sorted() {
                actions.append(.linkDetached(AMQPLinkID(channel: session.localChannel, handle: link), error: nil))
            }
        }
        sessions = [:]
        localChannels = [:]
        return actions
    }

    /// The idle-timeout timer, called now and then: an empty frame when this side must show it is alive, a close
    /// when the peer has been silent for longer than this side's idle timeout.
    public mutating func tick(now: UInt64) -> [Action] {
        guard case .open = state else { return [] }
        let silentFor = (now &- lastReceived) / 1_000_000
        if configuration.idleTimeout > 0, silentFor > UInt64(configuration.idleTimeout) {
            return fail(
                AMQPError(
                    condition: "amqp:resource-limit-exceeded",
                    description:
                        "The peer sent nothing for \(silentFor) ms (idle timeout \(configuration.idleTimeout) ms)."
                )
            )
        }
        if let peerIdleTimeout, peerIdleTimeout > 0, (now &- lastSent) / 1_000_000 >= UInt64(peerIdleTimeout / 2) {
            lastSent = now
            var buffer = ByteBuffer()
            AMQPFrame(type: .amqp, channel: 0, body: ByteBuffer()).write(to: &buffer)
            return [.write(buffer)]
        }
        return []
    }

    /// Tells the machine that bytes left at `now` (for the idle-timeout heartbeat).
    public mutating func didWrite(now: UInt64) { lastSent = now }

    private mutating func receiveHeader(_ header: AMQPProtocolHeader) -> [Action] {
        let supported = header.major == 1 && header.minor == 0 && header.revision == 0
        let plainAllowed = configuration.allowsPlainAMQP || configuration.saslMechanisms.isEmpty
        switch (state, header.id) {
        case (.clientAwaitingSASLHeader(let credentials, let hostname), 3) where supported:
            state = .clientAwaitingMechanisms(credentials, hostname: hostname)
            return []
        case (.clientAwaitingAMQPHeader, 0) where supported:
            state = .clientAwaitingOpen
            return []
        case (.awaitingHeader, 3) where supported && !configuration.saslMechanisms.isEmpty:
            state = .awaitingSASLInit
            var buffer = ByteBuffer()
            AMQPProtocolHeader.sasl.write(to: &buffer)
            Self.writeFrame(
                .sasl,
                channel: 0,
                value: AMQPSASLFrame.mechanisms(configuration.saslMechanisms).value,
                into: &buffer
            )
            return [.write(buffer)]
        case (.awaitingHeader, 0) where supported && plainAllowed, (.awaitingAMQPHeader, 0) where supported:
            state = .awaitingOpen
            var buffer = ByteBuffer()
            AMQPProtocolHeader.amqp.write(to: &buffer)
            return [.write(buffer)]
        default:
            // Answer with the header this side wants at this point, and close (part 2.2).
            let wanted: AMQPProtocolHeader
            if case .awaitingHeader = state, !configuration.allowsPlainAMQP { wanted = .sasl } else { wanted = .amqp }
            state = .closed
            var buffer = ByteBuffer()
            wanted.write(to: &buffer)
            return [
                .write(buffer),
                .closeConnection(
                    error: AMQPError(
                        condition: AMQPError.notAllowed,
                        description: "The protocol header \(header) is not supported here."
                    )
                ),
            ]
        }
    }

    private mutating func receiveFrame(_ frame: AMQPFrame) throws -> [Action] {
        var body = frame.body
        let value = try body.readAMQPValue()
        switch frame.type {
        case .sasl:
            switch state {
            case .clientAwaitingMechanisms, .clientAwaitingOutcome:
                return try receiveClientSASL(try AMQPSASLFrame(value))
            default:
                break
            }
            guard case .awaitingSASLInit = state else {
                throw AMQPError(condition: AMQPError.notAllowed, description: "A SASL frame arrived outside SASL.")
            }
            guard case .initial(let mechanism, let response, let hostname) = try AMQPSASLFrame(value) else {
                throw AMQPError(condition: AMQPError.notAllowed, description: "Expected sasl-init.")
            }
            guard configuration.saslMechanisms.contains(mechanism) else {
                return saslOutcome(authenticated: false)
            }
            state = .authenticating
            return [.authenticate(mechanism: mechanism, response: response, hostname: hostname)]
        case .amqp:
            let performative = try AMQPPerformative(value)
            return try receive(performative, channel: frame.channel, payload: body)
        }
    }

    private mutating func receive(
        _ performative: AMQPPerformative,
        channel: UInt16,
        payload: ByteBuffer
    ) throws -> [Action] {
        switch (state, performative) {
        case (.awaitingOpen, .open(let open)):
            return receiveOpen(open)
        case (.clientAwaitingOpen, .open(let open)):
            peerMaxFrameSize = open.maxFrameSize ?? UInt32.max
            peerIdleTimeout = open.idleTimeOut
            peerChannelMax = open.channelMax ?? UInt16.max
            state = .open
            return [.opened(open)]
        case (.open, .begin(let begin)) where begin.remoteChannel != nil:
            return try receiveBeginReply(begin, channel: channel)
        case (.open, .close(let error)), (.closeSent, .close(let error)):
            return receiveClose(error)
        case (.closeSent, _):
            // After close, everything but the peer's close is ignored (part 2.4.3).
            return []
        case (.open, .begin(let begin)):
            return try receiveBegin(begin, channel: channel)
        case (.open, _):
            guard let local = localChannels[channel], var session = sessions[local] else {
                throw AMQPError(
                    condition: "amqp:connection:framing-error",
                    description: "Channel \(channel) has no session (begin first)."
                )
            }
            var actions: [Action] = []
            let ended = try session.receive(
                performative,
                payload: payload,
                peerMaxFrameSize: peerMaxFrameSize,
                configuration: configuration,
                into: &actions
            )
            if ended {
                sessions[local] = nil
                localChannels[channel] = nil
            } else {
                sessions[local] = session
            }
            return actions
        default:
            throw AMQPError(
                condition: AMQPError.notAllowed,
                description: "\(Self.name(of: performative)) is not allowed before the connection is open."
            )
        }
    }

    private mutating func receiveOpen(_ open: AMQPPerformative.Open) -> [Action] {
        if let size = open.maxFrameSize, size < 512 {
            return fail(
                AMQPError(
                    condition: "amqp:invalid-field",
                    description: "max-frame-size \(size) is below the minimum of 512."
                )
            )
        }
        peerMaxFrameSize = min(open.maxFrameSize ?? UInt32.max, UInt32.max)
        peerIdleTimeout = open.idleTimeOut
        peerChannelMax = open.channelMax ?? UInt16.max
        state = .open
        var reply = AMQPPerformative.Open(
            containerId: configuration.containerId,
            hostname: nil,
            maxFrameSize: configuration.maxFrameSize
        )
        reply.channelMax = min(configuration.channelMax, peerChannelMax)
        reply.idleTimeOut = configuration.idleTimeout > 0 ? configuration.idleTimeout : nil
        var buffer = ByteBuffer()
        Self.writeFrame(.amqp, channel: 0, value: AMQPPerformative.open(reply).value, into: &buffer)
        return [.write(buffer), .opened(open)]
    }

    private mutating func receiveClose(_ error: AMQPError?) -> [Action] {
        // Answer the peer's close, unless this side started the closing.
        let answered: Bool
        if case .closeSent = state { answered = true } else { answered = false }
        var actions = transportClosed()
        if !answered {
            var buffer = ByteBuffer()
            Self.writeFrame(.amqp, channel: 0, value: AMQPPerformative.close(nil).value, into: &buffer)
            actions.append(.write(buffer))
        }
        actions.append(.closeConnection(error: error))
        return actions
    }

    private mutating func receiveBegin(_ begin: AMQPPerformative.Begin, channel: UInt16) throws -> [Action] {
        guard localChannels[channel] == nil else {
            throw AMQPError(
                condition: "amqp:connection:framing-error",
                description: "Channel \(channel) already has a session."
            )
        }
        guard begin.remoteChannel == nil else {
            throw AMQPError(
                condition: AMQPError.notAllowed,
                description: "This server does not begin sessions, so a begin with a remote-channel is not an answer."
            )
        }
        guard channel <= configuration.channelMax,
            let local = (0...configuration.channelMax).first(where: { sessions[$0] == nil })
        else {
            throw AMQPError(
                condition: "amqp:resource-limit-exceeded",
                description: "No more sessions on this connection (channel-max \(configuration.channelMax))."
            )
        }
        let session = AMQPSessionState(
            localChannel: local,
            remoteChannel: channel,
            begin: begin,
            incomingWindow: configuration.incomingWindow
        )
        sessions[local] = session
        localChannels[channel] = local
        var reply = AMQPPerformative.Begin(
            remoteChannel: channel,
            nextOutgoingId: session.nextOutgoingId,
            incomingWindow: session.incomingWindow,
            outgoingWindow: session.outgoingWindow
        )
        reply.handleMax = session.handleMax
        var buffer = ByteBuffer()
        Self.writeFrame(.amqp, channel: local, value: AMQPPerformative.begin(reply).value, into: &buffer)
        return [.write(buffer)]
    }

    // MARK: - Client

    /// Client: opens the connection — the SASL header (or, without credentials, the AMQP header) and, once SASL
    /// succeeds, the AMQP header with `open`. `.opened` follows when the server's open arrives.
    public mutating func startClient(credentials: AMQPSASLCredentials?, hostname: String?) -> [Action] {
        guard case .awaitingHeader = state else { return [] }
        var buffer = ByteBuffer()
        if let credentials {
            AMQPProtocolHeader.sasl.write(to: &buffer)
            state = .clientAwaitingSASLHeader(credentials, hostname: hostname)
            return [.write(buffer)]
        }
        return [.write(clientOpen(hostname: hostname))]
    }

    private mutating func clientOpen(hostname: String?) -> ByteBuffer {
        var buffer = ByteBuffer()
        AMQPProtocolHeader.amqp.write(to: &buffer)
        var open = AMQPPerformative.Open(
            containerId: configuration.containerId,
            hostname: hostname,
            maxFrameSize: configuration.maxFrameSize
        )
        open.channelMax = configuration.channelMax
        open.idleTimeOut = configuration.idleTimeout > 0 ? configuration.idleTimeout : nil
        Self.writeFrame(.amqp, channel: 0, value: AMQPPerformative.open(open).value, into: &buffer)
        state = .clientAwaitingAMQPHeader
        return buffer
    }

    private mutating func receiveClientSASL(_ frame: AMQPSASLFrame) throws -> [Action] {
        switch (state, frame) {
        case (.clientAwaitingMechanisms(let credentials, let hostname), .mechanisms(let offered)):
            guard offered.contains(credentials.mechanism) else {
                throw AMQPError(
                    condition: AMQPError.notAllowed,
                    description:
                        "The server offers SASL \(offered.joined(separator: ", ")), not \(credentials.mechanism)."
                )
            }
            state = .clientAwaitingOutcome(hostname: hostname)
            var buffer = ByteBuffer()
            Self.writeFrame(
                .sasl,
                channel: 0,
                value: AMQPSASLFrame.initial(
                    mechanism: credentials.mechanism,
                    response: credentials.initialResponse,
                    hostname: hostname
                ).value,
                into: &buffer
            )
            return [.write(buffer)]
        case (.clientAwaitingOutcome(let hostname), .outcome(let code, _)):
            guard code == AMQPSASLFrame.Code.ok else {
                state = .closed
                return [
                    .closeConnection(
                        error: AMQPError(
                            condition: AMQPError.unauthorizedAccess,
                            description: "SASL authentication failed (outcome code \(code))."
                        )
                    )
                ]
            }
            return [.write(clientOpen(hostname: hostname))]
        default:
            throw AMQPError(condition: AMQPError.notAllowed, description: "Unexpected SASL frame \(frame).")
        }
    }

    /// Client: begins a session; `.sessionBegun` follows with the channel returned here.
    public mutating func beginSession() -> (channel: UInt16?, actions: [Action]) {
        guard case .open = state,
            let local = (0...configuration.channelMax).first(where: {
                sessions[$0] == nil && !pendingBegins.contains($0)
            })
        else { return (nil, []) }
        pendingBegins.insert(local)
        var buffer = ByteBuffer()
        let begin = AMQPPerformative.Begin(
            remoteChannel: nil,
            nextOutgoingId: 0,
            incomingWindow: configuration.incomingWindow,
            outgoingWindow: 5000
        )
        Self.writeFrame(.amqp, channel: local, value: AMQPPerformative.begin(begin).value, into: &buffer)
        return (local, [.write(buffer)])
    }

    private mutating func receiveBeginReply(_ begin: AMQPPerformative.Begin, channel: UInt16) throws -> [Action] {
        guard let local = begin.remoteChannel, pendingBegins.remove(local) != nil else {
            throw AMQPError(
                condition: AMQPError.notAllowed,
                description: "A begin answers channel \(begin.remoteChannel ?? 0), which began no session."
            )
        }
        sessions[local] = AMQPSessionState(
            localChannel: local,
            remoteChannel: channel,
            begin: begin,
            incomingWindow: configuration.incomingWindow
        )
        localChannels[channel] = local
        return [.sessionBegun(channel: local)]
    }

    /// Client: attaches a link on a session; `.attached` follows when the server answers.
    public mutating func attach(
        channel: UInt16,
        name: String,
        role: AMQPRole,
        source: AMQPValue,
        target: AMQPValue,
        senderSettleMode: UInt8? = nil,
        receiverSettleMode: UInt8? = nil,
        properties: [AMQPMapEntry]? = nil
    ) -> (link: AMQPLinkID?, actions: [Action]) {
        guard case .open = state, var session = sessions[channel] else { return (nil, []) }
        var actions: [Action] = []
        let handle = session.attachLocally(
            name: name,
            role: role,
            source: source,
            target: target,
            senderSettleMode: senderSettleMode,
            receiverSettleMode: receiverSettleMode,
            properties: properties,
            configuration: configuration,
            into: &actions
        )
        sessions[channel] = session
        return (handle.map { AMQPLinkID(channel: channel, handle: $0) }, actions)
    }

    // MARK: - Commands

    /// Answers an `.authenticate` action.
    public mutating func saslOutcome(authenticated: Bool) -> [Action] {
        var buffer = ByteBuffer()
        Self.writeFrame(
            .sasl,
            channel: 0,
            value: AMQPSASLFrame.outcome(
                code: authenticated ? AMQPSASLFrame.Code.ok : AMQPSASLFrame.Code.auth,
                additionalData: nil
            ).value,
            into: &buffer
        )
        guard authenticated else {
            state = .closed
            return [
                .write(buffer),
                .closeConnection(
                    error: AMQPError(
                        condition: AMQPError.unauthorizedAccess,
                        description: "SASL authentication failed."
                    )
                ),
            ]
        }
        state = .awaitingAMQPHeader
        return [.write(buffer)]
    }

    /// Accepts a link the peer asked for, with the terminus this side sets (`nil` echoes the peer's).
    public mutating func acceptAttach(
        _ link: AMQPLinkID,
        source: AMQPValue? = nil,
        target: AMQPValue? = nil,
        properties: [AMQPMapEntry]? = nil
    ) -> [Action] {
        let configuration = self.configuration
        return withSession(link.channel) { session, actions in
            session.acceptAttach(
                link.handle,
                source: source,
                target: target,
                properties: properties,
                configuration: configuration,
                into: &actions
            )
        }
    }

    /// Refuses a link the peer asked for: an attach with no terminus, then a closing detach with `error`.
    public mutating func refuseAttach(_ link: AMQPLinkID, error: AMQPError) -> [Action] {
        withSession(link.channel) { session, actions in
            session.refuseAttach(link.handle, error: error, into: &actions)
        }
    }

    /// Settles a message that arrived (accepted, rejected, …). The disposition is sent only when the sender left
    /// the delivery unsettled; either way the link's credit is restored.
    public mutating func settleIncoming(_ link: AMQPLinkID, deliveryId: UInt32, state: AMQPDeliveryState) -> [Action] {
        let configuration = self.configuration
        return withSession(link.channel) { session, actions in
            session.settleIncoming(
                link.handle,
                deliveryId: deliveryId,
                state: state,
                configuration: configuration,
                into: &actions
            )
        }
    }

    /// Sends a message on a link where this side sends, if the peer gave credit; `nil` when it has none (the
    /// message was not sent). Returns the delivery id.
    public mutating func send(
        _ link: AMQPLinkID,
        tag: [UInt8],
        payload: ByteBuffer,
        settled: Bool,
        messageFormat: UInt32 = 0
    ) -> (deliveryId: UInt32?, actions: [Action]) {
        guard case .open = state, var session = sessions[link.channel] else { return (nil, []) }
        var actions: [Action] = []
        let id = session.send(
            link.handle,
            tag: tag,
            payload: payload,
            settled: settled,
            messageFormat: messageFormat,
            peerMaxFrameSize: min(peerMaxFrameSize, 1 << 24),
            into: &actions
        )
        sessions[link.channel] = session
        return (id, actions)
    }

    /// Whether the peer's attach of `link` waits for this side's answer (it was not answered or detached yet).
    public func isAttaching(_ link: AMQPLinkID) -> Bool {
        guard case .open = state, let state = sessions[link.channel]?.links[link.handle] else { return false }
        return !state.attached && !state.detachSent
    }

    /// The credit the peer gives on a link where this side sends.
    public func credit(_ link: AMQPLinkID) -> UInt32 {
        sessions[link.channel]?.links[link.handle]?.credit ?? 0
    }

    /// Settles a message this side sent, with the outcome it applied (the settlement echo the peer waits for).
    public mutating func settleOutgoing(
        _ link: AMQPLinkID,
        deliveryId: UInt32,
        state: AMQPDeliveryState?
    )
        -> [Action]
    {
        withSession(link.channel) { session, actions in
            session.settleOutgoing(deliveryId: deliveryId, state: state, into: &actions)
        }
    }

    /// Ends a drain: the credit left on the link is used up and the peer is told.
    public mutating func drain(_ link: AMQPLinkID) -> [Action] {
        withSession(link.channel) { session, actions in
            session.drain(link.handle, into: &actions)
        }
    }

    /// Detaches a link with an error (closing it).
    public mutating func detach(_ link: AMQPLinkID, error: AMQPError?) -> [Action] {
        withSession(link.channel) { session, actions in
            session.detach(link.handle, error: error, into: &actions)
        }
    }

    /// Closes the connection with an error, or without one.
    public mutating func close(error: AMQPError?) -> [Action] {
        fail(error)
    }

    private mutating func withSession(
        _ channel: UInt16,
        _ body: (inout AMQPSessionState, inout [Action]) -> Void
    ) -> [Action] {
        guard case .open = state, var session = sessions[channel] else { return [] }
        var actions: [Action] = []
        body(&session, &actions)
        sessions[channel] = session
        return actions
    }

    /// Closes the connection: a close frame with the error when the connection is open, and the end.
    private mutating func fail(_ error: AMQPError?) -> [Action] {
        switch state {
        case .closed, .closeSent: return []
        default: break
        }
        var actions: [Action] = []
        let wasOpen: Bool
        switch state {
        case .open, .awaitingOpen, .clientAwaitingOpen: wasOpen = true
        default: wasOpen = false
        }
        actions += transportClosed()
        if wasOpen {
            var buffer = ByteBuffer()
            Self.writeFrame(.amqp, channel: 0, value: AMQPPerformative.close(error).value, into: &buffer)
            actions.append(.write(buffer))
        }
        actions.append(.closeConnection(error: error))
        return actions
    }

    // MARK: - Encoding

    /// Writes one frame whose body is `value` (and `payload`, for a transfer).
    static func writeFrame(
        _ type: AMQPFrame.FrameType,
        channel: UInt16,
        value: AMQPValue,
        payload: ByteBuffer? = nil,
        into buffer: inout ByteBuffer
    ) {
        let start = buffer.writerIndex
        buffer.writeInteger(UInt32(0))
        buffer.writeInteger(UInt8(2))
        buffer.writeInteger(type.rawValue)
        buffer.writeInteger(channel)
        do {
            _ = try buffer.writeAMQPValue(value)
        } catch {
            // Only a value that breaks its own type's rules fails (an array of mixed elements): never a frame this
            // machine builds. Should it happen, the peer gets a close rather than a broken frame.
            buffer.moveWriterIndex(to: start)
            let close = AMQPPerformative.close(
                AMQPError(condition: AMQPError.internalError, description: "A frame could not be encoded: \(error)")
            )
            writeFrame(.amqp, channel: 0, value: close.value, into: &buffer)
            return
        }
        if var payload { buffer.writeBuffer(&payload) }
        buffer.setInteger(UInt32(buffer.writerIndex - start), at: start)
    }

    static func name(of performative: AMQPPerformative) -> String {
        switch performative {
        case .open: "open"
        case .begin: "begin"
        case .attach: "attach"
        case .flow: "flow"
        case .transfer: "transfer"
        case .disposition: "disposition"
        case .detach: "detach"
        case .end: "end"
        case .close: "close"
        }
    }
}

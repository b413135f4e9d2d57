import Logging
import NIOCore
import Synchronization

/// What an application does with the events of one server-side connection. The connection calls it from one task,
/// in the order the frames arrived, and waits for each call; long work (waiting for messages to deliver) belongs in
/// tasks of the handler's own.
public protocol AMQPConnectionHandler: Sendable {
    /// Whether a SASL init authenticates.
    func authenticate(mechanism: String, response: [UInt8]?, hostname: String?) async -> Bool
    /// The peer asks for a link: answer with `connection.acceptAttach` or `connection.refuseAttach`.
    func attachRequested(_ link: AMQPLinkID, role: AMQPRole, attach: AMQPPerformative.Attach) async
    /// A message arrived: settle it with `connection.settleIncoming`.
    func message(_ delivery: AMQPIncomingDelivery) async
    /// The peer's credit changed on a link where this side sends.
    func credit(_ link: AMQPLinkID, credit: UInt32, drain: Bool) async
    /// The peer settled (or gave an outcome for) a message this side sent.
    func settled(_ settlement: AMQPSettlement) async
    /// A link is gone.
    func linkDetached(_ link: AMQPLinkID, error: AMQPError?) async
    /// The connection is over.
    func connectionClosed() async
    /// The connection is closing, with the error that closes it (the peer's, or this side's).
    func connectionClosing(error: AMQPError?) async
    /// Client: the server's open arrived.
    func opened(_ open: AMQPPerformative.Open) async
    /// Client: the server answered a begin.
    func sessionBegun(channel: UInt16) async
    /// Client: the server answered an attach (a null terminus means a refusal; its detach follows).
    func attached(_ link: AMQPLinkID, attach: AMQPPerformative.Attach) async
}

extension AMQPConnectionHandler {
    public func connectionClosing(error: AMQPError?) async {}
    public func opened(_ open: AMQPPerformative.Open) async {}
    public func sessionBegun(channel: UInt16) async {}
    public func attached(_ link: AMQPLinkID, attach: AMQPPerformative.Attach) async {}
    public func authenticate(mechanism: String, response: [UInt8]?, hostname: String?) async -> Bool { false }
    public func attachRequested(_ link: AMQPLinkID, role: AMQPRole, attach: AMQPPerformative.Attach) async {}
}

/// One server-side AMQP connection: the protocol state machine and the I/O around it. Frames are decoded here (so
/// that TCP and WebSocket transports feed the same bytes), writes leave in the order the machine produced them.
///
/// The application's commands (`acceptAttach`, `send`, …) may come from any task.
public final class AMQPConnection: Sendable {
    private struct Locked: Sendable {
        var machine: AMQPConnectionStateMachine
        /// Bytes waiting for the writer, in the order the machine produced them: the writer takes all of them at
        /// once, so frames produced together leave in one write.
        var pending = ByteBuffer()
        /// Wakes the writer; finished when the connection closes (after the last bytes).
        var wake: AsyncStream<Void>.Continuation
        var closed = false
        /// Whether the writer task has bytes on their way (written bytes must wait behind them).
        var writerBusy = false
        /// Writes without waiting, when the transport takes them now (``run(inbound:handler:write:writeNow:closeTransport:)``).
        var writeNow: (@Sendable (ByteBuffer) -> Bool)?
    }

    private let locked: Mutex<Locked>
    private let wakes: AsyncStream<Void>
    public let logger: Logger
    /// The event loop of a TCP connection's channel, as a task executor: the connection runs on it, and the
    /// application's tasks for the connection should prefer it (`Task(executorPreference:)`). `nil` for other
    /// transports.
    public let taskExecutor: EventLoopTaskExecutor?

    init(
        configuration: AMQPConnectionStateMachine.Configuration,
        taskExecutor: EventLoopTaskExecutor? = nil,
        logger: Logger
    ) {
        self.taskExecutor = taskExecutor
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.wakes = stream
        self.logger = logger
        self.locked = Mutex(
            Locked(
                machine: AMQPConnectionStateMachine(configuration: configuration),
                wake: continuation
            )
        )
    }

    /// The bytes waiting to be written (all of them), or `nil` when there are none (the writer is then idle).
    private func takePending() -> ByteBuffer? {
        locked.withLock { state in
            guard state.pending.readableBytes > 0 else {
                state.writerBusy = false
                return nil
            }
            state.writerBusy = true
            defer { state.pending = ByteBuffer() }
            return state.pending
        }
    }

    /// Monotonic nanoseconds, for the idle timeout.
    static var now: UInt64 { NIODeadline.now().uptimeNanoseconds }

    /// Runs `body` on the machine, sends its writes in order, ends the writes when it closes, and returns the other
    /// actions.
    @discardableResult
    func apply(
        _ body: (inout AMQPConnectionStateMachine) -> [AMQPConnectionStateMachine.Action]
    ) -> [AMQPConnectionStateMachine.Action] {
        locked.withLock { state in
            let actions = body(&state.machine)
            var events: [AMQPConnectionStateMachine.Action] = []
            var out: ByteBuffer?
            for action in actions {
                switch action {
                case .write(var buffer):
                    guard !state.closed else { continue }
                    if out == nil { out = buffer } else { out?.writeBuffer(&buffer) }
                    state.machine.didWrite(now: Self.now)
                case .closeConnection(let error):
                    if let error {
                        logger.debug("closing the AMQP connection", metadata: ["error": "\(error)"])
                    }
                    state.closed = true
                    state.wake.finish()
                    events.append(action)
                default:
                    events.append(action)
                }
            }
            if var out {
                // Straight to the transport when nothing waits before these bytes and it takes them now (no hop
                // through the writer task); otherwise behind the others, for the writer.
                if let writeNow = state.writeNow, !state.writerBusy, state.pending.readableBytes == 0, writeNow(out) {
                    return events
                }
                state.pending.writeBuffer(&out)
                state.wake.yield()
            }
            return events
        }
    }

    /// Whether the connection is closed or closing.
    public var isClosed: Bool { locked.withLock { $0.closed } }

    // MARK: - Commands

    /// Accepts a link the peer asked for (`nil` termini echo the peer's).
    public func acceptAttach(
        _ link: AMQPLinkID,
        source: AMQPValue? = nil,
        target: AMQPValue? = nil,
        properties: [AMQPMapEntry]? = nil
    ) {
        apply { $0.acceptAttach(link, source: source, target: target, properties: properties) }
    }

    /// Refuses a link with an error (`amqp:not-found`, `amqp:unauthorized-access`, …).
    public func refuseAttach(_ link: AMQPLinkID, error: AMQPError) {
        apply { $0.refuseAttach(link, error: error) }
    }

    /// Settles a message that arrived.
    public func settleIncoming(_ link: AMQPLinkID, deliveryId: UInt32, state: AMQPDeliveryState) {
        apply { $0.settleIncoming(link, deliveryId: deliveryId, state: state) }
    }

    /// Sends a message if the peer gave credit; returns its delivery id, `nil` when it was not sent.
    public func send(
        _ link: AMQPLinkID,
        tag: [UInt8],
        payload: ByteBuffer,
        settled: Bool,
        messageFormat: UInt32 = 0
    ) -> UInt32? {
        var id: UInt32?
        apply { machine in
            let (sent, actions) = machine.send(
                link,
                tag: tag,
                payload: payload,
                settled: settled,
                messageFormat: messageFormat
            )
            id = sent
            return actions
        }
        return id
    }

    /// Whether the peer's attach of `link` still waits for an answer.
    public func isAttaching(_ link: AMQPLinkID) -> Bool {
        locked.withLock { $0.machine.isAttaching(link) }
    }

    /// The credit the peer gives on a link where this side sends.
    public func credit(_ link: AMQPLinkID) -> UInt32 {
        locked.withLock { $0.machine.credit(link) }
    }

    /// Settles a message this side sent, echoing the outcome applied.
    public func settleOutgoing(_ link: AMQPLinkID, deliveryId: UInt32, state: AMQPDeliveryState?) {
        apply { $0.settleOutgoing(link, deliveryId: deliveryId, state: state) }
    }

    /// Ends a drain: the rest of the credit is used up.
    public func drain(_ link: AMQPLinkID) {
        apply { $0.drain(link) }
    }

    /// Detaches a link, with an error or without.
    public func detach(_ link: AMQPLinkID, error: AMQPError?) {
        apply { $0.detach(link, error: error) }
    }

    /// Closes the connection.
    public func close(error: AMQPError?) {
        apply { $0.close(error: error) }
    }

    // MARK: - Running

    /// Runs the connection over a byte transport until either side closes it: `inbound` yields the bytes that
    /// arrive, `write` sends bytes, `closeTransport` closes it.
    ///
    /// `writeNow`, when given, writes without waiting and says whether the transport took the bytes (a TCP channel
    /// that is writable): bytes with nothing queued before them go that way, the others through `write`.
    func run<Inbound: AsyncSequence<ByteBuffer, any Error>>(
        inbound: Inbound,
        handler: some AMQPConnectionHandler,
        write: @escaping @Sendable (ByteBuffer) async throws -> Void,
        writeNow: (@Sendable (ByteBuffer) -> Bool)? = nil,
        closeTransport: @escaping @Sendable () async -> Void
    ) async {
        locked.withLock { $0.writeNow = writeNow }
        await withTaskExecutorPreference(taskExecutor) {
            await runTasks(inbound: inbound, handler: handler, write: write, closeTransport: closeTransport)
        }
    }

    private func runTasks<Inbound: AsyncSequence<ByteBuffer, any Error>>(
        inbound: Inbound,
        handler: some AMQPConnectionHandler,
        write: @escaping @Sendable (ByteBuffer) async throws -> Void,
        closeTransport: @escaping @Sendable () async -> Void
    ) async {
        let maximumFrameSize = Int(locked.withLock { $0.machine.configuration.maxFrameSize })
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                writing: for await _ in self.wakes {
                    while let bytes = self.takePending() {
                        do { try await write(bytes) } catch { break writing }
                    }
                }
                // The stream ends after the connection closed: what was produced before is out.
                while let bytes = self.takePending() {
                    do { try await write(bytes) } catch { break }
                }
                await closeTransport()
            }
            group.addTask {
                // Heartbeats and the idle timeout.
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    _ = self.apply { $0.tick(now: Self.now) }
                }
            }
            let processor = NIOSingleStepByteToMessageProcessor(AMQPFrameDecoder(maximumFrameSize: maximumFrameSize))
            do {
                reading: for try await bytes in inbound {
                    var inputs: [AMQPFrameInput] = []
                    do {
                        try processor.process(buffer: bytes) { inputs.append($0) }
                    } catch {
                        for input in inputs { await dispatch(input, handler: handler) }
                        let message = (error as? AMQPFramingError)?.message ?? "\(error)"
                        apply { $0.framingError(message) }
                        break reading
                    }
                    for input in inputs {
                        await dispatch(input, handler: handler)
                        if isClosed { break reading }
                    }
                }
            } catch {
                logger.debug("AMQP transport failed", metadata: ["error": "\(error)"])
                // Kept as the reason, unless the peer's close already gave one.
                await handler.connectionClosing(
                    error: AMQPError(
                        condition: "amqp:connection:forced",
                        description: "The connection's transport failed: \(error)"
                    )
                )
            }
            for event in apply({ $0.transportClosed() }) { await deliver(event, to: handler) }
            locked.withLock { state in
                state.closed = true
                state.wake.finish()
            }
            await handler.connectionClosed()
            group.cancelAll()
        }
    }

    private func dispatch(_ input: AMQPFrameInput, handler: some AMQPConnectionHandler) async {
        for event in apply({ $0.receive(input, now: Self.now) }) {
            await deliver(event, to: handler)
        }
    }

    private func deliver(
        _ event: AMQPConnectionStateMachine.Action,
        to handler: some AMQPConnectionHandler
    )
        async
    {
        switch event {
        case .authenticate(let mechanism, let response, let hostname):
            let ok = await handler.authenticate(mechanism: mechanism, response: response, hostname: hostname)
            for next in apply({ $0.saslOutcome(authenticated: ok) }) { await deliver(next, to: handler) }
        case .attachRequested(let link, let role, let attach):
            await handler.attachRequested(link, role: role, attach: attach)
        case .message(let delivery):
            await handler.message(delivery)
        case .credit(let link, let credit, let drain):
            await handler.credit(link, credit: credit, drain: drain)
        case .settled(let settlement):
            await handler.settled(settlement)
        case .linkDetached(let link, let error):
            await handler.linkDetached(link, error: error)
        case .opened(let open):
            await handler.opened(open)
        case .sessionBegun(let channel):
            await handler.sessionBegun(channel: channel)
        case .attached(let link, let attach):
            await handler.attached(link, attach: attach)
        case .closeConnection(let error):
            await handler.connectionClosing(error: error)
        case .write:
            break
        }
    }
}

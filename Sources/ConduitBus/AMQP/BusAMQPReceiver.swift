import ConduitAMQP
import ConduitStore
import Foundation
import Logging
import Synchronization

/// A link on which a client receives: from a queue, a subscription or a dead-letter sub-queue (peek-lock, with the
/// lock token as the delivery tag, or receive-and-delete), or from an event hub partition (pre-settled events from a
/// start position). A task delivers while the client gives credit.
final class BusAMQPReceiver: Sendable {
    let node: BusAMQPNode
    let link: AMQPLinkID
    let handler: BusAMQPHandler
    /// Peek-lock (the client settles each message) or receive-and-delete (sent settled).
    let peekLock: Bool
    private let wake = Wake()
    private struct State: Sendable {
        var drain = false
        var task: Task<Void, Never>?
        var stopped = false
        /// Lock tokens of the messages sent and not settled yet, by delivery id.
        var locks: [UInt32: UUID] = [:]
        /// The next event hub sequence number to send.
        var nextSequence: Int64?
        /// The session this receiver holds (session receivers).
        var session: SessionLock?
        /// Its registration among the queue's waiters, while it waits to be handed a message.
        var waiter: UInt64?
    }
    private let state = Mutex(State())
    /// Where an event hub reader starts.
    let startPosition: EventPosition?
    let attachProperties: [AMQPMapEntry]
    /// What a session receiver asked for: a session by id, or (`nil` inside) the next one available; `nil` for a
    /// receiver without sessions.
    let sessionRequest: String??

    init(node: BusAMQPNode, link: AMQPLinkID, attach: AMQPPerformative.Attach, handler: BusAMQPHandler) throws {
        self.node = node
        self.link = link
        self.handler = handler
        self.attachProperties = attach.properties ?? []
        // snd-settle-mode 1 (settled): receive-and-delete; otherwise peek-lock.
        self.peekLock = attach.senderSettleMode != 1
        if case .eventHubConsumer = node {
            startPosition = try EventPosition(source: attach.source)
            sessionRequest = nil
        } else {
            startPosition = nil
            sessionRequest = Self.sessionFilter(attach.source).map { $0.text }
        }
    }

    static let sessionFilterName = "com.microsoft:session-filter"
    static let sessionFilterKey = AMQPValue.symbol(sessionFilterName)

    /// The session filter of a source: absent (`nil`), or its value (null for the next session available).
    private static func sessionFilter(_ source: AMQPValue) -> AMQPValue? {
        (try? AMQPSource(source))?.filter(named: sessionFilterName)
    }

    /// The session this receiver holds.
    var session: SessionLock? { state.withLock { $0.session } }

    /// Takes a session's lock: the one asked for, or the next with a message, waiting up to `timeout` for one.
    /// Returns the lock, or throws the error that refuses the link.
    func acquireSession(timeout: Duration) async throws -> SessionLock {
        guard case .some(let wanted) = sessionRequest else {
            throw AMQPError(condition: AMQPError.internalError, description: "Not a session receiver.")
        }
        let queues = namespace.queues
        let (queue, _) = QueueStore.split(node.entityPath)
        let deadline = ContinuousClock.now + timeout
        while true {
            let seen = queues.arrivals.generation
            if let lock = try await queues.acceptSession(
                queue,
                sessionId: wanted,
                now: BusAMQPHandler.nowMilliseconds()
            ) {
                state.withLock { $0.session = lock }
                return lock
            }
            let now = ContinuousClock.now
            guard now < deadline else {
                throw AMQPError(
                    condition: "com.microsoft:timeout",
                    description: "No session of '\(queue)' became available within \(timeout)."
                )
            }
            await queues.arrivals.wait(after: seen, timeout: min(deadline - now, .milliseconds(250)))
            try Task.checkCancellation()
        }
    }

    /// The session's lock was renewed.
    func sessionRenewed(until: Int64) {
        state.withLock { $0.session?.lockedUntil = until }
    }

    /// The owner level (`com.microsoft:epoch`) of an event hub reader.
    var epoch: Int64? {
        attachProperties.first { $0.key == .symbol("com.microsoft:epoch") }.flatMap {
            $0.value.integer
        }
    }

    /// Takes its place among the partition's readers (event hubs); the error refuses it.
    func claim() -> AMQPError? {
        guard case .eventHubConsumer(let hub, let group, let partition) = node else { return nil }
        return namespace.eventHubOwners.register(
            hub: hub,
            group: group,
            partition: partition,
            epoch: epoch,
            id: ObjectIdentifier(self)
        ) { [weak self] error in
            guard let self else { return }
            self.stop()
            self.connection.detach(self.link, error: error)
        }
    }

    func start() {
        let task = Task(executorPreference: connection.taskExecutor) { await self.run() }
        state.withLock { $0.task = task }
    }

    func stop() {
        let task = state.withLock { state -> Task<Void, Never>? in
            state.stopped = true
            return state.task
        }
        if case .eventHubConsumer(let hub, let group, let partition) = node {
            namespace.eventHubOwners.unregister(
                hub: hub,
                group: group,
                partition: partition,
                id: ObjectIdentifier(self)
            )
        }
        task?.cancel()
        wake.signal()
        if let id = state.withLock({ $0.waiter }), let queue = handedQueue {
            namespace.queues.waiters.unregister(id, queue: queue)
        }
        if let lock = state.withLock({ $0.session }) {
            let queues = namespace.queues
            let (queue, _) = QueueStore.split(node.entityPath)
            Task { try? await queues.releaseSession(queue, lock: lock) }
        }
    }

    func creditChanged(drain: Bool) {
        if drain { state.withLock { $0.drain = true } }
        wake.signal()
    }

    private var connection: AMQPConnection { handler.connection }
    private var namespace: BusNamespace { handler.namespace }

    private func run() async {
        while !Task.isCancelled, !connection.isClosed {
            let seenCredit = wake.generation
            let seenArrivals = namespace.queues.arrivals.generation
            guard connection.credit(link) > 0 else {
                if state.withLock({ $0.drain }) {
                    state.withLock { $0.drain = false }
                    connection.drain(link)
                }
                await wake.wait(after: seenCredit, timeout: .seconds(5))
                continue
            }
            do {
                if try await deliverOne() { continue }
            } catch let error as BusError {
                connection.detach(link, error: BusAMQPHandler.amqpError(error))
                return
            } catch let error as AMQPError {
                connection.detach(link, error: error)
                return
            } catch {
                if Task.isCancelled { return }
                handler.logger.warning("AMQP receiver failed to read", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            // Nothing to send now: end a drain, or wait for a message or for credit.
            if state.withLock({ state -> Bool in
                defer { state.drain = false }
                return state.drain
            }) {
                connection.drain(link)
                continue
            }
            registerWaiter()
            await namespace.queues.arrivals.wait(after: seenArrivals, timeout: .milliseconds(200))
        }
    }

    /// The queue whose sends may hand this receiver messages directly: a peek-lock receiver of a queue or a
    /// subscription, without sessions; `nil` for the others.
    private var handedQueue: String? {
        guard peekLock, sessionRequest == nil, case .entity(let path) = node else { return nil }
        let (queue, deadLetters) = QueueStore.split(path)
        return deadLetters ? nil : queue
    }

    /// Waits among the queue's waiters (once, while it has credit), so that the next send hands it its message.
    private func registerWaiter() {
        guard let queue = handedQueue else { return }
        let waiters = namespace.queues.waiters
        state.withLock { state in
            guard !state.stopped, state.waiter == nil, connection.credit(link) > 0 else { return }
            state.waiter = waiters.register(queue: queue) { received in self.handed(received) }
        }
    }

    /// A send committed a message locked for this receiver (or, with `nil`, failed: look again).
    private func handed(_ received: ReceivedMessage?) {
        state.withLock { $0.waiter = nil }
        guard let received, let token = received.lockToken else {
            wake.signal()
            return
        }
        let now = BusAMQPHandler.nowMilliseconds()
        let payload = try? BusAMQPMessages.amqpMessage(received, now: now).encoded()
        let sent = state.withLock { state -> Bool in
            guard !state.stopped, let payload,
                let id = connection.send(link, tag: token.dotNetBytes, payload: payload, settled: false)
            else { return false }
            state.locks[id] = token
            return true
        }
        guard sent else {
            // Stopped, or the credit went away meanwhile: the message goes back uncounted.
            let queues = namespace.queues
            let entity = node.entityPath
            Task { try? await queues.release(entity, lockToken: token, now: now) }
            return
        }
        registerWaiter()
    }

    /// Sends one message if there is one; whether it did.
    private func deliverOne() async throws -> Bool {
        let now = BusAMQPHandler.nowMilliseconds()
        switch node {
        case .eventHubConsumer(let hub, let group, let partition):
            return try await deliverEvent(hub: hub, group: group, partition: partition)
        default:
            let entity = node.entityPath
            let queues = namespace.queues
            let session = state.withLock { $0.session }
            if let session, session.lockedUntil < now {
                throw AMQPError(
                    condition: "com.microsoft:session-lock-lost",
                    description: "The lock of session '\(session.sessionId)' ran out."
                )
            }
            let id = session?.sessionId
            // One message per look: locking several at once for one receiver was measured to cut the throughput of
            // 8 receivers by two thirds (bench amqp 8:8, 2,800 → 870 msg/s), as the batch waits in one prefetch while
            // the others idle.
            guard
                let received = peekLock
                    ? try await queues.peekLock(entity, now: now, session: id)
                    : try await queues.receiveAndDelete(entity, now: now, session: id)
            else { return false }
            let payload = try BusAMQPMessages.amqpMessage(received, now: now).encoded()
            let tag = received.lockToken?.dotNetBytes ?? handler.nextTag()
            let sent = state.withLock { state -> Bool in
                // Sent under the lock, so that a settlement cannot arrive before the lock token is known.
                guard let id = connection.send(link, tag: tag, payload: payload, settled: !peekLock) else {
                    return false
                }
                if let token = received.lockToken { state.locks[id] = token }
                return true
            }
            if !sent, let token = received.lockToken {
                // The credit went away meanwhile: give the message back uncounted.
                try? await queues.release(entity, lockToken: token, now: now)
            }
            return sent
        }
    }

    private func deliverEvent(hub: String, group: String, partition: Int) async throws -> Bool {
        let store = namespace.eventHubs
        var next = state.withLock { $0.nextSequence }
        if next == nil {
            next = try await store.startSequence(hub: hub, partition: partition, position: startPosition ?? .beginning)
            state.withLock { $0.nextSequence = next }
        }
        let credit = Int(connection.credit(link))
        let events = try await store.read(
            hub: hub,
            consumerGroup: group,
            partition: partition,
            from: next ?? 0,
            limit: max(1, min(credit, 100))
        )
        guard !events.isEmpty else { return false }
        for event in events {
            let payload = try BusAMQPEvents.amqpMessage(event).encoded()
            guard connection.send(link, tag: handler.nextTag(), payload: payload, settled: true) != nil else { break }
            state.withLock { $0.nextSequence = event.sequenceNumber + 1 }
        }
        return true
    }

    /// The client's outcome for a peek-locked message: applied, then echoed (the SDKs wait for the same outcome).
    func settled(_ settlement: AMQPSettlement) async {
        guard let token = state.withLock({ $0.locks.removeValue(forKey: settlement.deliveryId) }) else {
            if !settlement.settled {
                connection.settleOutgoing(link, deliveryId: settlement.deliveryId, state: settlement.state)
            }
            return
        }
        let entity = node.entityPath
        let queues = namespace.queues
        let now = BusAMQPHandler.nowMilliseconds()
        var echo = settlement.state
        do {
            switch settlement.state {
            case .accepted? where settlement.settled:
                // Settled first by the receiver, which waits for no answer.
                queues.completeSettled(entity, lockToken: token, now: now)
            case .accepted?:
                try await queues.complete(entity, lockToken: token, now: now)
            case .rejected(let error)?:
                let reason = error?.info?.first { $0.key == .symbol("DeadLetterReason") }.flatMap {
                    $0.value.text
                }
                let description = error?.info?.first { $0.key == .symbol("DeadLetterErrorDescription") }.flatMap {
                    $0.value.text
                }
                try await queues.deadLetter(
                    entity,
                    lockToken: token,
                    reason: reason,
                    description: description,
                    now: now
                )
                echo = .rejected(nil)
            case .modified(_, let undeliverableHere, _)? where undeliverableHere == true:
                try await queues.deferMessage(entity, lockToken: token, now: now)
            case .modified?:
                try await queues.abandon(entity, lockToken: token, now: now)
            case .released?, nil:
                try await queues.release(entity, lockToken: token, now: now)
            case .received?:
                state.withLock { $0.locks[settlement.deliveryId] = token }
                return
            }
        } catch {
            echo = .rejected(BusAMQPHandler.amqpError(error))
        }
        if !settlement.settled {
            connection.settleOutgoing(link, deliveryId: settlement.deliveryId, state: echo)
        }
    }
}

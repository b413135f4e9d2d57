import NIOCore
import NIOPosix
import Synchronization

/// The client's side of the connection's events: each is kept until the task waiting for it takes it, so that an
/// answer arriving before its waiter is never lost. A closed connection fails every wait.
final class AMQPClientEvents: AMQPConnectionHandler {
    enum Key: Hashable {
        case opened
        case session(UInt16)
        case attached(AMQPLinkID)
        case detached(AMQPLinkID)
        case settled(AMQPLinkID, UInt32)
        case credit(AMQPLinkID)
        case message(AMQPLinkID)
    }

    enum Value: Sendable {
        case opened
        case session
        case attached(AMQPPerformative.Attach)
        case detached(AMQPError?)
        case settled(AMQPSettlement)
        case credit
        case message(AMQPIncomingDelivery)
    }

    /// A task waiting for an event (resumed with `nil` when its time is up).
    struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<Value?, any Error>

        func resume(returning value: Value?) { continuation.resume(returning: value) }
        func resume(throwing error: any Error) { continuation.resume(throwing: error) }
        func resume(with result: Result<Value?, any Error>) { continuation.resume(with: result) }
    }

    private struct State {
        var nextWaiter: UInt64 = 0
        /// Events nobody took yet, in arrival order per key.
        var ready: [Key: [Value]] = [:]
        var waiters: [Key: [Waiter]] = [:]
        /// The timeouts of waiters that wait with one, by waiter id (cancelled when an event comes first).
        var timers: [UInt64: Scheduled<Void>] = [:]
        var closed: AMQPError?
        var isClosed = false
    }

    private let state = Mutex(State())
    /// Where the waits' timeouts run: a scheduled task on an event loop, cancelled when the event comes first (a
    /// sleeping task per wait outlived most waits and cost more than the wait itself).
    private let timers: any EventLoop

    init(timers: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()) {
        self.timers = timers
    }

    /// Why waits fail once the connection is over.
    func closedError() -> AMQPError {
        state.withLock {
            $0.closed ?? AMQPError(condition: "amqp:connection:forced", description: "The AMQP connection closed.")
        }
    }

    private func post(_ key: Key, _ value: Value) {
        let (waiter, timer) = state.withLock { state -> (Waiter?, Scheduled<Void>?) in
            if var waiting = state.waiters[key], !waiting.isEmpty {
                let first = waiting.removeFirst()
                state.waiters[key] = waiting.isEmpty ? nil : waiting
                return (first, state.timers.removeValue(forKey: first.id))
            }
            // Credit changes merge: one pending notice is enough.
            if case .credit = key, state.ready[key]?.isEmpty == false { return (nil, nil) }
            state.ready[key, default: []].append(value)
            return (nil, nil)
        }
        timer?.cancel()
        waiter?.resume(returning: value)
    }

    /// Waits for the next event of `key`.
    func next(_ key: Key) async throws -> Value {
        guard let value = try await next(key, timeout: nil) else {
            throw AMQPError(condition: AMQPError.internalError, description: "A wait without a timeout timed out.")
        }
        return value
    }

    /// Waits for the next event of `key`, up to `timeout` (`nil` when it passed first).
    func next(_ key: Key, timeout: Duration?) async throws -> Value? {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value?, any Error>) in
            let (result, id) = state.withLock { state -> (Result<Value?, any Error>?, UInt64) in
                if var ready = state.ready[key], !ready.isEmpty {
                    let value = ready.removeFirst()
                    state.ready[key] = ready.isEmpty ? nil : ready
                    return (.success(value), 0)
                }
                if state.isClosed {
                    return (
                        .failure(
                            state.closed
                                ?? AMQPError(
                                    condition: "amqp:connection:forced",
                                    description: "The AMQP connection closed."
                                )
                        ), 0
                    )
                }
                state.nextWaiter &+= 1
                state.waiters[key, default: []].append(Waiter(id: state.nextWaiter, continuation: continuation))
                return (nil, state.nextWaiter)
            }
            if let result {
                continuation.resume(with: result)
                return
            }
            guard let timeout else { return }
            let timer = timers.scheduleTask(in: TimeAmount(timeout)) { self.expire(key, id) }
            let answered = state.withLock { state -> Bool in
                guard state.waiters[key]?.contains(where: { $0.id == id }) == true else { return true }
                state.timers[id] = timer
                return false
            }
            if answered { timer.cancel() }
        }
    }

    /// The timeout of waiter `id` of `key`: it gets `nil`, unless an event came first.
    private func expire(_ key: Key, _ id: UInt64) {
        let expired = state.withLock { state -> Waiter? in
            state.timers[id] = nil
            guard var waiting = state.waiters[key], let index = waiting.firstIndex(where: { $0.id == id }) else {
                return nil
            }
            let waiter = waiting.remove(at: index)
            state.waiters[key] = waiting.isEmpty ? nil : waiting
            return waiter
        }
        expired?.resume(returning: nil)
    }

    /// Takes an event of `key` if one is there, without waiting.
    func take(_ key: Key) -> Value? {
        state.withLock { state in
            guard var ready = state.ready[key], !ready.isEmpty else { return nil }
            let value = ready.removeFirst()
            state.ready[key] = ready.isEmpty ? nil : ready
            return value
        }
    }

    // MARK: - AMQPConnectionHandler

    func opened(_ open: AMQPPerformative.Open) async { post(.opened, .opened) }
    func sessionBegun(channel: UInt16) async { post(.session(channel), .session) }
    func attached(_ link: AMQPLinkID, attach: AMQPPerformative.Attach) async {
        post(.attached(link), .attached(attach))
    }
    func message(_ delivery: AMQPIncomingDelivery) async { post(.message(delivery.link), .message(delivery)) }
    func credit(_ link: AMQPLinkID, credit: UInt32, drain: Bool) async { post(.credit(link), .credit) }
    func settled(_ settlement: AMQPSettlement) async {
        post(.settled(settlement.link, settlement.deliveryId), .settled(settlement))
    }
    func linkDetached(_ link: AMQPLinkID, error: AMQPError?) async {
        // Whoever waits on the link learns it is gone — before the detach is posted: the caller closing the link
        // may open the next one on the same handle as soon as it sees it, and that link's waiters must stay.
        let reason = error
        let error = error ?? AMQPError(condition: "amqp:link:detach-forced", description: "The link was detached.")
        let waiting = state.withLock { state -> [Waiter] in
            var found: [Waiter] = []
            for key in state.waiters.keys {
                switch key {
                case .attached(let l), .credit(let l), .message(let l), .settled(let l, _):
                    if l == link { found += state.waiters.removeValue(forKey: key) ?? [] }
                default: break
                }
            }
            return found
        }
        for waiter in waiting { waiter.resume(throwing: error) }
        post(.detached(link), .detached(reason))
    }

    func connectionClosed() async {
        let waiting = state.withLock { state -> [Waiter] in
            state.isClosed = true
            defer {
                state.waiters = [:]
                state.timers = [:]
            }
            return state.waiters.values.flatMap { $0 }
        }
        let error = closedError()
        for waiter in waiting { waiter.resume(throwing: error) }
    }

    /// Records why the connection closed (a close from the server, a refused login).
    func connectionClosing(error: AMQPError?) async {
        state.withLock { if $0.closed == nil { $0.closed = error } }
    }
}

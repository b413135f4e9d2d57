import Foundation
import Synchronization

/// Peek-lock receivers of this process waiting for a message, per queue: a send that commits a message while one
/// waits locks the message for it in the same transaction and hands it over once committed, so the receiver needs
/// no transaction of its own and the message no wake-up and second look (direct delivery). Waiters are served in
/// the order they came, one message each; a receiver that still has credit registers again.
public final class QueueWaiters: Sendable {
    /// What a waiter is given: the message, locked for it (committed), or `nil` when the send that took the waiter
    /// failed (look again).
    public typealias Delivery = @Sendable (ReceivedMessage?) -> Void

    struct Waiter: Sendable {
        var id: UInt64
        var deliver: Delivery
    }

    private struct State {
        var next: UInt64 = 0
        var byQueue: [String: [Waiter]] = [:]
    }
    private let state = Mutex(State())

    public init() {}

    /// Registers a waiter on `queue` (lower case); returns its id, for ``unregister(_:queue:)``.
    @discardableResult
    public func register(queue: String, deliver: @escaping Delivery) -> UInt64 {
        state.withLock { state in
            state.next += 1
            state.byQueue[queue, default: []].append(Waiter(id: state.next, deliver: deliver))
            return state.next
        }
    }

    /// Removes a waiter; `false` when it was already taken by a send (its delivery comes or came).
    @discardableResult
    public func unregister(_ id: UInt64, queue: String) -> Bool {
        state.withLock { state in
            guard var list = state.byQueue[queue], let index = list.firstIndex(where: { $0.id == id }) else {
                return false
            }
            list.remove(at: index)
            state.byQueue[queue] = list.isEmpty ? nil : list
            return true
        }
    }

    /// Whether a receiver waits on `queue`.
    func hasWaiters(_ queue: String) -> Bool {
        state.withLock { !($0.byQueue[queue]?.isEmpty ?? true) }
    }

    /// Takes the longest-waiting waiter of `queue`.
    func claim(_ queue: String) -> Waiter? {
        state.withLock { state in
            guard var list = state.byQueue[queue], !list.isEmpty else { return nil }
            let first = list.removeFirst()
            state.byQueue[queue] = list.isEmpty ? nil : list
            return first
        }
    }
}

/// The waiters one send took, with the messages locked for them: given their messages once the send committed, or
/// told to look again when it failed (or ran again after a failed shared transaction).
final class QueueHandoffs: Sendable {
    let waiters: QueueWaiters
    private let taken = Mutex<[(waiter: QueueWaiters.Waiter, message: ReceivedMessage)]>([])
    /// Whether a message was committed that no waiter was handed (receivers must look again).
    private let missed = Mutex(false)

    init(waiters: QueueWaiters) {
        self.waiters = waiters
    }

    /// Whether some committed message went to no waiter (then the other receivers must look again).
    var wasMissed: Bool { missed.withLock { $0 } }

    /// Some committed message was handed to no waiter.
    func markMissed() {
        missed.withLock { $0 = true }
    }

    func append(_ waiter: QueueWaiters.Waiter, _ message: ReceivedMessage) {
        taken.withLock { $0.append((waiter, message)) }
    }

    /// Hands the messages over (after the commit).
    func deliver() {
        let all = taken.withLock { taken in
            defer { taken = [] }
            return taken
        }
        for (waiter, message) in all { waiter.deliver(message) }
    }

    /// Tells the waiters their messages did not come (the transaction rolled back, or is run again).
    func cancel() {
        missed.withLock { $0 = false }
        let all = taken.withLock { taken in
            defer { taken = [] }
            return taken
        }
        for (waiter, _) in all { waiter.deliver(nil) }
    }
}

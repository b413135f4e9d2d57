import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A broadcast signal for waiters that poll a database: "something you wait for may have been committed". A waiter
/// notes the ``generation`` before it looks, looks, and if it found nothing waits for a signal after that
/// generation (so a signal between the look and the wait is never lost), or a timeout (for changes made by other
/// processes, which send no signal).
///
/// ```swift
/// let seen = wake.generation
/// if let message = try await look() { return message }
/// await wake.wait(after: seen, timeout: .milliseconds(250))
/// ```
public final class Wake: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// The waiters' timeouts, cancelled when a signal comes first.
        var timers: [UInt64: Scheduled<Void>] = [:]
        var nextWaiter: UInt64 = 0
    }
    private let state = Mutex(State())

    public init() {}

    /// The number of signals so far.
    public var generation: UInt64 { state.withLock { $0.generation } }

    /// Wakes every waiter.
    public func signal() {
        let (waiters, timers) = state.withLock { state in
            state.generation &+= 1
            defer {
                state.waiters.removeAll()
                state.timers.removeAll()
            }
            return (Array(state.waiters.values), Array(state.timers.values))
        }
        for timer in timers { timer.cancel() }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns at the first signal after `generation` (at once if there was one already), after `timeout`, or when
    /// the task is cancelled.
    public func wait(after generation: UInt64, timeout: Duration) async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter &+= 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let signalled = state.withLock { state -> Bool in
                    if state.generation != generation || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if signalled {
                    continuation.resume()
                    return
                }
                // A scheduled task on an event loop (the current one when called on one), cancelled by an earlier
                // signal: a sleeping task per wait outlived most waits and cost more than the wait.
                let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(timeout)) {
                    [weak self] in
                    guard let self else { return }
                    self.resume(id)
                }
                let woken = state.withLock { state -> Bool in
                    guard state.waiters[id] != nil else { return true }
                    state.timers[id] = timer
                    return false
                }
                if woken { timer.cancel() }
            }
        } onCancel: {
            resume(id)
        }
    }

    private func resume(_ id: UInt64) {
        let (waiter, timer) = state.withLock { ($0.waiters.removeValue(forKey: id), $0.timers.removeValue(forKey: id)) }
        timer?.cancel()
        waiter?.resume()
    }
}

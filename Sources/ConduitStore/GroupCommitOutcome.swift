import Synchronization

/// The result of one operation in a group commit: set when its shared transaction committed (or failed), awaited by
/// its caller, whichever comes first — or the request that its caller write the next round.
///
/// Used by the SQLite writer's group commit (``Store/transaction(_:)``) and by the bus's own group commit.
package final class GroupCommitOutcome<T: Sendable>: Sendable {
    /// What the caller is to do next.
    package enum Event {
        /// Write the next round (on the caller's own task).
        case lead
        /// The operation's transaction is over: its value, or why it failed.
        case finished(Result<T, any Error>)
    }

    private struct State {
        var value: T?
        var finished: Result<T, any Error>?
        var leads = false
        var waiter: CheckedContinuation<Event, Never>?
    }
    private let state = Mutex(State())

    package init() {}

    /// The work's value (kept until the transaction commits; a later run replaces it).
    package func value(_ value: T) {
        state.withLock { $0.value = value }
    }

    /// Ends the operation: with the value given to ``value(_:)`` when `error` is `nil`, else with `error`.
    package func finish(_ error: (any Error)?) {
        let (waiter, result) = state.withLock { state -> (CheckedContinuation<Event, Never>?, Result<T, any Error>) in
            let result: Result<T, any Error>
            if let error {
                result = .failure(error)
            } else if let value = state.value {
                result = .success(value)
            } else {
                result = .failure(StoreError(.transactionFailed, "A grouped write finished without its result."))
            }
            state.finished = result
            defer { state.waiter = nil }
            return (state.waiter, result)
        }
        waiter?.resume(returning: .finished(result))
    }

    /// Asks the caller to write the next round.
    package func lead() {
        let waiter = state.withLock { state -> CheckedContinuation<Event, Never>? in
            guard let waiter = state.waiter else {
                state.leads = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: .lead)
    }

    /// The next thing for the caller to do: write a round, or take its result.
    package func next() async -> Event {
        // The caller that wrote the round itself finds it done: no suspension.
        if let ready = take() { return ready }
        return await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Event? in
                if let event = Self.take(&state) { return event }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    private func take() -> Event? {
        state.withLock { Self.take(&$0) }
    }

    private static func take(_ state: inout State) -> Event? {
        // The lead first: an operation cancelled after it was asked to lead still has to pass the lead on.
        if state.leads {
            state.leads = false
            return .lead
        }
        if let finished = state.finished { return .finished(finished) }
        return nil
    }
}

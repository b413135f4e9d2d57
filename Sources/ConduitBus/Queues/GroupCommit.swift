import ConduitStore
import SQLKit
import Synchronization

/// Group commit for the bus's writes: operations that arrive while a transaction is being written wait for the
/// next one and share it, so that concurrent senders, receivers and settlements cost one commit (one fsync on
/// SQLite, one round trip on PostgreSQL) per round instead of one each. Each operation still succeeds or fails on
/// its own: if a shared transaction fails, its operations are run again one transaction each.
///
/// The caller that finds no transaction being written writes the round itself, on its own task (no hop to another
/// task and back); if others arrived meanwhile, a task goes on writing their rounds while it returns.
final class GroupCommit: Sendable {
    private struct Item: Sendable {
        var work: @Sendable (any SQLDatabase) async throws -> Void
        var done: @Sendable ((any Error)?) -> Void
    }

    private let store: Store
    private let pending = Mutex<(items: [Item], writing: Bool)>(([], false))
    /// The most operations one transaction takes.
    private let limit = 256

    init(store: Store) {
        self.store = store
    }

    /// Runs `work` in a transaction shared with the operations that arrived at the same time; returns its result
    /// once that transaction committed.
    func run<T: Sendable>(_ work: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let outcome = Outcome<T>()
        let item = Item(
            work: { db in outcome.value(try await work(db)) },
            done: { error in outcome.finish(error) }
        )
        let leads = pending.withLock { state -> Bool in
            state.items.append(item)
            guard !state.writing else { return false }
            state.writing = true
            return true
        }
        if leads {
            // This caller's round (its own operation and any that came with it), written here.
            await writeRound()
            let more = pending.withLock { state -> Bool in
                if state.items.isEmpty { state.writing = false }
                return !state.items.isEmpty
            }
            if more { Task { await self.write() } }
        }
        return try await outcome.result()
    }

    /// Writes rounds until none is left.
    private func write() async {
        while true {
            let empty = pending.withLock { state -> Bool in
                if state.items.isEmpty { state.writing = false }
                return state.items.isEmpty
            }
            if empty { return }
            await writeRound()
        }
    }

    /// Writes the waiting operations (up to ``limit``) in one transaction.
    private func writeRound() async {
        let batch = pending.withLock { state -> [Item] in
            let batch = Array(state.items.prefix(limit))
            state.items.removeFirst(batch.count)
            return batch
        }
        guard !batch.isEmpty else { return }
        do {
            try await store.transaction { db in
                for item in batch { try await item.work(db) }
            }
            for item in batch { item.done(nil) }
        } catch {
            if batch.count == 1 {
                batch[0].done(error)
                return
            }
            // One of them failed, and took the others down with it: each alone now.
            for item in batch {
                do {
                    try await store.transaction { db in try await item.work(db) }
                    item.done(nil)
                } catch {
                    item.done(error)
                }
            }
        }
    }
}

/// The result of one grouped operation: set when its transaction committed (or failed), awaited by its caller,
/// whichever comes first.
private final class Outcome<T: Sendable>: Sendable {
    private struct State {
        var value: T?
        var finished: Result<T, any Error>?
        var waiter: CheckedContinuation<T, any Error>?
    }
    private let state = Mutex(State())

    /// The work's value (kept until the transaction commits; a retry replaces it).
    func value(_ value: T) {
        state.withLock { $0.value = value }
    }

    func finish(_ error: (any Error)?) {
        let (waiter, result) = state.withLock { state -> (CheckedContinuation<T, any Error>?, Result<T, any Error>) in
            let result: Result<T, any Error>
            if let error {
                result = .failure(error)
            } else if let value = state.value {
                result = .success(value)
            } else {
                result = .failure(BusError(.badRequest, "A bus operation finished without its result."))
            }
            defer { state.waiter = nil }
            guard let waiter = state.waiter else {
                state.finished = result
                return (nil, result)
            }
            return (waiter, result)
        }
        waiter?.resume(with: result)
    }

    func result() async throws -> T {
        // The caller that wrote the round itself finds it done: no suspension.
        if let finished = state.withLock({ $0.finished }) { return try finished.get() }
        return try await withCheckedThrowingContinuation { continuation in
            let ready = state.withLock { state -> Result<T, any Error>? in
                if let finished = state.finished { return finished }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }
}

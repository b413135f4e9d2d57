import ConduitStore
import SQLKit
import Synchronization

/// Group commit for the bus's writes: operations that arrive while a transaction is being written wait for the
/// next one and share it, so that concurrent senders, receivers and settlements cost one commit (one fsync on
/// SQLite, one round trip on PostgreSQL) per round instead of one each. Each operation still succeeds or fails on
/// its own: if a shared transaction fails, its operations are run again one transaction each.
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
        let result = Mutex<T?>(nil)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let item = Item(
                work: { db in
                    let value = try await work(db)
                    result.withLock { $0 = value }
                },
                done: { error in
                    if let error { continuation.resume(throwing: error) } else { continuation.resume() }
                }
            )
            let starts = pending.withLock { state -> Bool in
                state.items.append(item)
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            if starts { Task { await self.write() } }
        }
        guard let value = result.withLock({ $0 }) else {
            throw BusError(.badRequest, "A bus operation finished without its result.")
        }
        return value
    }

    private func write() async {
        while true {
            let batch = pending.withLock { state -> [Item] in
                let batch = Array(state.items.prefix(limit))
                state.items.removeFirst(batch.count)
                if batch.isEmpty { state.writing = false }
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
                    continue
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
}

import ConduitAMQP
import ConduitStore
import NIOCore
import NIOPosix
import SQLKit
import Synchronization

/// Group commit for the bus's writes: operations that arrive while a transaction is being written wait for the
/// next one and share it, so that concurrent senders, receivers and settlements cost one commit (one fsync on
/// SQLite, one round trip on PostgreSQL) per round instead of one each. Each operation still succeeds or fails on
/// its own: if a shared transaction fails, its operations are run again one transaction each.
///
/// Rounds are written by the callers themselves, on their own tasks (no hop to another task and back): the caller
/// that finds no round being written leads; when its round is done and others are waiting, it hands the lead to the
/// first of them, whose task writes the next round (its own operation and those that came with it) and so on.
final class GroupCommit: Sendable {
    private struct Item: Sendable {
        var work: @Sendable (any SQLDatabase) async throws -> Void
        var done: @Sendable ((any Error)?) -> Void
        /// Asks the item's caller to write the next round.
        var lead: @Sendable () -> Void
        /// Whether a caller waits for it (``run(_:queued:)``, not ``follow(_:)``).
        var waited = true
    }

    private let store: Store
    private struct Pending {
        var items: [Item] = []
        /// A round is being written.
        var writing = false
        /// A timer is set to write the operations queued by ``follow(_:)`` if no round takes them.
        var followTimer = false
    }
    private let pending = Mutex(Pending())
    /// The most operations one transaction takes.
    private let limit = 256

    init(store: Store) {
        self.store = store
    }

    /// Runs `work` in a transaction shared with the operations that arrived at the same time; returns its result
    /// once that transaction committed. `queued` runs once `work` has its place in line, before any round writes it:
    /// operations queued after that point are written after `work`.
    func run<T: Sendable>(
        _ work: @escaping @Sendable (any SQLDatabase) async throws -> T,
        queued: (() -> Void)? = nil
    ) async throws -> T {
        let outcome = GroupCommitOutcome<T>()
        let item = Item(
            work: { db in outcome.value(try await work(db)) },
            done: { error in outcome.finish(error) },
            lead: { outcome.lead() }
        )
        let leads = pending.withLock { state -> Bool in
            state.items.append(item)
            guard !state.writing else { return false }
            state.writing = true
            return true
        }
        queued?()
        if leads { await leadOnWriter() }
        while true {
            switch await outcome.next() {
            case .lead: await leadOnWriter()
            case .finished(let result): return try result.get()
            }
        }
    }

    /// Queues `work`, whose caller waits for nothing (its effect is lost if the process stops before a round takes
    /// it: a receiver's pre-settled completion), behind the next round: it starts no round of its own unless none
    /// starts within ``followerDelay``. `work` should not throw: an error fails the round it shares, whose other
    /// operations are then each run again alone.
    func follow(_ work: @escaping @Sendable (any SQLDatabase) async throws -> Void) {
        let item = Item(
            work: work,
            done: { _ in },
            lead: { Task(executorPreference: Self.writer) { await self.lead() } },
            waited: false
        )
        let setsTimer = pending.withLock { state -> Bool in
            state.items.append(item)
            guard !state.writing, !state.followTimer else { return false }
            state.followTimer = true
            return true
        }
        guard setsTimer else { return }
        // A scheduled task, not a sleeping one: one per idle moment of a busy queue.
        Self.writer.eventLoop.scheduleTask(in: TimeAmount(Self.followerDelay)) {
            let leads = self.pending.withLock { state -> Bool in
                state.followTimer = false
                guard !state.writing, !state.items.isEmpty else { return false }
                state.writing = true
                return true
            }
            if leads { Task(executorPreference: Self.writer) { await self.lead() } }
        }
    }

    /// How long an operation queued with ``follow(_:)`` waits for a round to join.
    static let followerDelay: Duration = .milliseconds(2)

    /// The thread contended rounds are written on. A round blocks the thread it runs on, and written on a caller's
    /// event loop it held up every other connection of that loop (`bench amqp` 8:8: p99 2.4 → 1.6 ms on this
    /// thread). Uncontended rounds are written on the caller's own task: the hop there and back would cost a lone
    /// caller more than its round (1:1: 3,100 → 2,400 msg/s).
    private static let writer = EventLoopTaskExecutor(MultiThreadedEventLoopGroup(numberOfThreads: 1).next())

    /// The average number of waiting callers per round (recent rounds weigh most) from which rounds are written on
    /// ``writer``: 1:1 has fewer than 1 (one sender, and rounds with only a receiver's completion), 8:8 about 2.4.
    private static let contended = 1.5
    private let callersPerRound = Mutex<Double>(0)

    /// Writes the next round on ``writer`` when the rounds are contended, else on this task.
    private func leadOnWriter() async {
        if callersPerRound.withLock({ $0 }) >= Self.contended {
            await withTaskExecutorPreference(Self.writer) { await lead() }
        } else {
            await lead()
        }
    }

    /// Writes one round, then hands the lead to the first caller still waiting (or ends the writing).
    private func lead() async {
        await writeRound()
        let next = pending.withLock { state -> Item? in
            guard let first = state.items.first else {
                state.writing = false
                return nil
            }
            return first
        }
        next?.lead()
    }

    /// Writes the waiting operations (up to ``limit``) in one transaction.
    private func writeRound() async {
        let batch = pending.withLock { state -> [Item] in
            let batch = Array(state.items.prefix(limit))
            state.items.removeFirst(batch.count)
            return batch
        }
        guard !batch.isEmpty else { return }
        let callers = Double(batch.lazy.filter(\.waited).count)
        callersPerRound.withLock { $0 += (callers - $0) / 16 }
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

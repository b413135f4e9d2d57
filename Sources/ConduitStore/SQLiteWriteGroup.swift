import ConduitSQLite
import Logging
import NIOPosix
import SQLKit
import ServiceContextModule
import Synchronization

/// Group commit on SQLite's one writer: transactions that arrive while one is being written wait, and the next
/// round writes them all between one `BEGIN IMMEDIATE` and one `COMMIT`, each inside its own savepoint. A caller's
/// error rolls back its savepoint alone and reaches that caller alone; the others in the round commit. A failed
/// `COMMIT` fails every caller of the round (none of their changes is kept).
///
/// Why: every writer transaction (a Web API change, a bus send, a job's claim or outcome) took the writer in turn,
/// and each hand-over from one caller's task to the next waited for a thread. Under load the writer was a queue of
/// hand-overs. A round is written by one caller's task from start to end (the callers that find no round being
/// written lead; the lead then passes to the first caller still waiting), and pages that several changes touch
/// (an index's last page, the system jobs table) reach the WAL once per round.
///
/// Each round's work runs with its caller's task-local ``ServiceContext`` (its trace), not the leader's.
final class SQLiteWriteGroup: Sendable {
    /// One caller's transaction.
    struct Item: Sendable {
        /// Tells the item apart in the queue (its caller's outcome).
        var id: ObjectIdentifier
        /// Runs the caller's body; keeps its value for ``done``.
        var work: @Sendable (any SQLDatabase) async throws -> Void
        /// Ends the caller's wait: `nil` once committed, else why it failed.
        var done: @Sendable ((any Error)?) -> Void
        /// Asks the caller to write the next round.
        var lead: @Sendable () -> Void
    }

    private struct Pending {
        var items: [Item] = []
        /// A round is being written.
        var writing = false
    }
    private let pending = Mutex(Pending())
    private let committed = Atomic<Int>(0)
    private let writer: SQLiteConnectionPool
    private let location: SQLiteEngine.Location
    private let logger: Logger

    /// The most transactions one round takes: a round's first caller waits for all of them to run.
    static let limit = 32
    /// The savepoint around each transaction of a round that holds more than one.
    static let savepoint = "conduit_grouped"

    init(writer: SQLiteConnectionPool, location: SQLiteEngine.Location, logger: Logger) {
        self.writer = writer
        self.location = location
        self.logger = logger
    }

    /// The rounds committed so far.
    var commits: Int { committed.load(ordering: .relaxed) }

    /// Transactions waiting for a round.
    var waiting: Int { pending.withLock { $0.items.count } }

    /// Runs `body` in a round; returns its value once the round committed. A caller cancelled while it waits for
    /// a round leaves the queue with `CancellationError`; once its round has taken it, it waits for that round.
    func run<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let outcome = GroupCommitOutcome<T>()
        let id = ObjectIdentifier(outcome)
        let context = ServiceContext.current
        let item = Item(
            id: id,
            work: { db in
                outcome.value(try await ServiceContext.withValue(context) { try await body(db) })
            },
            done: { error in outcome.finish(error) },
            lead: { outcome.lead() }
        )
        return try await withTaskCancellationHandler {
            // Task.isCancelled is read under the lock: a cancellation is either seen here or finds the item queued.
            let queued = pending.withLock { state -> Bool? in
                guard !Task.isCancelled else { return nil }
                state.items.append(item)
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            guard let leads = queued else { throw CancellationError() }
            if leads { await lead() }
            while true {
                switch await outcome.next() {
                case .lead: await lead()
                case .finished(let result): return try result.get()
                }
            }
        } onCancel: {
            let removed = pending.withLock { state -> Bool in
                guard let index = state.items.firstIndex(where: { $0.id == id }) else { return false }
                state.items.remove(at: index)
                return true
            }
            if removed { outcome.finish(CancellationError()) }
        }
    }

    /// Writes one round, then hands the lead to the first caller still waiting (or ends the writing). A cancelled
    /// task does not write (waiting for the writer, it would fail the whole round): a new task takes the lead.
    private func lead() async {
        if Task.isCancelled {
            Task { await self.lead() }
            return
        }
        let batch = pending.withLock { state -> [Item] in
            let batch = Array(state.items.prefix(Self.limit))
            state.items.removeFirst(batch.count)
            return batch
        }
        if !batch.isEmpty { await write(batch) }
        let next = pending.withLock { state -> Item? in
            guard let first = state.items.first else {
                state.writing = false
                return nil
            }
            return first
        }
        next?.lead()
    }

    /// Writes `batch` in one transaction (or more, when one fails in a way that ends the transaction).
    private func write(_ batch: [Item]) async {
        let connection: SQLiteHandle
        do {
            connection = try await writer.lease()
        } catch {
            for item in batch { item.done(error) }
            return
        }
        var reusable = true
        defer { writer.release(connection, reusable: reusable) }
        let database = SQLiteSQLDatabase(
            handle: connection,
            execution: .inline,
            logger: logger,
            eventLoop: MultiThreadedEventLoopGroup.singleton.any()
        )
        let grouped = batch.count > 1
        /// Run in the open transaction, waiting for its commit.
        var written: [Item] = []
        var open = false
        for (index, item) in batch.enumerated() {
            if !open {
                do {
                    try connection.run("BEGIN IMMEDIATE")
                    open = true
                } catch {
                    let failure = StoreError(
                        .transactionFailed,
                        "cannot begin an SQLite transaction: \(describeDatabaseError(error))",
                        underlying: error
                    )
                    for waiting in batch[index...] { waiting.done(failure) }
                    return
                }
            }
            do {
                if grouped { try connection.run("SAVEPOINT \(Self.savepoint)") }
                try await item.work(database)
                if grouped { try connection.run("RELEASE \(Self.savepoint)") }
                written.append(item)
            } catch {
                if grouped, connection.isInTransaction, rollbackToSavepoint(connection) {
                    item.done(error)
                    continue
                }
                // Alone, or the error ended the whole transaction (SQLite rolls back by itself on some errors, a
                // full disk among them): what ran before it in this round is gone too.
                open = false
                reusable = rollback(connection)
                item.done(error)
                if !written.isEmpty {
                    let failure = StoreError(
                        .transactionFailed,
                        "the change was rolled back: it shared an SQLite transaction with another that failed "
                            + "(\(describeDatabaseError(error)))",
                        underlying: error
                    )
                    for other in written { other.done(failure) }
                    written = []
                }
                if !reusable {
                    let failure = StoreError(
                        .transactionFailed,
                        "the SQLite writer connection failed and was closed: \(describeDatabaseError(error))",
                        underlying: error
                    )
                    for waiting in batch[(index + 1)...] { waiting.done(failure) }
                    return
                }
            }
        }
        guard open else { return }
        do {
            try connection.run("COMMIT")
        } catch {
            reusable = rollback(connection)
            let failure = StoreError(
                .transactionFailed,
                "the SQLite transaction could not be committed and was rolled back: \(describeDatabaseError(error))",
                underlying: error
            )
            for item in written { item.done(failure) }
            return
        }
        committed.add(1, ordering: .relaxed)
        for item in written { item.done(nil) }
    }

    /// Undoes the current item of a grouped round; `false` when that failed (the transaction is then rolled back).
    private func rollbackToSavepoint(_ connection: SQLiteHandle) -> Bool {
        do {
            try connection.run("ROLLBACK TO \(Self.savepoint)")
            try connection.run("RELEASE \(Self.savepoint)")
            return true
        } catch {
            logger.warning(
                "SQLite ROLLBACK TO SAVEPOINT failed",
                metadata: ["error": "\(describeDatabaseError(error))"]
            )
            return false
        }
    }

    /// Rolls back (when a transaction is open); returns whether the connection can be used again. A file
    /// database's writer whose rollback failed is replaced; the in-memory database's only connection is kept
    /// (closing it would lose the database).
    private func rollback(_ connection: SQLiteHandle) -> Bool {
        guard connection.isInTransaction else { return true }
        do {
            try connection.run("ROLLBACK")
            return true
        } catch {
            logger.warning("SQLite ROLLBACK failed", metadata: ["error": "\(describeDatabaseError(error))"])
            if case .memory = location { return true }
            return false
        }
    }
}

import Logging
import SQLKit
import ServiceLifecycle

/// The database: SQLKit over SQLiteNIO (embedded default) or PostgresNIO (scale-out), behind one API.
///
/// A store is a `Service`. Run it in the application's `ServiceGroup`, registered before the services that use
/// it (the group stops services in reverse order), or wrap work in ``withStore(_:logger:_:)``:
///
/// ```swift
/// let store = Store(configuration: try StoreConfiguration(parsing: "./conduit-data/conduit.sqlite"), logger: logger)
/// let group = ServiceGroup(services: [store, api], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
///
/// // elsewhere, while the group runs:
/// try await store.migrate(Schema.migrations)
/// let count = try await store.transaction { db in
///     try await db.raw("UPDATE counter SET value = value + 1").run()
///     return try await db.raw("SELECT value FROM counter").first(decodingColumn: "value", as: Int.self)
/// }
/// ```
///
/// PostgreSQL needs ``run()`` to be running: until it is, ``transaction(_:)`` and ``withDatabase(_:)`` wait for a
/// connection and fail after 10 s with ``StoreError/Code/connectionTimeout``. SQLite opens its connections on first
/// use and works without ``run()``, which then only closes them at shutdown.
///
/// Use the `SQLDatabase` given to a closure only inside that closure: it is one connection, lent for the call.
/// Do not call the store again from inside a closure: on SQLite a nested ``transaction(_:)`` waits for the writer
/// that the outer one holds, and never gets it.
public final class Store: Service, Sendable {
    enum Engine: Sendable {
        case sqlite(SQLiteEngine)
        case postgres(PostgresEngine)
        /// The configuration cannot work; every operation fails with this error.
        case unusable(StoreError, SQLFlavor)
    }

    let engine: Engine
    let lifecycle: StoreLifecycle
    let logger: Logger

    /// The SQL flavour of this store's database.
    public var flavor: SQLFlavor {
        switch self.engine {
        case .sqlite: .sqlite
        case .postgres: .postgres
        case .unusable(_, let flavor): flavor
        }
    }

    /// Creates a store. It does no I/O: connections open in ``run()`` (PostgreSQL) or on first use (SQLite).
    ///
    /// A configuration that cannot work (a malformed PostgreSQL URL, no connections) does not fail here: every
    /// operation, and ``run()``, then throws a ``StoreError`` that says what is wrong.
    ///
    /// - Parameters:
    ///   - configuration: Where the data lives.
    ///   - logger: Where the store logs (connections at debug, statements at debug, failures at warning).
    public init(configuration: StoreConfiguration, logger: Logger) {
        let lifecycle = StoreLifecycle()
        self.lifecycle = lifecycle
        self.logger = logger
        switch configuration.backend {
        case .sqlite(let path):
            self.engine = .sqlite(
                SQLiteEngine(
                    location: .file(path: path),
                    readers: configuration.maximumConnections,
                    synchronous: configuration.sqliteSynchronous,
                    logger: logger
                )
            )
        case .sqliteInMemory:
            self.engine = .sqlite(
                SQLiteEngine(
                    location: .memory,
                    readers: 1,
                    synchronous: configuration.sqliteSynchronous,
                    logger: logger
                )
            )
        case .postgres(let text):
            do throws(StoreError) {
                guard configuration.maximumConnections >= 1 else {
                    throw StoreError(
                        .invalidConfiguration,
                        "maximumConnections is \(configuration.maximumConnections); it must be at least 1"
                    )
                }
                self.engine = .postgres(
                    PostgresEngine(
                        url: try PostgresURL(parsing: text),
                        maximumConnections: configuration.maximumConnections,
                        connectionTimeout: configuration.connectionTimeout,
                        lifecycle: lifecycle,
                        logger: logger
                    )
                )
            } catch {
                self.engine = .unusable(error, .postgres)
            }
        }
    }

    /// SQLite: the writer's commits so far, one per round of grouped transactions (for tests).
    var writerCommits: Int {
        if case .sqlite(let engine) = self.engine {
            return engine.commits
        }
        return 0
    }

    /// SQLite: transactions queued for the writer's next round (for tests).
    var waitingWriters: Int {
        if case .sqlite(let engine) = self.engine {
            return engine.waitingWriters
        }
        return 0
    }

    deinit {
        // SQLite connections must be closed before they are freed; a store dropped without run() closes its idle
        // ones here (on SQLite's thread pool, without waiting).
        if case .sqlite(let engine) = self.engine {
            engine.shutdown()
        }
    }

    /// Keeps the store's connections until graceful shutdown or cancellation, then closes every connection.
    ///
    /// PostgreSQL: runs the connection pool (`PostgresClient.run()`); no connection can be had before it starts.
    /// At shutdown the pool closes its connections at once, so a transaction still running then fails and is not
    /// committed. SQLite: waits, as connections open on first use; at shutdown idle connections close, and a
    /// transaction still running finishes and commits. Afterwards every operation fails with
    /// ``StoreError/Code/shutDown``. A store runs once.
    ///
    /// In a `ServiceGroup`, register the store before the services that use it: the group stops services in
    /// reverse order, so they have finished their work when the store stops.
    ///
    /// - Throws: ``StoreError`` when called twice or when the configuration cannot work.
    public func run() async throws {
        guard self.lifecycle.start() else {
            throw StoreError.runCalledTwice
        }
        defer { self.lifecycle.finish() }
        switch self.engine {
        case .sqlite(let engine):
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await engine.checkpoints() }
                // gracefulShutdown() returns on graceful shutdown and throws when the task is cancelled: both end
                // us.
                try? await gracefulShutdown()
                group.cancelAll()
            }
            engine.shutdown()
        case .postgres(let engine):
            // The pool itself reacts to graceful shutdown and cancellation; the handlers only note that it stops.
            await withTaskCancellationHandler {
                await withGracefulShutdownHandler {
                    await engine.run()
                } onGracefulShutdown: {
                    self.lifecycle.stop()
                }
            } onCancel: {
                self.lifecycle.stop()
            }
        case .unusable(let error, _):
            throw error
        }
        self.logger.debug("store stopped")
    }

    /// Runs `body` in one transaction on one connection, and commits; rolls back if `body` throws.
    ///
    /// ```swift
    /// try await store.transaction { db in
    ///     try await db.insert(into: "contact").columns("id", "name").values(SQLBind(id), SQLBind(name)).run()
    ///     try await db.insert(into: "asyncoperation").columns("id", "state").values(SQLBind(job), SQLBind(0)).run()
    /// }
    /// ```
    ///
    /// `body` must issue every statement through the database it is given, and must not keep it. SQLite: one
    /// writer; transactions that arrive while one is written share the next commit (group commit, each in its own
    /// savepoint, in arrival order: a body's error rolls back its own changes alone; a failed `COMMIT` fails them
    /// all), so there are no busy errors; a caller waits for its round even if cancelled. PostgreSQL: transactions run concurrently on pooled
    /// connections at READ COMMITTED; lock rows you read in order to update them
    /// (`SELECT … FOR UPDATE`, SQLKit's `.for(.update)`, which SQLite ignores).
    ///
    /// - Parameter body: The work; its result is returned after the commit.
    /// - Returns: What `body` returned.
    /// - Throws: `body`'s own error, unchanged, after the rollback; ``StoreError`` when no connection can be had
    ///   or `BEGIN`/`COMMIT` fails (on SQLite also when a change grouped with this one ended the transaction).
    public func transaction<T: Sendable>(
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        switch self.engine {
        case .sqlite(let engine):
            try await engine.transaction(body)
        case .postgres(let engine):
            try await engine.transaction(body)
        case .unusable(let error, _):
            throw error
        }
    }

    /// Like ``transaction(_:)``, for writes that may safely be done again (claiming or finishing a system job): on
    /// PostgreSQL the commit does not wait for the write-ahead log to reach the disk (`synchronous_commit` off for
    /// this transaction), so it costs no fsync; if the database server itself crashes, the last such commits (a
    /// fraction of a second) may be lost, never a torn one. On SQLite it is ``transaction(_:)``: in WAL mode with
    /// `synchronous = NORMAL` no commit waits for a sync anyway.
    ///
    /// - Parameters:
    ///   - postgresSettings: More PostgreSQL settings for this transaction alone (planner switches, say); SQLite
    ///     ignores them.
    ///   - body: The work.
    public func relaxedTransaction<T: Sendable>(
        postgresSettings: [(String, String)] = [],
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        switch self.engine {
        case .sqlite(let engine):
            try await engine.transaction(body)
        case .postgres(let engine):
            try await engine.transaction(settings: [("synchronous_commit", "off")] + postgresSettings, body)
        case .unusable(let error, _):
            throw error
        }
    }

    /// Listens for notifications on `channel` (PostgreSQL `LISTEN`; send with `NOTIFY` or `pg_notify`, which
    /// PostgreSQL delivers when the sending transaction commits), calling `handler` with each payload, until the
    /// task is cancelled. It holds one pooled connection while it listens. SQLite serves one process, which needs
    /// no notifications: this waits until cancelled.
    ///
    /// - Throws: ``StoreError`` or the driver's error when the connection fails (listen again to resume).
    public func listen(channel: String, _ handler: @escaping @Sendable (String) -> Void) async throws {
        switch self.engine {
        case .sqlite:
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        case .postgres(let engine):
            try await engine.listen(channel: channel, handler)
        case .unusable(let error, _):
            throw error
        }
    }

    /// Runs `body` on one connection outside a transaction, for reads.
    ///
    /// SQLite file: a read-only reader connection (`PRAGMA query_only`), which WAL lets run beside a writing
    /// transaction; write with ``transaction(_:)``. In-memory SQLite: the one shared connection, in turn with
    /// transactions. PostgreSQL: a pooled connection in autocommit mode.
    ///
    /// - Parameter body: The reads; must not keep the database it is given.
    /// - Returns: What `body` returned.
    /// - Throws: `body`'s own error, or ``StoreError`` when no connection can be had.
    public func withDatabase<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        switch self.engine {
        case .sqlite(let engine):
            try await engine.withDatabase(body)
        case .postgres(let engine):
            try await engine.withDatabase(body)
        case .unusable(let error, _):
            throw error
        }
    }
}

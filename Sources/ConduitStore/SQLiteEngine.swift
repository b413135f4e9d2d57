import ConduitSQLite
import Foundation
import Logging
import NIOPosix
import SQLKit

/// SQLite behind the store: one writer connection behind a fair FIFO lock, and a few read-only reader connections
/// (WAL lets them read beside the writer). An in-memory database has one connection for both.
final class SQLiteEngine: Sendable {
    enum Location: Sendable {
        case file(path: String)
        case memory
    }

    /// Readers beyond this add nothing but file handles: SQLite calls run on NIO's blocking thread pool.
    static let maximumReaders = 4

    let location: Location
    let synchronous: SQLiteSynchronous
    private let writer: SQLiteConnectionPool
    private let group: SQLiteWriteGroup
    private let readers: SQLiteConnectionPool?
    private let logger: Logger

    init(location: Location, readers: Int, synchronous: SQLiteSynchronous, logger: Logger) {
        self.location = location
        self.synchronous = synchronous
        self.logger = logger
        self.writer = SQLiteConnectionPool(limit: 1, logger: logger) {
            try await Self.open(location, reader: false, synchronous: synchronous, logger: logger)
        }
        self.group = SQLiteWriteGroup(writer: self.writer, location: location, logger: logger)
        switch location {
        case .memory:
            self.readers = nil
        case .file:
            self.readers = SQLiteConnectionPool(limit: min(max(readers, 1), Self.maximumReaders), logger: logger) {
                try await Self.open(location, reader: true, synchronous: synchronous, logger: logger)
            }
        }
    }

    /// Runs `body` in a transaction on the writer, grouped with the transactions that arrive while another is being
    /// written (see ``SQLiteWriteGroup``); its error rolls back its own changes alone.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await self.group.run(body)
    }

    func withDatabase<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        guard let readers = self.readers else {
            // The in-memory database: its one connection, inline like the writer.
            let connection = try await self.writer.lease()
            defer { self.writer.release(connection) }
            return try await body(self.database(connection, execution: .inline))
        }
        let connection = try await readers.lease()
        defer { readers.release(connection) }
        return try await body(self.database(connection, execution: .threadPool))
    }

    private func database(_ connection: SQLiteHandle, execution: SQLiteSQLDatabase.Execution) -> SQLiteSQLDatabase {
        SQLiteSQLDatabase(
            handle: connection,
            execution: execution,
            logger: self.logger,
            eventLoop: MultiThreadedEventLoopGroup.singleton.any()
        )
    }

    /// The WAL size (pages, 16 MB) at which a commit checkpoints (PASSIVE) by itself. Under a steady load this is
    /// what empties the WAL: a checkpoint beside a writer that keeps committing never finds it all copied.
    static let autoCheckpointPages =
        ProcessInfo.processInfo.environment["CONDUIT_SQLITE_CHECKPOINT_PAGES"].flatMap { Int($0) }.map { max($0, 0) }
        ?? 4_000
    /// How often the background checkpoint runs (`CONDUIT_SQLITE_CHECKPOINT_MILLISECONDS` changes it).
    static let checkpointInterval: Duration =
        ProcessInfo.processInfo.environment["CONDUIT_SQLITE_CHECKPOINT_MILLISECONDS"].flatMap { Int($0) }.map {
            .milliseconds(max($0, 10))
        } ?? .seconds(1)
    /// What a WAL file is cut back to once a checkpoint emptied it (bytes).
    static let walSizeLimit = 64 << 20

    /// Checkpoints the WAL of a file database every ``checkpointInterval`` (PASSIVE: it copies what it can without
    /// blocking the writer or readers), on its own connection and the blocking thread pool, until cancelled: after
    /// a burst, the database file catches up and the WAL is emptied without waiting for more commits.
    ///
    /// How often, and how large: each checkpoint costs a fixed price (fsyncs) that holds up the commits beside it,
    /// and a large one holds up one commit, and every writer behind it, for as long as it copies. Measured with
    /// `bench post` (500 updates/s, release, 2 cores): checkpoints every 32,000 pages and 10 s gave an update→listener
    /// p99 of 73 ms, with a stall every other second; every 4,000 pages and 1 s, 13 ms (at 700/s: 248 → 31 ms).
    /// `bench amqp` stayed within its run-to-run spread (1:1 p99 0.39–0.41 ms). SQLite's default (1,000 pages, no
    /// background checkpoint) made 1–2% of the bus's messages wait several milliseconds.
    func checkpoints() async {
        guard case .file = location else { return }
        // Opened after the first interval (and again after a failure): opening beside the writer's first
        // connection, while it switches a new file to WAL, finds the database locked.
        var connection: SQLiteHandle?
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: Self.checkpointInterval)
                if connection == nil {
                    connection = try await Self.open(location, reader: false, synchronous: synchronous, logger: logger)
                }
                guard let connection else { continue }
                try await NIOThreadPool.singleton.runIfActive {
                    try connection.run("PRAGMA wal_checkpoint(PASSIVE)")
                }
            } catch is CancellationError {
                break
            } catch {
                logger.debug("background checkpoint failed", metadata: ["error": "\(describeDatabaseError(error))"])
            }
        }
        if let connection {
            try? await NIOThreadPool.singleton.runIfActive { connection.close() }
        }
    }

    /// The writer's commits so far (each a round of transactions).
    var commits: Int { self.group.commits }

    /// Transactions queued for the writer's next round.
    var waitingWriters: Int { self.group.waiting }

    /// Fails waiting and later callers, closes idle connections now and leased ones when they come back.
    func shutdown() {
        self.writer.shutdown()
        self.readers?.shutdown()
    }

    private static func open(
        _ location: Location,
        reader: Bool,
        synchronous: SQLiteSynchronous,
        logger: Logger
    ) async throws -> SQLiteHandle {
        let name: String
        let path: String
        switch location {
        case .memory:
            path = ":memory:"
            name = "the in-memory SQLite database"
        case .file(let file):
            path = file
            name = "the SQLite database at \(file)"
        }
        // Opening touches the file system (and may create the file): on the blocking pool.
        let connection = try await NIOThreadPool.singleton.runIfActive { () throws(StoreError) -> SQLiteHandle in
            if case .file = location {
                let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
                do {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                } catch {
                    throw StoreError(
                        .cannotConnect,
                        "cannot create the directory \(directory) for \(name): \(error.localizedDescription)",
                        underlying: error
                    )
                }
            }
            let connection: SQLiteHandle
            do {
                connection = try SQLiteHandle(path: path, name: name)
            } catch {
                throw StoreError(
                    .cannotConnect,
                    "cannot open \(name): \(describeDatabaseError(error))\(Self.writability(of: path))",
                    underlying: error
                )
            }
            do {
                // Another process holding the write lock makes a statement wait at most 5 s, then fail.
                try connection.run("PRAGMA busy_timeout = 5000")
                if case .file = location {
                    let mode = try connection.firstText("PRAGMA journal_mode = WAL")
                    guard mode?.lowercased() == "wal" else {
                        throw StoreError(
                            .cannotConnect,
                            "cannot switch \(name) to WAL mode (it reports journal_mode \(mode ?? "unknown"))"
                        )
                    }
                }
                try connection.run("PRAGMA synchronous = \(synchronous.rawValue)")
                try connection.run("PRAGMA foreign_keys = ON")
                if reader {
                    try connection.run("PRAGMA query_only = ON")
                }
                if !reader {
                    // Rare checkpoints (see ``checkpoints()``), and a WAL file cut back after them.
                    try connection.run("PRAGMA wal_autocheckpoint = \(Self.autoCheckpointPages)")
                    try connection.run("PRAGMA journal_size_limit = \(Self.walSizeLimit)")
                }
            } catch {
                connection.close()
                if let error = error as? StoreError {
                    throw error
                }
                throw StoreError(
                    .cannotConnect,
                    "cannot set up \(name): \(describeDatabaseError(error))\(Self.writability(of: path))",
                    underlying: error
                )
            }
            return connection
        }
        logger.debug(
            "opened SQLite connection",
            metadata: ["store.database": "\(name)", "store.role": "\(reader ? "reader" : "writer")"]
        )
        return connection
    }
}

extension SQLiteEngine {
    /// Why the database's directory cannot be written, when that is the case (a read-only file system, no write
    /// permission): `" — the directory … is on a read-only file system; …"`, else an empty string.
    static func writability(of path: String) -> String {
        guard path != ":memory:" else { return "" }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard access(directory, W_OK) != 0 else { return "" }
        switch errno {
        case EROFS:
            return " — the directory \(directory) is on a read-only file system; make it writable "
                + "(remount it read-write) and start again"
        case EACCES:
            return " — this user may not write to the directory \(directory); give it write access and start again"
        default:
            return " — the directory \(directory) cannot be written (\(String(cString: strerror(errno))))"
        }
    }
}

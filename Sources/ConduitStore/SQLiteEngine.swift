import Foundation
import Logging
import NIOPosix
import SQLKit
import SQLiteKit

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
    private let writer: SQLiteConnectionPool
    private let readers: SQLiteConnectionPool?
    private let logger: Logger

    init(location: Location, readers: Int, synchronous: SQLiteSynchronous, logger: Logger) {
        self.location = location
        self.logger = logger
        self.writer = SQLiteConnectionPool(limit: 1, logger: logger) {
            try await Self.open(location, reader: false, synchronous: synchronous, logger: logger)
        }
        switch location {
        case .memory:
            self.readers = nil
        case .file:
            self.readers = SQLiteConnectionPool(limit: min(max(readers, 1), Self.maximumReaders), logger: logger) {
                try await Self.open(location, reader: true, synchronous: synchronous, logger: logger)
            }
        }
    }

    func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let connection = try await self.writer.lease()
        var reusable = true
        defer { self.writer.release(connection, reusable: reusable) }
        let database = connection.sql()
        do {
            try await database.raw("BEGIN IMMEDIATE").run()
        } catch {
            throw StoreError(
                .transactionFailed,
                "cannot begin an SQLite transaction: \(describeDatabaseError(error))",
                underlying: error
            )
        }
        let value: T
        do {
            value = try await body(database)
        } catch {
            reusable = await self.rollback(database)
            throw error
        }
        do {
            try await database.raw("COMMIT").run()
        } catch {
            reusable = await self.rollback(database)
            throw StoreError(
                .transactionFailed,
                "the SQLite transaction could not be committed and was rolled back: \(describeDatabaseError(error))",
                underlying: error
            )
        }
        return value
    }

    func withDatabase<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let pool = self.readers ?? self.writer
        let connection = try await pool.lease()
        defer { pool.release(connection) }
        return try await body(connection.sql())
    }

    /// Callers queued for the writer.
    var waitingWriters: Int { self.writer.waiting }

    /// Fails waiting and later callers, closes idle connections now and leased ones when they come back.
    func shutdown() {
        self.writer.shutdown()
        self.readers?.shutdown()
    }

    /// Rolls back; returns whether the connection can be used again. A file database's writer whose rollback failed
    /// is replaced; the in-memory database's only connection is kept (closing it would lose the database).
    private func rollback(_ database: any SQLDatabase) async -> Bool {
        do {
            try await database.raw("ROLLBACK").run()
            return true
        } catch {
            self.logger.warning(
                "SQLite ROLLBACK failed",
                metadata: ["error": "\(describeDatabaseError(error))"]
            )
            if case .memory = self.location {
                return true
            }
            return false
        }
    }

    private static func open(
        _ location: Location,
        reader: Bool,
        synchronous: SQLiteSynchronous,
        logger: Logger
    ) async throws -> SQLiteConnection {
        let storage: SQLiteConnection.Storage
        let name: String
        switch location {
        case .memory:
            storage = .memory
            name = "the in-memory SQLite database"
        case .file(let path):
            storage = .file(path: path)
            name = "the SQLite database at \(path)"
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            do {
                try await NIOThreadPool.singleton.runIfActive {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                }
            } catch {
                throw StoreError(
                    .cannotConnect,
                    "cannot create the directory \(directory) for \(name): \(error.localizedDescription)",
                    underlying: error
                )
            }
        }
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(
                storage: storage,
                threadPool: .singleton,
                logger: logger,
                on: MultiThreadedEventLoopGroup.singleton.any()
            )
        } catch {
            throw StoreError(.cannotConnect, "cannot open \(name): \(describeDatabaseError(error))", underlying: error)
        }
        do {
            // busy_timeout first: it replaces SQLiteNIO's retry-forever busy handler, so another process holding the
            // write lock makes us wait at most 5 s instead of spinning a thread forever.
            _ = try await connection.query("PRAGMA busy_timeout = 5000")
            if case .file = location {
                let mode = try await connection.query("PRAGMA journal_mode = WAL").first?.column("journal_mode")?.string
                guard mode?.lowercased() == "wal" else {
                    throw StoreError(
                        .cannotConnect,
                        "cannot switch \(name) to WAL mode (it reports journal_mode \(mode ?? "unknown"))"
                    )
                }
            }
            _ = try await connection.query("PRAGMA synchronous = \(synchronous.rawValue)")
            _ = try await connection.query("PRAGMA foreign_keys = ON")
            if reader {
                _ = try await connection.query("PRAGMA query_only = ON")
            }
        } catch {
            try? await connection.close()
            if let error = error as? StoreError {
                throw error
            }
            throw StoreError(
                .cannotConnect,
                "cannot set up \(name): \(describeDatabaseError(error))",
                underlying: error
            )
        }
        logger.debug(
            "opened SQLite connection",
            metadata: ["store.database": "\(name)", "store.role": "\(reader ? "reader" : "writer")"]
        )
        return connection
    }
}

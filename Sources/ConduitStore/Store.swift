// TEMPORARY: a minimal SQLite-only stand-in with the ConduitStore API, replaced by the real module.
import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import ServiceLifecycle

public enum SQLiteSynchronous: String, Sendable { case normal = "NORMAL", full = "FULL" }
public enum SQLFlavor: Sendable, Hashable { case sqlite, postgres }

public struct StoreConfiguration: Sendable {
    public enum Backend: Sendable, Hashable {
        case sqlite(path: String)
        case sqliteInMemory
        case postgres(url: String)
    }
    public var backend: Backend
    public var maximumConnections: Int
    public var sqliteSynchronous: SQLiteSynchronous
    public init(backend: Backend, maximumConnections: Int = 16, sqliteSynchronous: SQLiteSynchronous = .normal) {
        self.backend = backend
        self.maximumConnections = maximumConnections
        self.sqliteSynchronous = sqliteSynchronous
    }
}

public struct StoreError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

public struct Migration: Sendable {
    public var version: Int
    public var name: String
    public var apply: @Sendable (any SQLDatabase, SQLFlavor) async throws -> Void
    public init(
        version: Int,
        name: String,
        apply: @escaping @Sendable (any SQLDatabase, SQLFlavor) async throws -> Void
    ) {
        self.version = version
        self.name = name
        self.apply = apply
    }
}

public final class Store: Service, Sendable {
    public var flavor: SQLFlavor { .sqlite }
    let lane: Lane
    let logger: Logger

    actor Lane {
        var connection: SQLiteConnection?
        let configuration: StoreConfiguration
        let logger: Logger
        init(configuration: StoreConfiguration, logger: Logger) {
            self.configuration = configuration
            self.logger = logger
        }
        func close() async {
            try? await connection?.close()
            connection = nil
        }
        func run<T: Sendable>(
            _ body: @Sendable (any SQLDatabase) async throws -> T,
            transaction: Bool
        ) async throws -> T {
            if connection == nil {
                let storage: SQLiteConnection.Storage
                switch configuration.backend {
                case .sqlite(let path): storage = .file(path: path)
                default: storage = .memory
                }
                connection = try await SQLiteConnection.open(storage: storage, logger: logger)
            }
            let db = connection!.sql()
            if !transaction { return try await body(db) }
            try await db.raw("BEGIN IMMEDIATE").run()
            do {
                let value = try await body(db)
                try await db.raw("COMMIT").run()
                return value
            } catch {
                try? await db.raw("ROLLBACK").run()
                throw error
            }
        }
    }

    public init(configuration: StoreConfiguration, logger: Logger) {
        self.lane = Lane(configuration: configuration, logger: logger)
        self.logger = logger
    }

    public func run() async throws {
        try await gracefulShutdown()
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await lane.run(body, transaction: true)
    }

    public func withDatabase<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await lane.run(body, transaction: false)
    }

    public func migrate(_ migrations: [Migration]) async throws {
        try await transaction { db in
            try await db.raw(
                "CREATE TABLE IF NOT EXISTS conduit_migration (version INTEGER PRIMARY KEY, name TEXT, applied_on TEXT)"
            ).run()
        }
        for migration in migrations.sorted(by: { $0.version < $1.version }) {
            try await transaction { db in
                let rows = try await db.raw(
                    "SELECT version FROM conduit_migration WHERE version = \(bind: migration.version)"
                ).all()
                guard rows.isEmpty else { return }
                try await migration.apply(db, .sqlite)
                try await db.raw(
                    "INSERT INTO conduit_migration (version, name, applied_on) VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: "now"))"
                ).run()
            }
        }
    }

    public func appliedMigrations() async throws -> [Int] { [] }
}

public func withStore<T: Sendable>(
    _ configuration: StoreConfiguration,
    logger: Logger,
    _ body: @Sendable (Store) async throws -> T
) async throws -> T {
    let store = Store(configuration: configuration, logger: logger)
    do {
        let result = try await body(store)
        await store.lane.close()
        return result
    } catch {
        await store.lane.close()
        throw error
    }
}

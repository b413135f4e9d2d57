import Foundation
import Logging
import SQLKit

extension Store {
    /// The key of the transaction-level advisory lock that serialises migrations across PostgreSQL clients
    /// ("conduit" in ASCII).
    static let migrationLockKey: Int64 = 0x63_6F_6E_64_75_69_74

    /// Applies the migrations that the database lacks, in ascending version order.
    ///
    /// Each migration runs in its own transaction together with its row in `conduit_migration` (`version INTEGER
    /// PRIMARY KEY, name TEXT, applied_on TEXT` in ISO 8601), so it is applied entirely or not at all. Running it
    /// again applies nothing. Several processes may migrate one PostgreSQL database at once: each migration takes
    /// a transaction-level advisory lock and checks again that it is still pending, so each is applied once.
    ///
    /// ```swift
    /// try await store.migrate([
    ///     Migration(version: 1, name: "create contact") { db, _ in
    ///         try await db.raw("CREATE TABLE contact (id TEXT PRIMARY KEY, fullname TEXT)").run()
    ///     }
    /// ])
    /// ```
    ///
    /// - Parameter migrations: Every migration the code knows, in any order; versions must be unique.
    /// - Throws: ``StoreError``: ``StoreError/Code/newerDatabase`` when the database has a version newer than the
    ///   newest of `migrations` (it was migrated by a newer Conduit), ``StoreError/Code/migrationFailed`` when a
    ///   migration throws (it is rolled back; those before it stay applied), ``StoreError/Code/invalidMigrations``
    ///   for duplicate versions.
    public func migrate(_ migrations: [Migration]) async throws {
        let ordered = migrations.sorted { $0.version < $1.version }
        for (earlier, later) in zip(ordered, ordered.dropFirst()) where earlier.version == later.version {
            throw StoreError(
                .invalidMigrations,
                "two migrations have version \(later.version) ('\(earlier.name)' and '\(later.name)')"
            )
        }
        let flavor = self.flavor
        let applied = try await self.transaction { db in
            try await Self.lockMigrations(db, flavor)
            try await Self.bookkeeping("create the conduit_migration table") {
                try await db.raw(
                    """
                    CREATE TABLE IF NOT EXISTS conduit_migration (\
                    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_on TEXT NOT NULL)
                    """
                ).run()
            }
            return try await Self.appliedVersions(db, flavor)
        }
        try Self.checkNotNewer(applied: applied, known: ordered)

        for migration in ordered where !applied.contains(migration.version) {
            let didApply = try await self.transaction { db in
                try await Self.lockMigrations(db, flavor)
                let current = try await Self.appliedVersions(db, flavor)
                try Self.checkNotNewer(applied: current, known: ordered)
                guard !current.contains(migration.version) else {
                    return false
                }
                do {
                    try await migration.apply(db, flavor)
                } catch {
                    throw StoreError(
                        .migrationFailed,
                        "migration \(migration.version) (\(migration.name)) failed and was rolled back: "
                            + describeDatabaseError(error),
                        underlying: error
                    )
                }
                try await Self.bookkeeping("record migration \(migration.version)") {
                    try await db.insert(into: "conduit_migration")
                        .columns("version", "name", "applied_on")
                        .values(SQLBind(migration.version), SQLBind(migration.name), SQLBind(Date().ISO8601Format()))
                        .run()
                }
                return true
            }
            if didApply {
                self.logger.info(
                    "applied migration",
                    metadata: ["migration.version": "\(migration.version)", "migration.name": "\(migration.name)"]
                )
            }
        }
    }

    /// The versions recorded in `conduit_migration`, ascending; empty for a database never migrated.
    ///
    /// - Throws: ``StoreError`` when the database cannot be read.
    public func appliedMigrations() async throws -> [Int] {
        let flavor = self.flavor
        return try await self.withDatabase { db in
            try await Self.appliedVersions(db, flavor)
        }
    }

    private static func appliedVersions(_ db: any SQLDatabase, _ flavor: SQLFlavor) async throws -> [Int] {
        try await self.bookkeeping("read the conduit_migration table") {
            let exists: SQLQueryString
            switch flavor {
            case .sqlite:
                exists = "SELECT 1 AS present FROM sqlite_master WHERE type = 'table' AND name = 'conduit_migration'"
            case .postgres:
                exists = "SELECT 1 AS present WHERE to_regclass('conduit_migration') IS NOT NULL"
            }
            guard try await db.raw(exists).first() != nil else {
                return []
            }
            return try await db.raw("SELECT version FROM conduit_migration ORDER BY version")
                .all(decodingColumn: "version", as: Int.self)
        }
    }

    /// PostgreSQL: waits for the migration lock, held until this transaction ends. SQLite: the writer lock
    /// (`BEGIN IMMEDIATE`) already serialises every writer, in this process and in others.
    private static func lockMigrations(_ db: any SQLDatabase, _ flavor: SQLFlavor) async throws {
        switch flavor {
        case .sqlite:
            return
        case .postgres:
            try await self.bookkeeping("take the migration lock") {
                try await db.raw("SELECT pg_advisory_xact_lock(\(bind: Self.migrationLockKey))").run()
            }
        }
    }

    private static func checkNotNewer(applied: [Int], known: [Migration]) throws(StoreError) {
        guard let newest = applied.max(), newest > (known.last?.version ?? Int.min) else {
            return
        }
        let knows: String
        switch (known.first, known.last) {
        case (let first?, let last?) where first.version != last.version:
            knows = "knows \(first.version)…\(last.version)"
        case (let only?, _):
            knows = "knows \(only.version)"
        case (nil, _):
            knows = "knows no migrations"
        }
        throw StoreError(
            .newerDatabase,
            "the database is at migration \(newest), newer than this Conduit (\(knows)); "
                + "run the Conduit version that migrated it, or a newer one"
        )
    }

    private static func bookkeeping<T>(_ what: String, _ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(
                .queryFailed,
                "cannot \(what): \(describeDatabaseError(error))",
                underlying: error
            )
        }
    }
}

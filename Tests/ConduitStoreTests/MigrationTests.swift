import ConduitStore
import ConduitTestSupport
import SQLKit
import Synchronization
import Testing

/// Records which migrations ran, across stores and tasks.
final class MigrationLog: Sendable {
    private let versions = Mutex<[Int]>([])

    var applied: [Int] { self.versions.withLock { $0 } }

    /// Migrations that each create a table `step_<version>` and note that they ran.
    func migrations(_ versions: [Int]) -> [Migration] {
        versions.map { version in
            Migration(version: version, name: "step \(version)") { db, _ in
                self.versions.withLock { $0.append(version) }
                try await db.raw("CREATE TABLE step_\(unsafeRaw: String(version)) (id INTEGER PRIMARY KEY)").run()
            }
        }
    }
}

@Suite("Migrations", .timeLimit(.minutes(2)))
struct MigrationTests {
    @Test("apply once, in version order, and not again", arguments: TestBackend.all)
    func appliedOnceInOrder(_ backend: TestBackend) async throws {
        try await backend.withStore { store in
            let log = MigrationLog()
            #expect(try await store.appliedMigrations() == [])
            try await store.migrate(log.migrations([3, 1, 2]))
            #expect(log.applied == [1, 2, 3])
            #expect(try await store.appliedMigrations() == [1, 2, 3])

            try await store.migrate(log.migrations([1, 2, 3]))
            #expect(log.applied == [1, 2, 3])

            try await store.migrate(log.migrations([1, 2, 3, 4]))
            #expect(log.applied == [1, 2, 3, 4])
            #expect(try await store.appliedMigrations() == [1, 2, 3, 4])

            let rows = try await store.withDatabase { db in
                try await db.raw("SELECT version, name, applied_on FROM conduit_migration ORDER BY version").all()
            }
            #expect(try rows.map { try $0.decode(column: "name", as: String.self) } == (1...4).map { "step \($0)" })
            for row in rows {
                let appliedOn = try row.decode(column: "applied_on", as: String.self)
                #expect(appliedOn.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/) != nil, "ISO 8601: \(appliedOn)")
            }
        }
    }

    @Test("a database newer than the code fails clearly", arguments: TestBackend.all)
    func newerDatabase(_ backend: TestBackend) async throws {
        try await backend.withStore { store in
            let log = MigrationLog()
            try await store.migrate(log.migrations([1, 2, 3, 7]))
            let error = await #expect(throws: StoreError.self) {
                try await store.migrate(log.migrations([1, 2, 3, 4, 5]))
            }
            #expect(error?.code == .newerDatabase)
            #expect(
                error?.description.contains("the database is at migration 7, newer than this Conduit (knows 1…5)")
                    == true
            )
            #expect(log.applied == [1, 2, 3, 7])
        }
    }

    @Test("a failing migration is rolled back with its row, and those before it stay", arguments: TestBackend.all)
    func failingMigrationRollsBack(_ backend: TestBackend) async throws {
        try await backend.withStore { (store) async throws -> Void in
            let log = MigrationLog()
            let migrations =
                log.migrations([1]) + [
                    Migration(version: 2, name: "half done") { db, _ in
                        try await db.raw("CREATE TABLE half_done (id INTEGER)").run()
                        try await db.raw("INSERT INTO no_such_table VALUES (1)").run()
                    }
                ]
            let error = await #expect(throws: StoreError.self) { try await store.migrate(migrations) }
            #expect(error?.code == .migrationFailed)
            #expect(error?.description.hasPrefix("migration 2 (half done) failed and was rolled back: ") == true)
            #expect(try await store.appliedMigrations() == [1])
            // The table created before the failure went with the rollback (DDL is transactional on both).
            await #expect(throws: (any Error).self) {
                try await store.withDatabase { try await $0.raw("SELECT id FROM half_done").run() }
            }
        }
    }

    @Test("duplicate versions are refused before anything runs")
    func duplicateVersions() async throws {
        try await TestBackend.sqliteMemory.withStore { store in
            let log = MigrationLog()
            let error = await #expect(throws: StoreError.self) {
                try await store.migrate(log.migrations([1, 2]) + log.migrations([2]))
            }
            #expect(error?.code == .invalidMigrations)
            #expect(error?.description == "two migrations have version 2 ('step 2' and 'step 2')")
            #expect(log.applied == [])
        }
    }

    @Test("two stores migrating one database at once apply each migration once", arguments: TestBackend.shared)
    func concurrentMigrate(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { configuration in
            let log = MigrationLog()
            let migrations = log.migrations(Array(1...8))
            try await withStore(configuration, logger: testLogger) { first in
                try await withStore(configuration, logger: testLogger) { second in
                    async let one: Void = first.migrate(migrations)
                    async let two: Void = second.migrate(migrations)
                    _ = try await (one, two)
                    #expect(try await first.appliedMigrations() == Array(1...8))
                    #expect(try await second.appliedMigrations() == Array(1...8))
                }
            }
            #expect(log.applied == Array(1...8))
        }
    }
}

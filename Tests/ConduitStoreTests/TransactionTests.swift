import ConduitTestSupport
import Foundation
import SQLKit
import Testing

@testable import ConduitStore

@Suite("Transactions", .timeLimit(.minutes(2)))
struct TransactionTests {
    static func createItems(_ store: Store) async throws {
        try await store.transaction { db in
            try await db.raw("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL)").run()
        }
    }

    static func count(_ store: Store) async throws -> Int {
        try await store.withDatabase { db in
            try await db.raw("SELECT COUNT(*) AS n FROM item").first(decodingColumn: "n", as: Int.self) ?? -1
        }
    }

    @Test("commit makes every statement visible and returns the body's value", arguments: TestBackend.all)
    func commit(_ backend: TestBackend) async throws {
        try await backend.withStore { store in
            try await Self.createItems(store)
            let value = try await store.transaction { db in
                for id in 1...3 {
                    try await db.insert(into: "item").columns("id", "name").values(SQLBind(id), SQLBind("n\(id)")).run()
                }
                return "done"
            }
            #expect(value == "done")
            #expect(try await Self.count(store) == 3)
        }
    }

    @Test("a thrown error rolls back every statement and is rethrown unchanged", arguments: TestBackend.all)
    func rollback(_ backend: TestBackend) async throws {
        try await backend.withStore { store in
            try await Self.createItems(store)
            await #expect(throws: DeliberateFailure()) {
                try await store.transaction { db in
                    try await db.insert(into: "item").columns("id", "name").values(SQLBind(1), SQLBind("a")).run()
                    try await db.insert(into: "item").columns("id", "name").values(SQLBind(2), SQLBind("b")).run()
                    throw DeliberateFailure()
                }
            }
            #expect(try await Self.count(store) == 0)
            // A failing statement rolls back too, and the connection stays usable.
            await #expect(throws: (any Error).self) {
                try await store.transaction { db in
                    try await db.insert(into: "item").columns("id", "name").values(SQLBind(1), SQLBind("a")).run()
                    try await db.insert(into: "item").columns("id", "name").values(SQLBind(1), SQLBind("dup")).run()
                }
            }
            #expect(try await Self.count(store) == 0)
            try await store.transaction { db in
                try await db.insert(into: "item").columns("id", "name").values(SQLBind(1), SQLBind("a")).run()
            }
            #expect(try await Self.count(store) == 1)
        }
    }

    @Test("50 concurrent read-modify-write transactions count exactly", arguments: TestBackend.all)
    func concurrentCounter(_ backend: TestBackend) async throws {
        try await backend.withStore(maximumConnections: 8) { store in
            try await store.transaction { db in
                try await db.raw("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)").run()
                try await db.raw("INSERT INTO counter (id, value) VALUES (1, 0)").run()
            }
            let seen = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        try await store.transaction { db in
                            // FOR UPDATE on PostgreSQL (READ COMMITTED); SQLite's dialect leaves it out and its
                            // single writer serialises the transactions anyway.
                            let value =
                                try await db.select().column("value").from("counter")
                                .where("id", .equal, SQLBind(1)).for(.update)
                                .first(decodingColumn: "value", as: Int.self) ?? -1
                            await Task.yield()
                            try await db.update("counter").set("value", to: SQLBind(value + 1))
                                .where("id", .equal, SQLBind(1)).run()
                            return value + 1
                        }
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(seen.sorted() == Array(1...50))
            let final = try await store.withDatabase { db in
                try await db.raw("SELECT value FROM counter WHERE id = 1").first(decodingColumn: "value", as: Int.self)
            }
            #expect(final == 50)
        }
    }

    @Test(
        "a read does not wait for a writing transaction, and does not see its changes",
        arguments: [TestBackend.sqliteFile] + (TestBackend.runsPostgres ? [.postgres] : [])
    )
    func readBesideWrite(_ backend: TestBackend) async throws {
        try await backend.withStore { store in
            try await Self.createItems(store)
            let inserted = Gate()
            let readDone = Gate()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await store.transaction { db in
                        try await db.insert(into: "item").columns("id", "name").values(SQLBind(1), SQLBind("a")).run()
                        inserted.open()
                        await readDone.wait()
                    }
                }
                await inserted.wait()
                // The writer holds its transaction until this read is done: a read that waited for it would never
                // finish. The deadline only ends that case; it is long because CI runs hundreds of tests beside it.
                let during = try await withDeadline(seconds: 30, "a read during a write transaction") {
                    try await Self.count(store)
                }
                #expect(during == 0)
                readDone.open()
                try await group.waitForAll()
            }
            #expect(try await Self.count(store) == 1)
        }
    }

    @Test(
        "a caller cancelled while waiting for the writer leaves the queue without leaking it",
        arguments: TestBackend.all
    )
    func cancelledWaiter(_ backend: TestBackend) async throws {
        // One connection on PostgreSQL too, so the second transaction has to wait for it.
        try await backend.withStore(maximumConnections: 1) { store in
            try await Self.createItems(store)
            let holding = Gate()
            let release = Gate()
            let holder = Task {
                try await store.transaction { db in
                    holding.open()
                    await release.wait()
                    try await db.insert(into: "item").columns("id", "name").values(SQLBind(1), SQLBind("a")).run()
                }
            }
            await holding.wait()
            let waiter = Task {
                try await store.transaction { db in
                    try await db.insert(into: "item").columns("id", "name").values(SQLBind(2), SQLBind("b")).run()
                }
            }
            try await Task.sleep(for: .milliseconds(200))
            waiter.cancel()
            let outcome = await waiter.result
            #expect(throws: CancellationError.self) { try outcome.get() }
            release.open()
            try await holder.value
            try await withDeadline(seconds: 10, "a transaction after a cancelled waiter") {
                try await store.transaction { db in
                    try await db.insert(into: "item").columns("id", "name").values(SQLBind(3), SQLBind("c")).run()
                }
            }
            let ids = try await store.withDatabase { db in
                try await db.raw("SELECT id FROM item ORDER BY id").all(decodingColumn: "id", as: Int.self)
            }
            #expect(ids == [1, 3])
        }
    }

    @Test("writers are served in arrival order", arguments: [TestBackend.sqliteFile, .sqliteMemory])
    func fifoWriters(_ backend: TestBackend) async throws {
        try await backend.withStore { store in
            try await store.transaction { db in
                try await db.raw("CREATE TABLE arrival (seq INTEGER PRIMARY KEY, tag INTEGER NOT NULL)").run()
            }
            let holding = Gate()
            let release = Gate()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await store.transaction { _ in
                        holding.open()
                        await release.wait()
                    }
                }
                await holding.wait()
                for id in 1...10 {
                    group.addTask {
                        try await store.transaction { db in
                            try await db.insert(into: "arrival").columns("tag").values(SQLBind(id)).run()
                        }
                    }
                    // Let each one reach the queue before the next.
                    while store.waitingWriters < id {
                        try await Task.sleep(for: .milliseconds(1))
                    }
                }
                release.open()
                try await group.waitForAll()
            }
            let order = try await store.withDatabase { db in
                try await db.raw("SELECT tag FROM arrival ORDER BY seq").all(decodingColumn: "tag", as: Int.self)
            }
            #expect(order == Array(1...10))
        }
    }

    @Test("on an SQLite file, withDatabase is read-only")
    func readersAreReadOnly() async throws {
        try await TestBackend.sqliteFile.withStore { store in
            try await Self.createItems(store)
            await #expect(throws: (any Error).self) {
                try await store.withDatabase { db in
                    try await db.insert(into: "item").columns("id", "name").values(SQLBind(1), SQLBind("a")).run()
                }
            }
            #expect(try await Self.count(store) == 0)
        }
    }

    @Test("a running SQLite store checkpoints its WAL in the background (every second), commits every 4,000 pages")
    func backgroundCheckpoints() async throws {
        try await TestBackend.sqliteFile.withFreshDatabase { configuration in
            guard case .sqlite(let path) = configuration.backend else { return }
            try await withStore(configuration, logger: testLogger) { store in
                let threshold = try await store.transaction { db in
                    try await db.raw("PRAGMA wal_autocheckpoint").first(
                        decodingColumn: "wal_autocheckpoint",
                        as: Int.self
                    )
                }
                #expect(threshold == 4_000, "commits checkpoint every 4,000 pages")
                try await store.transaction { db in
                    try await db.raw("CREATE TABLE ballast (id INTEGER PRIMARY KEY, data BLOB NOT NULL)").run()
                }
                // About 2.4 MB in 300 commits: some 600 WAL pages, far below the commits' own threshold.
                for n in 0..<300 {
                    try await store.transaction { db in
                        try await db.raw(
                            "INSERT INTO ballast (id, data) VALUES (\(bind: n), \(bind: Data(repeating: UInt8(n % 251), count: 8192)))"
                        ).run()
                    }
                }
                // The next background checkpoint comes within a second or so (15 s at most here).
                var size = 0
                for _ in 0..<150 {
                    size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                    if size > 2_000_000 { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(size > 2_000_000, "the database file holds the rows: a background checkpoint copied them")
            }
        }
    }

    @Test("SQLite connections use WAL, the configured synchronous mode and foreign keys")
    func sqlitePragmas() async throws {
        try await TestBackend.sqliteFile.withFreshDatabase { configuration in
            var configuration = configuration
            configuration.sqliteSynchronous = .full
            try await withStore(configuration, logger: testLogger) { store in
                let (journal, synchronous, foreignKeys) = try await store.transaction { db in
                    (
                        try await db.raw("PRAGMA journal_mode").first(decodingColumn: "journal_mode", as: String.self),
                        try await db.raw("PRAGMA synchronous").first(decodingColumn: "synchronous", as: Int.self),
                        try await db.raw("PRAGMA foreign_keys").first(decodingColumn: "foreign_keys", as: Int.self)
                    )
                }
                #expect(journal == "wal")
                #expect(synchronous == 2)  // FULL
                #expect(foreignKeys == 1)
                let readerSynchronous = try await store.withDatabase { db in
                    try await db.raw("PRAGMA synchronous").first(decodingColumn: "synchronous", as: Int.self)
                }
                #expect(readerSynchronous == 2)
            }
        }
    }
}

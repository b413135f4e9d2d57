import ConduitTestSupport
import Foundation
import Logging
import SQLKit
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing

@testable import ConduitStore

@Suite("Service lifecycle and connection failures", .timeLimit(.minutes(2)))
struct LifecycleTests {
    @Test("graceful shutdown through a ServiceGroup closes the store", arguments: TestBackend.all)
    func gracefulShutdownInServiceGroup(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { configuration in
            let store = Store(configuration: configuration, logger: testLogger)
            let group = ServiceGroup(services: [store], gracefulShutdownSignals: [], logger: testLogger)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let one = try await store.transaction { db in
                    try await db.raw("SELECT 1 AS one").first(decodingColumn: "one", as: Int.self)
                }
                #expect(one == 1)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            let error = await #expect(throws: StoreError.self) {
                try await store.withDatabase { try await $0.raw("SELECT 1").run() }
            }
            #expect(error?.code == .shutDown)
        }
    }

    /// SQLite lets a transaction that is running at shutdown finish and commit. PostgreSQL's pool closes its
    /// connections at once (postgres-nio's `PostgresClient.run()`), so there the transaction fails, atomically.
    @Test(
        "graceful shutdown during a transaction: SQLite commits it, PostgreSQL fails it whole",
        arguments: TestBackend.all
    )
    func gracefulShutdownDuringWork(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { configuration in
            let store = Store(configuration: configuration, logger: testLogger)
            let outcome = try await testGracefulShutdown { trigger in
                try await withThrowingTaskGroup(of: Result<Void, any Error>?.self) { tasks in
                    tasks.addTask {
                        try await store.run()
                        return nil
                    }
                    try await store.transaction { db in
                        try await db.raw("CREATE TABLE item (id INTEGER PRIMARY KEY)").run()
                    }
                    let inside = Gate()
                    let finish = Gate()
                    tasks.addTask {
                        do {
                            try await store.transaction { db in
                                inside.open()
                                await finish.wait()
                                try await db.raw("INSERT INTO item (id) VALUES (1)").run()
                                try await db.raw("INSERT INTO item (id) VALUES (2)").run()
                            }
                            return .success(())
                        } catch {
                            return .failure(error)
                        }
                    }
                    await inside.wait()
                    trigger.triggerGracefulShutdown()
                    // The transaction goes on only after run() has returned.
                    while store.lifecycle.phase != .finished {
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    finish.open()
                    var outcome: Result<Void, any Error>?
                    for try await result in tasks {
                        if let result {
                            outcome = result
                        }
                    }
                    return try #require(outcome)
                }
            }
            switch backend {
            case .sqliteFile, .sqliteMemory:
                #expect(throws: Never.self) { try outcome.get() }
            case .postgres:
                #expect(throws: (any Error).self) { try outcome.get() }
            }
            // SQLite's in-memory database went with its connection; the others show all or nothing.
            if backend != .sqliteMemory {
                try await withStore(configuration, logger: testLogger) { store in
                    let ids = try await store.withDatabase { db in
                        try await db.raw("SELECT id FROM item ORDER BY id").all(decodingColumn: "id", as: Int.self)
                    }
                    #expect(ids == (backend == .postgres ? [] : [1, 2]))
                }
            }
        }
    }

    @Test("cancelling run() stops the store promptly", arguments: TestBackend.all)
    func cancellation(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { configuration in
            let store = Store(configuration: configuration, logger: testLogger)
            let running = Task { try await store.run() }
            try await store.transaction { db in try await db.raw("SELECT 1").run() }
            running.cancel()
            try await withDeadline(seconds: 10, "run() after cancellation") { try await running.value }
            let error = await #expect(throws: StoreError.self) {
                try await store.transaction { db in try await db.raw("SELECT 1").run() }
            }
            #expect(error?.code == .shutDown)
        }
    }

    @Test("run() twice is refused", arguments: TestBackend.all)
    func runTwice(_ backend: TestBackend) async throws {
        try await backend.withFreshDatabase { configuration in
            let store = Store(configuration: configuration, logger: testLogger)
            let running = Task { try await store.run() }
            while store.lifecycle.phase == .idle {
                await Task.yield()
            }
            let error = await #expect(throws: StoreError.self) { try await store.run() }
            #expect(error?.code == .alreadyRunning)
            running.cancel()
            try await running.value
        }
    }

    @Test(
        "PostgreSQL without run() fails with a clear error instead of hanging",
        .enabled(if: TestBackend.runsPostgres, Comment(rawValue: TestBackend.skippedPostgres))
    )
    func postgresNotRunning() async throws {
        try await TestBackend.postgres.withFreshDatabase { configuration in
            var notRunning = configuration
            notRunning.connectionTimeout = .seconds(1)
            let store = Store(configuration: notRunning, logger: testLogger)
            let error = await #expect(throws: StoreError.self) {
                try await withDeadline(seconds: 10, "a transaction without run()") {
                    try await store.transaction { db in try await db.raw("SELECT 1").run() }
                }
            }
            #expect(error?.code == .connectionTimeout)
            #expect(error?.description.contains("Store.run() is not running") == true)
        }
    }

    @Test("an unreachable PostgreSQL gives a clear error, not a hang")
    func unreachablePostgres() async throws {
        let port = try closedPort()
        var unreachable = StoreConfiguration(backend: .postgres(url: "postgres://conduit@127.0.0.1:\(port)/conduit"))
        unreachable.connectionTimeout = .seconds(2)
        let configuration = unreachable
        let error = await #expect(throws: StoreError.self) {
            try await withDeadline(seconds: 20, "a transaction on an unreachable server") {
                try await withStore(configuration, logger: testLogger) { store in
                    try await store.transaction { db in try await db.raw("SELECT 1").run() }
                }
            }
        }
        #expect(error?.code == .cannotConnect)
        #expect(error?.description == "cannot connect to PostgreSQL at 127.0.0.1:\(port): connection refused")
    }

    @Test(
        "a PostgreSQL database that does not exist gives the server's reason",
        .enabled(if: TestBackend.runsPostgres, Comment(rawValue: TestBackend.skippedPostgres))
    )
    func missingPostgresDatabase() async throws {
        let base = try #require(TestBackend.postgresURL, Comment(rawValue: TestBackend.missingPostgresInCI))
        var components = try #require(URLComponents(string: base))
        components.path = "/no_such_database"
        var missing = StoreConfiguration(backend: .postgres(url: components.string!))
        missing.connectionTimeout = .seconds(2)
        let configuration = missing
        let error = await #expect(throws: StoreError.self) {
            try await withStore(configuration, logger: testLogger) { store in
                try await store.withDatabase { db in try await db.raw("SELECT 1").run() }
            }
        }
        #expect(error?.code == .cannotConnect)
        #expect(error?.description.contains("database \"no_such_database\" does not exist") == true)
    }

    @Test("an SQLite path that cannot be a database gives a clear error")
    func unopenableSQLite() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "conduit-store-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("plain-file")
        try Data("not a directory".utf8).write(to: file)
        let path = file.appendingPathComponent("conduit.sqlite").path
        let error = await #expect(throws: StoreError.self) {
            try await withStore(StoreConfiguration(backend: .sqlite(path: path)), logger: testLogger) { store in
                try await store.transaction { db in try await db.raw("SELECT 1").run() }
            }
        }
        #expect(error?.code == .cannotConnect)
        #expect(
            error?.description.hasPrefix("cannot create the directory \(file.path) for the SQLite database at") == true
        )

        let notADatabase = directory.appendingPathComponent("garbage.sqlite")
        try Data(repeating: 0x41, count: 4096).write(to: notADatabase)
        let garbage = await #expect(throws: StoreError.self) {
            try await withStore(StoreConfiguration(backend: .sqlite(path: notADatabase.path)), logger: testLogger) {
                try await $0.migrate([])
            }
        }
        #expect(garbage?.code == .cannotConnect)
        #expect(garbage?.description.contains("file is not a database") == true)
    }

    @Test("a store with an unusable configuration says why on every call")
    func unusableConfiguration() async throws {
        let store = Store(
            configuration: StoreConfiguration(backend: .postgres(url: "postgres://@/x")),
            logger: testLogger
        )
        #expect(store.flavor == .postgres)
        let error = await #expect(throws: StoreError.self) { try await store.appliedMigrations() }
        #expect(error?.code == .invalidConfiguration)
        let fromRun = await #expect(throws: StoreError.self) { try await store.run() }
        #expect(fromRun?.code == .invalidConfiguration)
        let fromWithStore = await #expect(throws: StoreError.self) {
            try await withStore(StoreConfiguration(backend: .postgres(url: "mysql://x")), logger: testLogger) { _ in }
        }
        #expect(fromWithStore?.code == .invalidConfiguration)
    }

    @Test("a store dropped without run() closes its SQLite connections")
    func droppedWithoutRun() async throws {
        try await TestBackend.sqliteFile.withFreshDatabase { configuration in
            guard case .sqlite(let path) = configuration.backend else {
                Issue.record("expected an SQLite file configuration")
                return
            }
            var store: Store? = Store(configuration: configuration, logger: testLogger)
            try await store?.transaction { db in try await db.raw("CREATE TABLE t (id INTEGER)").run() }
            _ = try await store?.appliedMigrations()
            #expect(FileManager.default.fileExists(atPath: path + "-wal"))
            store = nil
            // SQLite removes the write-ahead log when the last connection to the file closes.
            let deadline = ContinuousClock.now + .seconds(5)
            while FileManager.default.fileExists(atPath: path + "-wal"), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
            try await withStore(configuration, logger: testLogger) { reopened in
                let count = try await reopened.withDatabase { db in
                    try await db.raw("SELECT COUNT(*) AS n FROM t").first(decodingColumn: "n", as: Int.self)
                }
                #expect(count == 0)
            }
        }
    }
}

/// A loopback port with nothing listening on it.
func closedPort() throws -> Int {
    let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(socket, pointer, length) == 0 && getsockname(socket, pointer, &length) == 0
        }
    }
    guard bound else {
        throw CancellationError()
    }
    return Int(UInt16(bigEndian: address.sin_port))
}

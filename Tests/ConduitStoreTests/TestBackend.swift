import ConduitStore
import Foundation
import Logging
import SQLKit
import Testing

/// The databases every store test runs on.
enum TestBackend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqliteFile
    case sqliteMemory
    case postgres

    var testDescription: String { self.rawValue }

    /// `CONDUIT_TEST_POSTGRES_URL`: a database the tests may create and drop databases next to.
    static let postgresURL: String? = {
        guard let url = ProcessInfo.processInfo.environment["CONDUIT_TEST_POSTGRES_URL"], !url.isEmpty else {
            return nil
        }
        return url
    }()

    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// PostgreSQL cases run when the URL is set, and in CI, where a missing URL fails them.
    static let runsPostgres = postgresURL != nil || isCI

    static let missingPostgresInCI =
        "CI must provide CONDUIT_TEST_POSTGRES_URL: .ci/run starts a private PostgreSQL with .ci/postgres.sh start"

    static let skippedPostgres =
        "CONDUIT_TEST_POSTGRES_URL is not set, so the PostgreSQL cases are skipped; start a private server with "
        + "`pg_env=$(bash .ci/postgres.sh start); eval \"$pg_env\"; export CONDUIT_TEST_POSTGRES_URL`"

    /// Every backend.
    static let all: [TestBackend] = [.sqliteFile, .sqliteMemory] + (runsPostgres ? [.postgres] : [])
    /// Backends whose database outlives a store, so two stores can share it.
    static let shared: [TestBackend] = [.sqliteFile] + (runsPostgres ? [.postgres] : [])

    var flavor: SQLFlavor { self == .postgres ? .postgres : .sqlite }

    /// Makes a fresh, empty database for one test (a temporary SQLite file, or a new PostgreSQL database), passes its
    /// configuration to `body`, and removes the database afterwards.
    func withFreshDatabase<T: Sendable>(
        maximumConnections: Int = 4,
        _ body: (StoreConfiguration) async throws -> T
    ) async throws -> T {
        switch self {
        case .sqliteMemory:
            return try await body(StoreConfiguration(backend: .sqliteInMemory))
        case .sqliteFile:
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("conduit-store-tests-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: directory) }
            // A directory that does not exist yet: the store creates it.
            let path = directory.appendingPathComponent("data/conduit.sqlite").path
            return try await body(
                StoreConfiguration(backend: .sqlite(path: path), maximumConnections: maximumConnections)
            )
        case .postgres:
            guard let baseURL = Self.postgresURL else {
                Issue.record(Comment(rawValue: Self.missingPostgresInCI))
                throw MissingPostgresURL()
            }
            let name = "conduit_t_\(UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: ""))"
            var components = URLComponents(string: baseURL)!
            components.path = "/\(name)"
            let admin = StoreConfiguration(backend: .postgres(url: baseURL), maximumConnections: 1)
            try await ConduitStore.withStore(admin, logger: testLogger) { store in
                try await store.withDatabase { try await $0.raw("CREATE DATABASE \(unsafeRaw: name)").run() }
            }
            do {
                let value = try await body(
                    StoreConfiguration(
                        backend: .postgres(url: components.string!),
                        maximumConnections: maximumConnections
                    )
                )
                try await Self.drop(name, admin: admin)
                return value
            } catch {
                try? await Self.drop(name, admin: admin)
                throw error
            }
        }
    }

    /// Runs `body` with a running store on a fresh database.
    func withStore<T: Sendable>(
        maximumConnections: Int = 4,
        _ body: @Sendable (Store) async throws -> T
    ) async throws -> T {
        try await self.withFreshDatabase(maximumConnections: maximumConnections) { configuration in
            try await ConduitStore.withStore(configuration, logger: testLogger, body)
        }
    }

    private static func drop(_ name: String, admin: StoreConfiguration) async throws {
        try await ConduitStore.withStore(admin, logger: testLogger) { store in
            try await store.withDatabase {
                try await $0.raw("DROP DATABASE IF EXISTS \(unsafeRaw: name) WITH (FORCE)").run()
            }
        }
    }
}

/// Thrown after recording an issue for a case that cannot run.
struct MissingPostgresURL: Error {}

/// Thrown by test bodies to check rollback.
struct DeliberateFailure: Error, Equatable {}

let testLogger: Logger = {
    var logger = Logger(label: "conduit.store.tests")
    logger.logLevel =
        ProcessInfo.processInfo.environment["CONDUIT_TEST_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .warning
    return logger
}()

/// Fails the test if `body` takes longer than `seconds`; returns its value otherwise.
func withDeadline<T: Sendable>(
    seconds: Double,
    _ what: String,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            Issue.record(Comment(rawValue: "\(what) did not finish within \(seconds) s"))
            throw CancellationError()
        }
        return value
    }
}

/// A one-shot signal between tasks.
struct Gate: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (self.stream, self.continuation) = AsyncStream.makeStream(of: Void.self)
    }

    func open() {
        self.continuation.yield()
        self.continuation.finish()
    }

    func wait() async {
        for await _ in self.stream {
            break
        }
    }
}

@Suite("PostgreSQL for the tests")
struct PostgresAvailabilityTests {
    @Test(
        "CONDUIT_TEST_POSTGRES_URL reaches a server",
        .enabled(if: TestBackend.runsPostgres, Comment(rawValue: TestBackend.skippedPostgres))
    )
    func reachable() async throws {
        guard let url = TestBackend.postgresURL else {
            Issue.record(Comment(rawValue: TestBackend.missingPostgresInCI))
            return
        }
        let one = try await withStore(StoreConfiguration(backend: .postgres(url: url)), logger: testLogger) { store in
            try await store.withDatabase {
                try await $0.raw("SELECT 1 AS one").first(decodingColumn: "one", as: Int.self)
            }
        }
        #expect(one == 1)
    }
}

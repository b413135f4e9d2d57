import ConduitStore
import Foundation
import Logging
import SQLKit
import Testing

/// The databases the storage, platform and server tests run on: SQLite (a file, or in memory) and PostgreSQL from
/// `CONDUIT_TEST_POSTGRES_URL` (`.ci/run` starts one; in CI its absence fails the PostgreSQL cases).
public enum TestBackend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    case sqliteFile
    case sqliteMemory
    case postgres

    public var testDescription: String { self.rawValue }

    /// `CONDUIT_TEST_POSTGRES_URL`: a database the tests may create and drop databases next to.
    public static let postgresURL: String? = {
        guard let url = ProcessInfo.processInfo.environment["CONDUIT_TEST_POSTGRES_URL"], !url.isEmpty else {
            return nil
        }
        return url
    }()

    public static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// PostgreSQL cases run when the URL is set, and in CI, where a missing URL fails them.
    public static let runsPostgres = postgresURL != nil || isCI

    public static let missingPostgresInCI =
        "CI must provide CONDUIT_TEST_POSTGRES_URL: .ci/run starts a private PostgreSQL with .ci/postgres.sh start"

    public static let skippedPostgres =
        "CONDUIT_TEST_POSTGRES_URL is not set, so the PostgreSQL cases are skipped; start a private server with "
        + "`pg_env=$(bash .ci/postgres.sh start); eval \"$pg_env\"; export CONDUIT_TEST_POSTGRES_URL`"

    /// Every backend.
    public static let all: [TestBackend] = [.sqliteFile, .sqliteMemory] + (runsPostgres ? [.postgres] : [])
    /// Backends whose database outlives a store, so two stores can share it.
    public static let shared: [TestBackend] = [.sqliteFile] + (runsPostgres ? [.postgres] : [])

    public var flavor: SQLFlavor { self == .postgres ? .postgres : .sqlite }

    /// Makes a fresh, empty database for one test (a temporary SQLite file, or a new PostgreSQL database), passes its
    /// configuration to `body`, and removes the database afterwards.
    public func withFreshDatabase<T: Sendable>(
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
            // Tests run in parallel on two cores: a connection may take longer than a server's 10 s to come.
            var admin = StoreConfiguration(backend: .postgres(url: baseURL), maximumConnections: 1)
            admin.connectionTimeout = .seconds(90)
            try await ConduitStore.withStore(admin, logger: testLogger) { store in
                try await store.withDatabase { try await $0.raw("CREATE DATABASE \(unsafeRaw: name)").run() }
            }
            do {
                var configuration = StoreConfiguration(
                    backend: .postgres(url: components.string!),
                    maximumConnections: maximumConnections
                )
                configuration.connectionTimeout = .seconds(90)
                let value = try await body(configuration)
                try await Self.drop(name, admin: admin)
                return value
            } catch {
                try? await Self.drop(name, admin: admin)
                throw error
            }
        }
    }

    /// The backends platform and server tests run on: an SQLite file, and PostgreSQL.
    public static let available: [TestBackend] = [.sqliteFile] + (runsPostgres ? [.postgres] : [])

    /// Runs `body` with a running store on a fresh database (the platform and server tests' entry point).
    public func withFreshStore<T: Sendable>(_ body: @Sendable (Store) async throws -> T) async throws -> T {
        try await withStore(maximumConnections: 8, body)
    }

    /// Runs `body` with a running store on a fresh database.
    public func withStore<T: Sendable>(
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
public struct MissingPostgresURL: Error {}

/// The logger tests give stores (`CONDUIT_TEST_LOG_LEVEL`, default warning).
public let testLogger: Logger = {
    var logger = Logger(label: "conduit.tests")
    logger.logLevel =
        ProcessInfo.processInfo.environment["CONDUIT_TEST_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .warning
    return logger
}()

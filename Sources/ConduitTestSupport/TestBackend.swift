import ConduitStore
import Foundation
import Logging
import SQLKit
import Testing

/// The databases storage, platform and server tests run on: SQLite always; PostgreSQL when `CONDUIT_TEST_POSTGRES_URL` names a server
/// (`.ci/run` starts one; in CI its absence is a failure, not a skip).
public enum TestBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    public var testDescription: String { rawValue }

    public static var postgresURL: String? { ProcessInfo.processInfo.environment["CONDUIT_TEST_POSTGRES_URL"] }
    public static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// The backends to run on here.
    public static var available: [TestBackend] {
        postgresURL != nil || isCI ? [.sqlite, .postgres] : [.sqlite]
    }

    /// Runs `body` with a fresh, empty database of this backend, removed afterwards.
    public func withFreshStore<T: Sendable>(_ body: @Sendable (Store) async throws -> T) async throws -> T {
        var logger = Logger(label: "conduit.test")
        logger.logLevel = .warning
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-test-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let configuration = StoreConfiguration(
                backend: .sqlite(path: directory.appendingPathComponent("t.sqlite").path)
            )
            return try await withStore(configuration, logger: logger, body)
        case .postgres:
            guard let url = Self.postgresURL else {
                Issue.record(
                    "CI must provide PostgreSQL: CONDUIT_TEST_POSTGRES_URL is not set (bash .ci/run starts one)"
                )
                throw CancellationError()
            }
            let name = "conduit_t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
            let admin = StoreConfiguration(backend: .postgres(url: url), maximumConnections: 2)
            try await withStore(admin, logger: logger) { store in
                try await store.withDatabase { db in
                    try await db.raw("CREATE DATABASE \(unsafeRaw: String(name))").run()
                }
            }
            let base = String(url[..<url.lastIndex(of: "/")!])
            let configuration = StoreConfiguration(backend: .postgres(url: base + "/" + name), maximumConnections: 8)
            do {
                let result = try await withStore(configuration, logger: logger, body)
                try await Self.drop(String(name), admin: admin, logger: logger)
                return result
            } catch {
                try? await Self.drop(String(name), admin: admin, logger: logger)
                throw error
            }
        }
    }

    private static func drop(_ name: String, admin: StoreConfiguration, logger: Logger) async throws {
        try await withStore(admin, logger: logger) { store in
            try await store.withDatabase { db in
                try await db.raw("DROP DATABASE IF EXISTS \(unsafeRaw: name) WITH (FORCE)").run()
            }
        }
    }
}

import ConduitStore
import ConduitTestSupport
import Foundation
import Logging
import SQLKit
import Testing

/// Thrown by test bodies to check rollback.
struct DeliberateFailure: Error, Equatable {}

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
        // Up to three tries: this runs beside every other test, and a new connection can take more than the pool's
        // 10 s when the machine's two cores are busy; a server that is not there fails all three.
        var one: Int?
        var failure: (any Error)?
        for _ in 0..<3 where one == nil {
            do {
                one = try await withStore(StoreConfiguration(backend: .postgres(url: url)), logger: testLogger) {
                    store in
                    try await store.withDatabase {
                        try await $0.raw("SELECT 1 AS one").first(decodingColumn: "one", as: Int.self)
                    }
                }
            } catch {
                failure = error
            }
        }
        #expect(one == 1, "\(failure.map { "\($0)" } ?? "")")
    }
}

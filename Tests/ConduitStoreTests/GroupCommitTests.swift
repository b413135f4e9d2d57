import ConduitTestSupport
import Foundation
import SQLKit
import ServiceContextModule
import Testing

@testable import ConduitStore

/// SQLite's writer writes the transactions that queue while one is written in one round: one `BEGIN IMMEDIATE`, a
/// savepoint each, one `COMMIT`.
@Suite("SQLite group commit", .timeLimit(.minutes(2)))
struct GroupCommitTests {
    /// Holds the writer with one transaction while `queue` transactions line up behind it, then lets it go;
    /// returns each queued transaction's outcome (by its index) and how many commits the writer made meanwhile.
    static func queued(
        _ store: Store,
        _ bodies: [@Sendable (any SQLDatabase) async throws -> Void]
    ) async throws -> (outcomes: [Int: Result<Void, any Error>], commits: Int) {
        let holding = Gate()
        let release = Gate()
        let before = store.writerCommits
        let outcomes = try await withThrowingTaskGroup(of: (Int, Result<Void, any Error>).self) { group in
            group.addTask {
                try await store.transaction { _ in
                    holding.open()
                    await release.wait()
                }
                return (-1, .success(()))
            }
            await holding.wait()
            for (index, body) in bodies.enumerated() {
                group.addTask {
                    do {
                        try await store.transaction(body)
                        return (index, .success(()))
                    } catch {
                        return (index, .failure(error))
                    }
                }
                while store.waitingWriters < index + 1 {
                    try await Task.sleep(for: .milliseconds(1))
                }
            }
            release.open()
            var outcomes: [Int: Result<Void, any Error>] = [:]
            for try await (index, outcome) in group where index >= 0 { outcomes[index] = outcome }
            return outcomes
        }
        return (outcomes, store.writerCommits - before)
    }

    static func insert(_ id: Int) -> @Sendable (any SQLDatabase) async throws -> Void {
        { db in try await db.insert(into: "item").columns("id", "name").values(SQLBind(id), SQLBind("n\(id)")).run() }
    }

    static func ids(_ store: Store) async throws -> [Int] {
        try await store.withDatabase { db in
            try await db.raw("SELECT id FROM item ORDER BY id").all(decodingColumn: "id", as: Int.self)
        }
    }

    @Test(
        "queued transactions share one commit; one that throws and one that breaks a constraint roll back alone",
        arguments: [TestBackend.sqliteFile, .sqliteMemory]
    )
    func sharedCommit(_ backend: TestBackend) async throws {
        try await backend.withStore { store in
            try await TransactionTests.createItems(store)
            let (outcomes, commits) = try await Self.queued(
                store,
                [
                    Self.insert(1),
                    Self.insert(2),
                    { db in
                        try await Self.insert(3)(db)
                        throw DeliberateFailure()
                    },
                    { db in
                        try await Self.insert(4)(db)
                        try await Self.insert(1)(db)  // the primary key of the first: refused
                    },
                    Self.insert(5),
                ]
            )
            // The holder's commit and one for the five.
            #expect(commits == 2)
            #expect(throws: DeliberateFailure()) { try outcomes[2]?.get() }
            #expect(throws: (any Error).self) { try outcomes[3]?.get() }
            for index in [0, 1, 4] { #expect(throws: Never.self) { try outcomes[index]?.get() } }
            #expect(try await Self.ids(store) == [1, 2, 5])
        }
    }

    @Test(
        "a change that ends the shared transaction fails the changes before it; the ones after it commit",
        arguments: [TestBackend.sqliteFile, .sqliteMemory]
    )
    func endedTransaction(_ backend: TestBackend) async throws {
        try await backend.withStore { store in
            try await TransactionTests.createItems(store)
            // A ROLLBACK inside a round ends it as SQLite does by itself after a full disk or an I/O error.
            let (outcomes, _) = try await Self.queued(
                store,
                [
                    Self.insert(1),
                    { db in
                        try await Self.insert(2)(db)
                        try await db.raw("ROLLBACK").run()
                    },
                    Self.insert(3),
                ]
            )
            #expect(throws: (any Error).self) { try outcomes[1]?.get() }
            do {
                try outcomes[0]?.get()
                Issue.record("the change before the one that ended the transaction was reported committed")
            } catch let error as StoreError {
                #expect(error.message.contains("shared an SQLite transaction with another that failed"))
            }
            #expect(throws: Never.self) { try outcomes[2]?.get() }
            #expect(try await Self.ids(store) == [3])
            // The writer goes on.
            try await store.transaction(Self.insert(4))
            #expect(try await Self.ids(store) == [3, 4])
        }
    }

    private enum Marker: ServiceContextKey {
        typealias Value = String
    }

    @Test("each transaction of a round runs with its own caller's ServiceContext (its trace), not the leader's")
    func callersContext() async throws {
        try await TestBackend.sqliteFile.withStore { store in
            let holding = Gate()
            let release = Gate()
            try await withThrowingTaskGroup(of: (String, String?).self) { group in
                group.addTask {
                    try await store.transaction { _ in
                        holding.open()
                        await release.wait()
                    }
                    return ("holder", nil)
                }
                await holding.wait()
                for (index, name) in ["first", "second", "third"].enumerated() {
                    group.addTask {
                        var context = ServiceContext.topLevel
                        context[Marker.self] = name
                        let seen = try await ServiceContext.withValue(context) {
                            try await store.transaction { _ in ServiceContext.current?[Marker.self] }
                        }
                        return (name, seen)
                    }
                    while store.waitingWriters < index + 1 { try await Task.sleep(for: .milliseconds(1)) }
                }
                release.open()
                for try await (name, seen) in group where name != "holder" {
                    #expect(seen == name)
                }
            }
        }
    }
}

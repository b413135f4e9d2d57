import ConduitBus
import ConduitStore
import ConduitTestSupport
import Foundation
import SQLKit
import Testing

/// Lock tokens carry their message's sequence number, so that settlements find the message by its key and the bus
/// keeps no lock token index (migration 207).
@Suite("bus message lock tokens")
struct MessageLockTokenTests {
    /// The sequence number in the last eight bytes of a token, under the variant bits.
    static func sequence(in token: UUID) -> Int64 {
        let bytes = withUnsafeBytes(of: token.uuid) { Array($0) }
        let low = bytes[8...].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Int64(bitPattern: low & 0x3FFF_FFFF_FFFF_FFFF)
    }

    @Test(
        "a token is a random UUID carrying its message's sequence; only the whole token settles the message",
        arguments: TestBackend.available
    )
    func tokens(backend: TestBackend) async throws {
        try await QueueStoreTests.withQueues(backend) { queues in
            let t0 = QueueStoreTests.t0
            try await queues.createQueue(QueueDescription(name: "orders", lockDurationSeconds: 30), now: t0)
            let sent = try await queues.send(
                [QueueStoreTests.text("a"), QueueStoreTests.text("b")],
                to: "orders",
                now: t0
            )
            let a = try #require(try await queues.peekLock("orders", now: t0))
            let b = try #require(try await queues.peekLock("orders", now: t0))
            let tokenA = try #require(a.lockToken)
            let tokenB = try #require(b.lockToken)
            #expect(Self.sequence(in: tokenA) == sent[0] && Self.sequence(in: tokenB) == sent[1])
            #expect(tokenA.uuidString.dropFirst(14).first == "4", "version 4")
            #expect("89AB".contains(tokenA.uuidString.dropFirst(19).first ?? "?"), "RFC 4122 variant")

            // The same sequence with other random bytes, or a token of another form, names no message.
            var forged = tokenA.uuid
            forged.0 ^= 0xFF
            await #expect(throws: BusError.self) {
                try await queues.complete("orders", lockToken: UUID(uuid: forged), now: t0 + 1)
            }
            await #expect(throws: BusError.self) {
                try await queues.complete("orders", lockToken: UUID(), now: t0 + 1)
            }
            // Each token settles its own message, once.
            try await queues.complete("orders", lockToken: tokenB, now: t0 + 1)
            try await queues.abandon("orders", lockToken: tokenA, now: t0 + 1)
            await #expect(throws: BusError.self) {
                try await queues.complete("orders", lockToken: tokenB, now: t0 + 2)
            }
            let again = try #require(try await queues.peekLock("orders", now: t0 + 2))
            #expect(again.sequenceNumber == sent[0] && again.lockToken != tokenA)
            #expect(Self.sequence(in: try #require(again.lockToken)) == sent[0])
        }
    }

    @Test("migration 207 leaves no lock token index; the session and expiry indexes are partial")
    func indexes() async throws {
        try await TestBackend.sqliteFile.withStore { store in
            try await store.migrate(BusNamespace.migrations)
            let rows = try await store.withDatabase { db in
                try await db.raw(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'conduit_bus_message'"
                ).all()
            }
            var indexes: [String: String] = [:]
            for row in rows {
                indexes[try row.decode(column: "name", as: String.self)] =
                    try row.decode(column: "sql", as: String?.self) ?? ""
            }
            #expect(indexes["conduit_bus_message_lock"] == nil)
            #expect(indexes["conduit_bus_message_session"]?.contains("WHERE sessionid IS NOT NULL") == true)
            #expect(indexes["conduit_bus_message_expires"]?.contains("WHERE expires IS NOT NULL") == true)
            #expect(indexes["conduit_bus_message_ready"] != nil)
        }
    }
}

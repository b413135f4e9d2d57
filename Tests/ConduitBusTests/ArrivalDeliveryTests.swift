import ConduitBus
import ConduitStore
import ConduitTestSupport
import Foundation
import SQLKit
import Testing

/// Delivery on arrival (SQLite): a message sent to a plain queue on which a receiver waits is handed over before its
/// round commits, written locked for that receiver, with a sequence number from a block reserved beforehand.
@Suite("bus delivery on arrival")
struct ArrivalDeliveryTests {
    static func withBus(_ body: @Sendable (BusNamespace) async throws -> Void) async throws {
        try await TestBackend.sqliteFile.withStore { store in
            try await store.migrate(BusNamespace.migrations)
            try await body(BusNamespace(store: store))
        }
    }

    @Test("the waiting receiver gets the message, stored locked for it; other sends never take its numbers")
    func handedOnArrival() async throws {
        try await Self.withBus { bus in
            let t0 = QueueStoreTests.t0
            let queues = bus.queues
            try await queues.createQueue(QueueDescription(name: "orders", lockDurationSeconds: 30), now: t0)
            let handed = DirectDeliveryTests.Handed()
            queues.waiters.register(queue: "orders") { handed.record($0) }
            try await bus.send([QueueStoreTests.text("a")], to: "orders", now: t0)
            let a = try #require(handed.all.first ?? nil)
            #expect(handed.all.count == 1 && a.message.body == Data("a".utf8) && a.deliveryCount == 1)
            #expect(a.lockedUntil == t0 + 30_000)
            // Stored, locked for it: nobody else finds it, and its lock completes it.
            #expect(try await queues.peekLock("orders", now: t0 + 1) == nil)
            #expect(try await queues.counts("orders", now: t0 + 1).active == 1)

            // Sends by other paths (no receiver waiting; several at once) take numbers after the reserved block.
            _ = try await queues.send(
                [QueueStoreTests.text("b"), QueueStoreTests.text("c")],
                to: "orders",
                now: t0 + 2
            )
            queues.waiters.register(queue: "orders") { handed.record($0) }
            try await bus.send([QueueStoreTests.text("d")], to: "orders", now: t0 + 3)
            let d = try #require(handed.all.last ?? nil)
            let b = try #require(try await queues.peekLock("orders", now: t0 + 4))
            let c = try #require(try await queues.peekLock("orders", now: t0 + 4))
            #expect(b.message.body == Data("b".utf8) && c.message.body == Data("c".utf8))
            // b and c come after a's block; d is the block's next number, or (the block's time over: a slow
            // machine) from a new block after them.
            #expect(a.sequenceNumber < b.sequenceNumber && b.sequenceNumber < c.sequenceNumber)
            #expect(d.message.body == Data("d".utf8))
            #expect(d.sequenceNumber == a.sequenceNumber + 1 || d.sequenceNumber > c.sequenceNumber)
            try await queues.complete("orders", lockToken: try #require(a.lockToken), now: t0 + 5)
            try await queues.complete("orders", lockToken: try #require(d.lockToken), now: t0 + 5)
            try await queues.complete("orders", lockToken: try #require(b.lockToken), now: t0 + 5)
            try await queues.complete("orders", lockToken: try #require(c.lockToken), now: t0 + 5)
            #expect(try await queues.counts("orders", now: t0 + 5).total == 0)
        }
    }

    @Test(
        "a completion that comes before the message's round cancels its write: nothing is stored, nothing comes again"
    )
    func completedBeforeWritten() async throws {
        try await TestBackend.sqliteFile.withStore { store in
            try await store.migrate(BusNamespace.migrations)
            // Every row ever inserted into the messages' table, whatever happens to it later.
            try await store.transaction { db in
                try await db.raw("CREATE TABLE test_inserted (sequence INTEGER)").run()
                try await db.raw(
                    """
                    CREATE TRIGGER test_inserted_rows AFTER INSERT ON conduit_bus_message \
                    BEGIN INSERT INTO test_inserted VALUES (NEW.sequence); END
                    """
                ).run()
            }
            let inserted: @Sendable () async throws -> Int = {
                try await store.withDatabase { db in
                    try await db.raw("SELECT count(*) AS n FROM test_inserted").first()?.decode(
                        column: "n",
                        as: Int.self
                    )
                        ?? -1
                }
            }
            let bus = BusNamespace(store: store)
            let t0 = QueueStoreTests.t0
            let queues = bus.queues
            try await queues.createQueue(QueueDescription(name: "orders", lockDurationSeconds: 30), now: t0)
            let handed = DirectDeliveryTests.Handed()
            // The receiver settles as it is handed the message, before the round that would store it.
            queues.waiters.register(queue: "orders") { received in
                handed.record(received)
                if let token = received?.lockToken { queues.completeSettled("orders", lockToken: token, now: t0) }
            }
            try await bus.send([QueueStoreTests.text("a")], to: "orders", now: t0)
            #expect(handed.all.count == 1)
            #expect(try await inserted() == 0, "consumed before its round: never written")
            // Its lock time over, nothing comes again.
            #expect(try await queues.peekLock("orders", now: t0 + 31_000) == nil)
            #expect(try await queues.counts("orders", now: t0 + 31_000).total == 0)

            // A completion after the round wrote the message deletes it as usual.
            queues.waiters.register(queue: "orders") { handed.record($0) }
            try await bus.send([QueueStoreTests.text("b")], to: "orders", now: t0 + 1)
            let b = try #require(handed.all.last ?? nil)
            #expect(b.message.body == Data("b".utf8))
            #expect(try await inserted() == 1)
            #expect(try await queues.counts("orders", now: t0 + 2).active == 1)
            try await queues.complete("orders", lockToken: try #require(b.lockToken), now: t0 + 2)
            #expect(try await queues.counts("orders", now: t0 + 2).total == 0)
        }
    }

    @Test("sessions, forwarding, duplicate detection and schedules go the usual way")
    func notApplicable() async throws {
        try await Self.withBus { bus in
            let t0 = QueueStoreTests.t0
            let queues = bus.queues
            try await queues.createQueue(
                QueueDescription(name: "dedup", duplicateDetectionWindowSeconds: 60),
                now: t0
            )
            let handed = DirectDeliveryTests.Handed()
            queues.waiters.register(queue: "dedup") { handed.record($0) }
            var first = QueueStoreTests.text("x")
            first.messageId = "m1"
            try await bus.send([first], to: "dedup", now: t0)
            try await bus.send([first], to: "dedup", now: t0 + 1)
            // The usual way: handed over after the commit, and the duplicate dropped.
            #expect(handed.all.count == 1)
            #expect(try await queues.counts("dedup", now: t0 + 2).active == 1)

            try await queues.createQueue(QueueDescription(name: "later"), now: t0)
            queues.waiters.register(queue: "later") { handed.record($0) }
            var scheduled = QueueStoreTests.text("y")
            scheduled.scheduledEnqueueTime = t0 + 60_000
            try await bus.send([scheduled], to: "later", now: t0)
            #expect(handed.all.count == 1, "a scheduled message is not handed over")
        }
    }

    @Test(
        "a queue changed here goes the usual way at once; one deleted elsewhere after its block was reserved fails the send, and the handed lock settles nothing"
    )
    func failedWrite() async throws {
        try await TestBackend.sqliteFile.withStore { store in
            try await store.migrate(BusNamespace.migrations)
            let bus = BusNamespace(store: store)
            let t0 = QueueStoreTests.t0
            let queues = bus.queues
            try await queues.createQueue(QueueDescription(name: "orders"), now: t0)
            let handed = DirectDeliveryTests.Handed()
            queues.waiters.register(queue: "orders") { handed.record($0) }
            try await bus.send([QueueStoreTests.text("a")], to: "orders", now: t0)

            // Changed through this store: its block is dropped, and the next send (a duplicate) is dropped the usual
            // way, not handed over.
            try await queues.updateQueue(QueueDescription(name: "orders", duplicateDetectionWindowSeconds: 60))
            var repeated = QueueStoreTests.text("r")
            repeated.messageId = "r1"
            queues.waiters.register(queue: "orders") { handed.record($0) }
            try await bus.send([repeated], to: "orders", now: t0)
            try await bus.send([repeated], to: "orders", now: t0)
            #expect(handed.all.count == 2, "the first is handed after its commit, the duplicate not at all")
            try await queues.updateQueue(QueueDescription(name: "orders"))
            queues.waiters.register(queue: "orders") { handed.record($0) }
            try await bus.send([QueueStoreTests.text("a2")], to: "orders", now: t0)
            #expect(handed.all.count == 3)

            // Deleted and made again by another process (another store on the file): this one's block is stale.
            let other = BusNamespace(store: store)
            try await other.queues.deleteQueue("orders")
            try await other.queues.createQueue(QueueDescription(name: "orders"), now: t0 + 1)
            queues.waiters.register(queue: "orders") { handed.record($0) }
            await #expect(throws: BusError.self) {
                try await bus.send([QueueStoreTests.text("b")], to: "orders", now: t0 + 2)
            }
            let phantom = try #require(handed.all.last ?? nil)
            #expect(phantom.message.body == Data("b".utf8))
            await #expect(throws: BusError.self) {
                try await queues.complete("orders", lockToken: try #require(phantom.lockToken), now: t0 + 3)
            }
            // The next send starts over: a new block from the new queue, stored and handed over.
            queues.waiters.register(queue: "orders") { handed.record($0) }
            try await bus.send([QueueStoreTests.text("c")], to: "orders", now: t0 + 4)
            let c = try #require(handed.all.last ?? nil)
            #expect(c.message.body == Data("c".utf8))
            try await queues.complete("orders", lockToken: try #require(c.lockToken), now: t0 + 5)
            #expect(try await queues.counts("orders", now: t0 + 5).total == 0)
        }
    }
}

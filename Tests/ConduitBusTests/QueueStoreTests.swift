import ConduitBus
import ConduitStore
import ConduitTestSupport
import Foundation
import Testing

/// Queue semantics on both backends, with an explicit clock (Unix milliseconds).
@Suite("bus queues")
struct QueueStoreTests {
    static let t0: Int64 = 1_800_000_000_000

    static func withQueues(_ backend: TestBackend, _ body: @Sendable (QueueStore) async throws -> Void) async throws {
        try await backend.withStore { store in
            try await store.migrate(BusNamespace.migrations)
            try await body(QueueStore(store: store))
        }
    }

    static func text(_ value: String) -> BusMessage { BusMessage(body: Data(value.utf8)) }

    @Test(
        "send, peek-lock in order, complete; abandon redelivers; receive-and-delete",
        arguments: TestBackend.available
    )
    func basics(backend: TestBackend) async throws {
        try await Self.withQueues(backend) { queues in
            try await queues.createQueue(QueueDescription(name: "Orders"), now: Self.t0)
            let sequences = try await queues.send(
                [Self.text("one"), Self.text("two"), Self.text("three")],
                to: "orders",
                now: Self.t0
            )
            #expect(sequences == [1, 2, 3])
            let first = try #require(try await queues.peekLock("ORDERS", now: Self.t0))
            #expect(first.message.body == Data("one".utf8))
            #expect(first.deliveryCount == 1 && first.sequenceNumber == 1)
            #expect(first.lockedUntil == Self.t0 + 60_000)
            // The locked message is skipped by the next receiver.
            let second = try #require(try await queues.peekLock("orders", now: Self.t0))
            #expect(second.sequenceNumber == 2)
            try await queues.complete("orders", lockToken: try #require(first.lockToken), now: Self.t0)
            try await queues.abandon("orders", lockToken: try #require(second.lockToken), now: Self.t0)
            let again = try #require(try await queues.peekLock("orders", now: Self.t0))
            #expect(again.sequenceNumber == 2 && again.deliveryCount == 2)
            // Settling twice, or with a made-up token: the lock is lost (404).
            let lost = await #expect(throws: BusError.self) {
                try await queues.complete("orders", lockToken: try #require(first.lockToken), now: Self.t0)
            }
            #expect(lost?.httpStatus == 404)
            let taken = try #require(try await queues.receiveAndDelete("orders", now: Self.t0))
            #expect(taken.sequenceNumber == 3 && taken.lockToken == nil)
            #expect(try await queues.counts("orders", now: Self.t0) == MessageCounts(active: 1))
            let missing = await #expect(throws: BusError.self) {
                try await queues.send([Self.text("x")], to: "nowhere", now: Self.t0)
            }
            #expect(missing?.httpStatus == 410)
            let duplicate = await #expect(throws: BusError.self) {
                try await queues.createQueue(QueueDescription(name: "orders"), now: Self.t0)
            }
            #expect(duplicate?.httpStatus == 409)
        }
    }

    @Test("locks expire and can be renewed; the maximum delivery count dead-letters", arguments: TestBackend.available)
    func locksAndDeliveries(backend: TestBackend) async throws {
        try await Self.withQueues(backend) { queues in
            try await queues.createQueue(
                QueueDescription(name: "q", lockDurationSeconds: 10, maxDeliveryCount: 3),
                now: Self.t0
            )
            try await queues.send([Self.text("poison")], to: "q", now: Self.t0)
            let locked = try #require(try await queues.peekLock("q", now: Self.t0))
            let renewed = try await queues.renewLock(
                "q",
                lockToken: try #require(locked.lockToken),
                now: Self.t0 + 9_000
            )
            #expect(renewed == Self.t0 + 19_000)
            #expect(try await queues.peekLock("q", now: Self.t0 + 15_000) == nil)
            // The lock runs out: the next receiver gets it, as its second delivery.
            let second = try #require(try await queues.peekLock("q", now: Self.t0 + 20_000))
            #expect(second.deliveryCount == 2)
            let late = await #expect(throws: BusError.self) {
                try await queues.complete("q", lockToken: try #require(locked.lockToken), now: Self.t0 + 20_000)
            }
            #expect(late?.kind == .lockLost)
            let third = try #require(try await queues.peekLock("q", now: Self.t0 + 40_000))
            #expect(third.deliveryCount == 3)
            try await queues.abandon("q", lockToken: try #require(third.lockToken), now: Self.t0 + 40_000)
            #expect(try await queues.peekLock("q", now: Self.t0 + 40_000) == nil)
            #expect(try await queues.counts("q", now: Self.t0) == MessageCounts(deadLettered: 1))
            let dead = try #require(try await queues.peekLock("q/$DeadLetterQueue", now: Self.t0 + 41_000))
            #expect(dead.message.body == Data("poison".utf8))
            #expect(dead.deadLetterReason == "MaxDeliveryCountExceeded")
            try await queues.complete(
                "q/$deadletterqueue",
                lockToken: try #require(dead.lockToken),
                now: Self.t0 + 41_000
            )
            #expect(try await queues.counts("q", now: Self.t0) == MessageCounts())

            // Dead-lettering by the receiver keeps its reason and description.
            try await queues.send([Self.text("bad")], to: "q", now: Self.t0)
            let bad = try #require(try await queues.peekLock("q", now: Self.t0 + 50_000))
            try await queues.deadLetter(
                "q",
                lockToken: try #require(bad.lockToken),
                reason: "Invalid",
                description: "no customer",
                now: Self.t0 + 50_000
            )
            let inDLQ = try #require(try await queues.receiveAndDelete("q/$DeadLetterQueue", now: Self.t0 + 50_000))
            #expect(inDLQ.deadLetterReason == "Invalid" && inDLQ.deadLetterErrorDescription == "no customer")
        }
    }

    @Test(
        "time to live, expiry to the dead-letter queue, scheduled messages, duplicate detection",
        arguments: TestBackend.available
    )
    func timeAndDuplicates(backend: TestBackend) async throws {
        try await Self.withQueues(backend) { queues in
            try await queues.createQueue(
                QueueDescription(
                    name: "timed",
                    defaultMessageTimeToLiveSeconds: 30,
                    deadLetteringOnMessageExpiration: true,
                    duplicateDetectionWindowSeconds: 600
                ),
                now: Self.t0
            )
            var scheduled = Self.text("later")
            scheduled.scheduledEnqueueTime = Self.t0 + 5_000
            var short = Self.text("short")
            short.timeToLiveSeconds = 1
            var first = Self.text("first")
            first.messageId = "m-1"
            first.userProperties = ["Priority": "High"]
            var again = Self.text("again")
            again.messageId = "m-1"
            let sequences = try await queues.send([scheduled, short, first, again], to: "timed", now: Self.t0)
            #expect(sequences == [1, 2, 3, nil])
            // At t0 + 2 s: the short-lived one expired (to the DLQ); the scheduled one is not yet due.
            let now = Self.t0 + 2_000
            let next = try #require(try await queues.receiveAndDelete("timed", now: now))
            #expect(next.message.body == Data("first".utf8) && next.message.userProperties == ["Priority": "High"])
            #expect(next.message.messageId == "m-1")
            #expect(try await queues.receiveAndDelete("timed", now: now) == nil)
            let expired = try #require(try await queues.receiveAndDelete("timed/$DeadLetterQueue", now: now))
            #expect(expired.deadLetterReason == "TTLExpiredException")
            let due = try #require(try await queues.receiveAndDelete("timed", now: Self.t0 + 5_000))
            #expect(due.message.body == Data("later".utf8) && due.expiresAt == Self.t0 + 35_000)
            // The same MessageId after the window is a new message.
            #expect(try await queues.send([again], to: "timed", now: Self.t0 + 700_000) == [4])
        }
    }

    @Test("invalid queue settings are refused with the reason")
    func invalidQueues() {
        let cases: [(QueueDescription, String)] = [
            (QueueDescription(name: "bad name"), "not a valid queue name"),
            (QueueDescription(name: "$system"), "not a valid queue name"),
            (QueueDescription(name: "q", lockDurationSeconds: 0), "lock duration"),
            (QueueDescription(name: "q", maxDeliveryCount: 0), "maximum delivery count"),
            (QueueDescription(name: "q", defaultMessageTimeToLiveSeconds: -1), "time to live"),
        ]
        for (description, text) in cases {
            let error = #expect(throws: BusError.self) { try description.validate() }
            #expect(error?.message.contains(text) == true, "\(error?.message ?? "")")
        }
        #expect(QueueDescription(name: "q", maxDeliveryCount: 10_000).maxDeliveryCount == 10_000)
    }
}

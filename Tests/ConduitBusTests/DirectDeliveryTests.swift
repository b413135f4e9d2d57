import ConduitBus
import ConduitStore
import ConduitTestSupport
import Foundation
import Synchronization
import Testing

/// Direct delivery: a send hands its new message to a receiver waiting on the queue, locked for it in the send's
/// own transaction.
@Suite("bus direct delivery")
struct DirectDeliveryTests {
    final class Handed: Sendable {
        let messages = Mutex<[ReceivedMessage?]>([])
        func record(_ message: ReceivedMessage?) { messages.withLock { $0.append(message) } }
        var all: [ReceivedMessage?] { messages.withLock { $0 } }
    }

    @Test(
        "a waiting receiver is handed the next message locked; the rest stay; sessions, scheduled messages and waiters that left get nothing",
        arguments: TestBackend.available
    )
    func handOff(backend: TestBackend) async throws {
        try await QueueStoreTests.withQueues(backend) { queues in
            let t0 = QueueStoreTests.t0
            try await queues.createQueue(QueueDescription(name: "orders", lockDurationSeconds: 30), now: t0)
            let first = Handed()
            let second = Handed()
            queues.waiters.register(queue: "orders") { first.record($0) }
            queues.waiters.register(queue: "orders") { second.record($0) }
            let sequences = try await queues.send(
                [QueueStoreTests.text("a"), QueueStoreTests.text("b"), QueueStoreTests.text("c")],
                to: "orders",
                now: t0
            )
            // One message each, in the order they waited; the third waits in the queue.
            let a = try #require(first.all.first ?? nil)
            let b = try #require(second.all.first ?? nil)
            #expect(first.all.count == 1 && second.all.count == 1)
            #expect(a.sequenceNumber == sequences[0] && b.sequenceNumber == sequences[1])
            #expect(a.message.body == Data("a".utf8) && a.deliveryCount == 1)
            #expect(a.lockToken != nil && a.lockedUntil == t0 + 30_000)
            // Locked in the store: the next look finds only the third, and the handed lock completes.
            let next = try await queues.peekLock("orders", now: t0 + 1)
            #expect(next?.sequenceNumber == sequences[2])
            try await queues.complete("orders", lockToken: try #require(a.lockToken), now: t0 + 2)
            try await queues.abandon("orders", lockToken: try #require(b.lockToken), now: t0 + 2)
            let again = try await queues.peekLock("orders", now: t0 + 3)
            #expect(again?.sequenceNumber == sequences[1] && again?.deliveryCount == 2, "abandoned: counted once")

            // A waiter that left is not handed anything; a scheduled message is not handed before its time.
            let gone = Handed()
            let id = queues.waiters.register(queue: "orders") { gone.record($0) }
            #expect(queues.waiters.unregister(id, queue: "orders"))
            var later = QueueStoreTests.text("later")
            later.scheduledEnqueueTime = t0 + 60_000
            let waiting = Handed()
            queues.waiters.register(queue: "orders") { waiting.record($0) }
            _ = try await queues.send([later], to: "orders", now: t0 + 4)
            #expect(gone.all.isEmpty && waiting.all.isEmpty)
            _ = try await queues.send([QueueStoreTests.text("now")], to: "orders", now: t0 + 5)
            #expect(waiting.all.count == 1 && gone.all.isEmpty)

            // A queue that requires sessions is received per session, never handed over.
            var sessions = QueueDescription(name: "by-session")
            sessions.requiresSession = true
            try await queues.createQueue(sessions, now: t0)
            let sessionWaiter = Handed()
            queues.waiters.register(queue: "by-session") { sessionWaiter.record($0) }
            var inSession = QueueStoreTests.text("s")
            inSession.sessionId = "s1"
            _ = try await queues.send([inSession], to: "by-session", now: t0 + 6)
            #expect(sessionWaiter.all.isEmpty)
        }
    }
}

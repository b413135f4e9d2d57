import ConduitBus
import ConduitStore
import ConduitTestSupport
import Foundation
import Testing

/// Deferral, release, peek, scheduled-message cancelling and sessions, on both backends.
@Suite("bus queues: deferral and sessions")
struct QueueSessionTests {
    static let t0: Int64 = 1_800_000_000_000

    static func message(_ text: String, session: String? = nil) -> BusMessage {
        BusMessage(body: Data(text.utf8), sessionId: session)
    }

    @Test(
        "a deferred message leaves the line and comes back only by its sequence number",
        arguments: TestBackend.available
    )
    func deferral(backend: TestBackend) async throws {
        try await QueueStoreTests.withQueues(backend) { queues in
            try await queues.createQueue(QueueDescription(name: "d"), now: Self.t0)
            try await queues.send([Self.message("a"), Self.message("b")], to: "d", now: Self.t0)
            let first = try #require(try await queues.peekLock("d", now: Self.t0))
            try await queues.deferMessage("d", lockToken: try #require(first.lockToken), now: Self.t0)
            let next = try #require(try await queues.peekLock("d", now: Self.t0))
            #expect(next.sequenceNumber == 2)
            #expect(try await queues.peekLock("d", now: Self.t0) == nil)
            // Peek shows both, the first as deferred.
            let peeked = try await queues.peek("d", from: 0, count: 10)
            #expect(peeked.map(\.sequenceNumber) == [1, 2] && peeked.map(\.isDeferred) == [true, false])
            let deferred = try await queues.receiveDeferred("d", sequences: [1, 2, 99], peekLock: true, now: Self.t0)
            #expect(deferred.map(\.sequenceNumber) == [1])
            #expect(deferred.first?.deliveryCount == 2 && deferred.first?.lockToken != nil)
            try await queues.complete("d", lockToken: try #require(deferred.first?.lockToken), now: Self.t0)
            #expect(try await queues.receiveDeferred("d", sequences: [1], peekLock: true, now: Self.t0).isEmpty)
        }
    }

    @Test(
        "a released message does not count as a delivery; a cancelled scheduled message is gone",
        arguments: TestBackend.available
    )
    func releaseAndCancel(backend: TestBackend) async throws {
        try await QueueStoreTests.withQueues(backend) { queues in
            try await queues.createQueue(QueueDescription(name: "r"), now: Self.t0)
            try await queues.send([Self.message("a")], to: "r", now: Self.t0)
            let first = try #require(try await queues.peekLock("r", now: Self.t0))
            try await queues.release("r", lockToken: try #require(first.lockToken), now: Self.t0)
            let again = try #require(try await queues.peekLock("r", now: Self.t0))
            #expect(again.deliveryCount == 1)
            var later = Self.message("later")
            later.scheduledEnqueueTime = Self.t0 + 60_000
            let sequences = try await queues.send([later, later], to: "r", now: Self.t0)
            let cancelled = try await queues.cancelScheduled(
                "r",
                sequences: [try #require(sequences[0] ?? nil), again.sequenceNumber],
                now: Self.t0
            )
            #expect(cancelled == 1)
            #expect(try await queues.counts("r", now: Self.t0) == MessageCounts(active: 1, scheduled: 1))
        }
    }

    @Test(
        "sessions: one receiver per session, the next free session with a message, renewal, state, expiry",
        arguments: TestBackend.available
    )
    func sessions(backend: TestBackend) async throws {
        try await QueueStoreTests.withQueues(backend) { queues in
            var description = QueueDescription(name: "s", lockDurationSeconds: 30)
            description.requiresSession = true
            try await queues.createQueue(description, now: Self.t0)
            let refused = await #expect(throws: BusError.self) {
                try await queues.send([Self.message("no session")], to: "s", now: Self.t0)
            }
            #expect(refused?.httpStatus == 400)
            try await queues.send(
                [Self.message("b1", session: "b"), Self.message("a1", session: "a"), Self.message("b2", session: "b")],
                to: "s",
                now: Self.t0
            )
            // The next available session is the one with the oldest message.
            let b = try #require(try await queues.acceptSession("s", sessionId: nil, now: Self.t0))
            #expect(b.sessionId == "b" && b.lockedUntil == Self.t0 + 30_000)
            let taken = await #expect(throws: BusError.self) {
                try await queues.acceptSession("s", sessionId: "b", now: Self.t0)
            }
            #expect(taken?.kind == .sessionLocked)
            let a = try #require(try await queues.acceptSession("s", sessionId: nil, now: Self.t0))
            #expect(a.sessionId == "a")
            #expect(try await queues.acceptSession("s", sessionId: nil, now: Self.t0) == nil)
            // Each receiver sees its session's messages, in order.
            let bodies = [
                try await queues.receiveAndDelete("s", now: Self.t0, session: "b"),
                try await queues.receiveAndDelete("s", now: Self.t0, session: "b"),
                try await queues.receiveAndDelete("s", now: Self.t0, session: "b"),
            ].map { $0.map { String(decoding: $0.message.body, as: UTF8.self) } }
            #expect(bodies == ["b1", "b2", nil])
            // Renewal, state, release.
            #expect(try await queues.renewSessionLock("s", sessionId: "b", now: Self.t0 + 10_000) == Self.t0 + 40_000)
            try await queues.setSessionState("s", sessionId: "b", state: Data("step 2".utf8), now: Self.t0)
            #expect(try await queues.sessionState("s", sessionId: "b") == Data("step 2".utf8))
            try await queues.setSessionState("s", sessionId: "b", state: nil, now: Self.t0)
            #expect(try await queues.sessionState("s", sessionId: "b") == nil)
            try await queues.releaseSession("s", lock: b)
            #expect(try await queues.acceptSession("s", sessionId: "b", now: Self.t0)?.sessionId == "b")
            // A lock that ran out is free for another receiver, and cannot be renewed.
            let later = Self.t0 + 31_000
            #expect(try await queues.acceptSession("s", sessionId: "a", now: later)?.sessionId == "a")
            let lost = await #expect(throws: BusError.self) {
                try await queues.renewSessionLock("s", sessionId: "b", now: later + 60_000)
            }
            #expect(lost?.kind == .sessionLocked)
        }
    }
}

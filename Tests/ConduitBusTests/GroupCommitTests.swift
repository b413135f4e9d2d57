import ConduitBus
import ConduitStore
import ConduitTestSupport
import Foundation
import Testing

/// Group commit: concurrent sends and settlements share transactions, written by their callers in turn; each
/// still succeeds or fails on its own. A receiver's pre-settled completion goes with the next round.
@Suite("bus group commit")
struct GroupCommitTests {
    @Test(
        "60 concurrent sends across rounds all commit, once each; a send to a missing queue fails alone",
        arguments: TestBackend.available
    )
    func concurrentSends(backend: TestBackend) async throws {
        try await QueueStoreTests.withQueues(backend) { queues in
            let t0 = QueueStoreTests.t0
            try await queues.createQueue(QueueDescription(name: "orders"), now: t0)
            let results = await withTaskGroup(of: (Int, Result<[Int64?], any Error>).self) { group in
                for n in 0..<61 {
                    group.addTask {
                        let target = n == 30 ? "missing" : "orders"
                        do {
                            let sent = try await queues.send([QueueStoreTests.text("\(n)")], to: target, now: t0)
                            return (n, .success(sent))
                        } catch {
                            return (n, .failure(error))
                        }
                    }
                }
                var all: [Int: Result<[Int64?], any Error>] = [:]
                for await (n, result) in group { all[n] = result }
                return all
            }
            var sequences: [Int64] = []
            for (n, result) in results {
                switch result {
                case .success(let sent):
                    #expect(n != 30, "the send to a missing queue must fail")
                    sequences += sent.compactMap { $0 }
                case .failure(let error):
                    #expect(n == 30, "send \(n) failed: \(error)")
                }
            }
            #expect(sequences.count == 60 && Set(sequences).count == 60)
            let counts = try await queues.counts("orders", now: t0)
            #expect(counts.active == 60)
        }
    }

    @Test(
        "a pre-settled completion is written with the next round, or alone after a short wait; a lost lock leaves the message",
        arguments: TestBackend.available
    )
    func settledCompletion(backend: TestBackend) async throws {
        try await QueueStoreTests.withQueues(backend) { queues in
            let t0 = QueueStoreTests.t0
            try await queues.createQueue(QueueDescription(name: "orders", lockDurationSeconds: 30), now: t0)
            _ = try await queues.send([QueueStoreTests.text("a"), QueueStoreTests.text("b")], to: "orders", now: t0)
            let a = try #require(try await queues.peekLock("orders", now: t0))
            let b = try #require(try await queues.peekLock("orders", now: t0))

            // With the next round: once the send that follows returned, the completion is written.
            queues.completeSettled("orders", lockToken: try #require(a.lockToken), now: t0 + 1)
            _ = try await queues.send([QueueStoreTests.text("c")], to: "orders", now: t0 + 1)
            #expect(try await queues.counts("orders", now: t0 + 1).active == 2)

            // Alone, when no round comes.
            queues.completeSettled("orders", lockToken: try #require(b.lockToken), now: t0 + 2)
            var active = 2
            for _ in 0..<100 where active != 1 {
                try await Task.sleep(for: .milliseconds(10))
                active = try await queues.counts("orders", now: t0 + 2).active
            }
            #expect(active == 1)

            // A lock that ran out: the message stays, to be delivered again; nothing fails.
            let c = try #require(try await queues.peekLock("orders", now: t0 + 3))
            queues.completeSettled("orders", lockToken: try #require(c.lockToken), now: t0 + 3 + 31_000)
            _ = try await queues.send([QueueStoreTests.text("d")], to: "orders", now: t0 + 3 + 31_000)
            #expect(try await queues.counts("orders", now: t0 + 3 + 31_000).active == 2)
            let again = try await queues.peekLock("orders", now: t0 + 3 + 31_000)
            #expect(again?.sequenceNumber == c.sequenceNumber && again?.deliveryCount == 2)
        }
    }
}

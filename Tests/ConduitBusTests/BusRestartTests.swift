import ConduitBus
import ConduitStore
import ConduitTestSupport
import Foundation
import Testing

/// What a sender was told is stored survives the store being closed and opened again (a restart).
@Suite("bus restart")
struct BusRestartTests {
    static let t0: Int64 = 1_800_000_000_000

    @Test(
        "Queue and subscription messages, locks, dead letters and rules are all there after a restart",
        arguments: [TestBackend.sqliteFile] + (TestBackend.runsPostgres ? [.postgres] : [])
    )
    func restart(backend: TestBackend) async throws {
        try await backend.withFreshDatabase { configuration in
            let token = try await ConduitStore.withStore(configuration, logger: testLogger) { store in
                try await store.migrate(BusNamespace.migrations)
                let bus = BusNamespace(store: store)
                try await bus.queues.createQueue(
                    QueueDescription(name: "q", duplicateDetectionWindowSeconds: 60),
                    now: Self.t0
                )
                try await bus.topics.createTopic(TopicDescription(name: "t"), now: Self.t0)
                try await bus.topics.createSubscription(
                    SubscriptionDescription(topic: "t", name: "s"),
                    rule: SubscriptionRule(name: "odd", filter: .sql(try SQLFilter("n % 2 = 1"))),
                    now: Self.t0
                )
                for n in 1...4 {
                    try await bus.send(
                        [
                            BusMessage(
                                body: Data("m\(n)".utf8),
                                messageId: "id-\(n)",
                                userProperties: ["n": .int64(Int64(n))]
                            )
                        ],
                        to: n <= 2 ? "q" : "t",
                        now: Self.t0
                    )
                }
                let locked = try #require(try await bus.queues.peekLock("q", now: Self.t0))
                return try #require(locked.lockToken)
            }
            try await ConduitStore.withStore(configuration, logger: testLogger) { store in
                try await store.migrate(BusNamespace.migrations)
                let bus = BusNamespace(store: store)
                // The lock is still held, and completes; the other message is next; the duplicate window remembers.
                try await bus.queues.complete("q", lockToken: token, now: Self.t0 + 1000)
                #expect(
                    try await bus.queues.receiveAndDelete("q", now: Self.t0 + 1000)?.message.body == Data("m2".utf8)
                )
                try await bus.send(
                    [BusMessage(body: Data("again".utf8), messageId: "id-1")],
                    to: "q",
                    now: Self.t0 + 2000
                )
                #expect(try await bus.queues.receiveAndDelete("q", now: Self.t0 + 2000) == nil)
                // The subscription kept its rule and its message (n = 3 only).
                #expect(try await bus.topics.rules(topic: "t", subscription: "s").map(\.name) == ["odd"])
                #expect(
                    try await bus.queues.receiveAndDelete("t/subscriptions/s", now: Self.t0)?.message.body
                        == Data("m3".utf8)
                )
                #expect(try await bus.queues.receiveAndDelete("t/subscriptions/s", now: Self.t0) == nil)
            }
        }
    }
}

import ConduitBus
import ConduitStore
import ConduitTestSupport
import Foundation
import Testing

/// Topics, subscriptions and rules on both backends.
@Suite("bus topics")
struct TopicStoreTests {
    static let t0: Int64 = 1_800_000_000_000
    static let entityName = "http://schemas.microsoft.com/xrm/2011/Claims/EntityLogicalName"

    static func withBus(_ backend: TestBackend, _ body: @Sendable (BusNamespace) async throws -> Void) async throws {
        try await backend.withStore { store in
            try await store.migrate(BusNamespace.migrations)
            try await body(BusNamespace(store: store))
        }
    }

    static func message(_ body: String, table: String, id: String? = nil) -> BusMessage {
        BusMessage(body: Data(body.utf8), messageId: id, userProperties: [entityName: .string(table)])
    }

    @Test(
        "Each subscription gets what its rules select; a SQL filter on the Claims key routes by table",
        arguments: TestBackend.available
    )
    func routing(backend: TestBackend) async throws {
        try await Self.withBus(backend) { bus in
            try await bus.topics.createTopic(TopicDescription(name: "changes"), now: Self.t0)
            try await bus.topics.createSubscription(
                SubscriptionDescription(topic: "changes", name: "all"),
                now: Self.t0
            )
            try await bus.topics.createSubscription(
                SubscriptionDescription(topic: "changes", name: "contacts"),
                rule: SubscriptionRule(
                    name: "contacts",
                    filter: .sql(try SQLFilter("\"\(Self.entityName)\" = 'contact'"))
                ),
                now: Self.t0
            )
            try await bus.topics.createSubscription(
                SubscriptionDescription(topic: "changes", name: "accounts"),
                rule: SubscriptionRule(
                    name: "accounts",
                    filter: .correlation(CorrelationFilter(properties: [Self.entityName: .string("account")]))
                ),
                now: Self.t0
            )
            try await bus.send(
                [Self.message("c1", table: "contact"), Self.message("a1", table: "account")],
                to: "changes",
                now: Self.t0
            )
            func drain(_ path: String) async throws -> [String] {
                var bodies: [String] = []
                while let received = try await bus.queues.receiveAndDelete(path, now: Self.t0) {
                    bodies.append(String(decoding: received.message.body, as: UTF8.self))
                }
                return bodies
            }
            #expect(try await drain("changes/subscriptions/all") == ["c1", "a1"])
            #expect(try await drain("changes/subscriptions/contacts") == ["c1"])
            #expect(try await drain("changes/subscriptions/accounts") == ["a1"])
            #expect(try await bus.topics.rules(topic: "changes", subscription: "all").map(\.name) == ["$Default"])
        }
    }

    @Test("Rules without actions give one copy; each matching rule with an action gives its own, with RuleName")
    func actionsMakeCopies() async throws {
        try await Self.withBus(.sqliteMemory) { bus in
            try await bus.topics.createTopic(TopicDescription(name: "t"), now: Self.t0)
            try await bus.topics.createSubscription(SubscriptionDescription(topic: "t", name: "s"), now: Self.t0)
            try await bus.topics.addRule(
                SubscriptionRule(name: "also-true", filter: .sql(try SQLFilter("1=1"))),
                topic: "t",
                subscription: "s",
                now: Self.t0
            )
            try await bus.topics.addRule(
                SubscriptionRule(
                    name: "tag",
                    filter: .sql(try SQLFilter("EXISTS(\"\(Self.entityName)\")")),
                    action: try SQLRuleAction("SET tagged = 'yes'; SET sys.Label = 'tagged'")
                ),
                topic: "t",
                subscription: "s",
                now: Self.t0
            )
            await #expect(throws: BusError.self) {
                try await bus.topics.addRule(SubscriptionRule(name: "TAG"), topic: "t", subscription: "s", now: Self.t0)
            }
            try await bus.send([Self.message("m", table: "contact")], to: "t", now: Self.t0)
            let first = try #require(try await bus.queues.receiveAndDelete("t/subscriptions/s", now: Self.t0))
            let second = try #require(try await bus.queues.receiveAndDelete("t/subscriptions/s", now: Self.t0))
            #expect(try await bus.queues.receiveAndDelete("t/subscriptions/s", now: Self.t0) == nil)
            #expect(first.message.userProperties["tagged"] == nil && first.message.label == nil)
            #expect(second.message.userProperties["tagged"] == .string("yes"))
            #expect(second.message.userProperties["RuleName"] == .string("tag"))
            #expect(second.message.label == "tagged")
            try await bus.topics.removeRule("$Default", topic: "t", subscription: "s")
            try await bus.topics.removeRule("also-true", topic: "t", subscription: "s")
            try await bus.topics.removeRule("tag", topic: "t", subscription: "s")
            try await bus.send([Self.message("n", table: "contact")], to: "t", now: Self.t0)
            #expect(
                try await bus.queues.receiveAndDelete("t/subscriptions/s", now: Self.t0) == nil,
                "no rule, no message"
            )
        }
    }

    @Test("Duplicate detection on the topic; names are shared with queues; deleting a topic deletes its subscriptions")
    func lifecycle() async throws {
        try await Self.withBus(.sqliteMemory) { bus in
            try await bus.topics.createTopic(
                TopicDescription(name: "t", duplicateDetectionWindowSeconds: 60),
                now: Self.t0
            )
            try await bus.topics.createSubscription(SubscriptionDescription(topic: "t", name: "s"), now: Self.t0)
            let counts = try await bus.topics.send(
                [Self.message("a", table: "x", id: "1"), Self.message("b", table: "x", id: "1")],
                to: "t",
                now: Self.t0
            )
            #expect(counts == [1, nil])
            await #expect(throws: BusError.self) {
                try await bus.queues.createQueue(QueueDescription(name: "t"), now: Self.t0)
            }
            await #expect(throws: BusError.self) {
                try await bus.topics.createSubscription(SubscriptionDescription(topic: "nope", name: "s"), now: Self.t0)
            }
            await #expect(throws: BusError.self) {
                try await bus.send([Self.message("x", table: "x")], to: "t/subscriptions/s", now: Self.t0)
            }
            // The subscription's dead-letter sub-queue works like a queue's.
            let locked = try #require(try await bus.queues.peekLock("t/subscriptions/s", now: Self.t0))
            try await bus.queues.deadLetter(
                "t/subscriptions/s",
                lockToken: try #require(locked.lockToken),
                reason: "test",
                description: nil,
                now: Self.t0
            )
            #expect(try await bus.queues.receiveAndDelete("t/subscriptions/s/$DeadLetterQueue", now: Self.t0) != nil)
            try await bus.topics.deleteTopic("t")
            #expect(try await bus.topics.topic("t") == nil)
            await #expect(throws: BusError.self) {
                _ = try await bus.queues.peekLock("t/subscriptions/s", now: Self.t0)
            }
        }
    }
}

/// Auto-forwarding from queues and subscriptions.
@Suite("bus auto-forwarding")
struct ForwardingTests {
    static let t0: Int64 = 1_800_000_000_000

    @Test("A queue forwards to a topic whose subscription forwards to a queue; targets must exist; chains are capped")
    func forwarding() async throws {
        try await TopicStoreTests.withBus(.sqliteMemory) { bus in
            try await bus.queues.createQueue(QueueDescription(name: "final"), now: Self.t0)
            try await bus.topics.createTopic(TopicDescription(name: "middle"), now: Self.t0)
            try await bus.topics.createSubscription(
                SubscriptionDescription(topic: "middle", name: "on", forwardTo: "final"),
                now: Self.t0
            )
            try await bus.queues.createQueue(QueueDescription(name: "entry", forwardTo: "middle"), now: Self.t0)
            try await bus.send([BusMessage(body: Data("hop".utf8))], to: "entry", now: Self.t0)
            #expect(try await bus.queues.receiveAndDelete("entry", now: Self.t0) == nil)
            #expect(try await bus.queues.receiveAndDelete("middle/subscriptions/on", now: Self.t0) == nil)
            #expect(try await bus.queues.receiveAndDelete("final", now: Self.t0)?.message.body == Data("hop".utf8))

            let missing = await #expect(throws: BusError.self) {
                try await bus.queues.createQueue(QueueDescription(name: "x", forwardTo: "nowhere"), now: Self.t0)
            }
            #expect(missing?.message.contains("no queue, topic or event hub") == true)
            await #expect(throws: BusError.self) {
                try await bus.queues.createQueue(QueueDescription(name: "self", forwardTo: "self"), now: Self.t0)
            }
            // A loop made by updates is stopped at the hop limit, and the send fails whole.
            try await bus.queues.createQueue(QueueDescription(name: "a"), now: Self.t0)
            try await bus.queues.createQueue(QueueDescription(name: "b", forwardTo: "a"), now: Self.t0)
            try await bus.queues.updateQueue(QueueDescription(name: "a", forwardTo: "b"))
            let loop = await #expect(throws: BusError.self) {
                try await bus.send([BusMessage(body: Data("loop".utf8))], to: "a", now: Self.t0)
            }
            #expect(loop?.message.contains("forwarded at most 4 times") == true)
        }
    }
}

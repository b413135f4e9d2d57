import ConduitBus
import ConduitStore
import ConduitTestSupport
import Foundation
import Testing

/// Event hubs on both backends.
@Suite("bus event hubs")
struct EventHubStoreTests {
    static let t0: Int64 = 1_800_000_000_000

    static func withBus(_ backend: TestBackend, _ body: @Sendable (BusNamespace) async throws -> Void) async throws {
        try await backend.withStore { store in
            try await store.migrate(BusNamespace.migrations)
            try await body(BusNamespace(store: store))
        }
    }

    static func event(_ text: String, key: String? = nil) -> BusMessage {
        var message = BusMessage(body: Data(text.utf8))
        message.partitionKey = key
        return message
    }

    @Test(
        "Partition keys pick one partition; sequence numbers and offsets per partition; round-robin without a key",
        arguments: TestBackend.available
    )
    func partitions(backend: TestBackend) async throws {
        try await Self.withBus(backend) { bus in
            try await bus.eventHubs.createHub(EventHubDescription(name: "Changes", partitionCount: 4), now: Self.t0)
            let placed = try await bus.eventHubs.send(
                [Self.event("a", key: "row-1"), Self.event("bb", key: "row-1"), Self.event("ccc", key: "row-1")],
                to: "changes",
                now: Self.t0
            )
            let partition = EventHubStore.partition(forKey: "row-1", count: 4)
            #expect(placed.map(\.partition) == [partition, partition, partition])
            #expect(placed.map(\.sequence) == [0, 1, 2])
            let events = try await bus.eventHubs.read(hub: "changes", partition: partition, from: 1, limit: 10)
            #expect(events.map { String(decoding: $0.message.body, as: UTF8.self) } == ["bb", "ccc"])
            #expect(events.map(\.offset) == [1, 3])
            let spread = try await bus.eventHubs.send((0..<8).map { Self.event("x\($0)") }, to: "changes", now: Self.t0)
            #expect(Set(spread.map(\.partition)) == [0, 1, 2, 3])
            let fixed = try await bus.eventHubs.send([Self.event("p2")], to: "changes", partition: 2, now: Self.t0)
            #expect(fixed.first?.partition == 2)
            let info = try await bus.eventHubs.partitionInfo(hub: "changes", partition: partition)
            #expect(info.beginningSequenceNumber == 0 && info.lastSequenceNumber >= 2 && !info.isEmpty)
            await #expect(throws: BusError.self) {
                try await bus.eventHubs.send([Self.event("no")], to: "changes", partition: 4, now: Self.t0)
            }
        }
    }

    @Test("Consumer groups, retention, shared names, and sends through the namespace")
    func lifecycle() async throws {
        try await Self.withBus(.sqliteMemory) { bus in
            try await bus.eventHubs.createHub(
                EventHubDescription(name: "h", partitionCount: 1, retentionSeconds: 60),
                now: Self.t0
            )
            await #expect(throws: BusError.self) {
                _ = try await bus.eventHubs.read(hub: "h", consumerGroup: "missing", partition: 0, from: 0, limit: 1)
            }
            try await bus.eventHubs.createConsumerGroup("analytics", hub: "h", now: Self.t0)
            #expect(try await bus.eventHubs.consumerGroups(of: "h") == ["$Default", "analytics"])
            try await bus.send([Self.event("old")], to: "h", now: Self.t0)
            // Sent after the first one is past its retention: the old one is gone.
            try await bus.send([Self.event("new")], to: "h", now: Self.t0 + 61_000)
            let events = try await bus.eventHubs.read(
                hub: "h",
                consumerGroup: "analytics",
                partition: 0,
                from: 0,
                limit: 10
            )
            #expect(events.map { String(decoding: $0.message.body, as: UTF8.self) } == ["new"])
            #expect(events.first?.sequenceNumber == 1)
            await #expect(throws: BusError.self) {
                try await bus.queues.createQueue(QueueDescription(name: "h"), now: Self.t0)
            }
            await #expect(throws: BusError.self) {
                try await bus.eventHubs.createHub(EventHubDescription(name: "bad", partitionCount: 0), now: Self.t0)
            }
            try await bus.eventHubs.deleteHub("h")
            #expect(try await bus.eventHubs.hub("h") == nil)
        }
    }
}

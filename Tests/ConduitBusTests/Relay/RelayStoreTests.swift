import ConduitBus
import ConduitStore
import ConduitTestSupport
import Testing

/// Hybrid connections as entities: names shared with queues, topics and event hubs, validation, deletion.
@Suite("relay store")
struct RelayStoreTests {
    @Test("Hybrid connections share names with the other entities, both ways; bad names and deletes say why")
    func names() async throws {
        try await TestBackend.sqliteMemory.withFreshStore { store in
            try await store.migrate(BusNamespace.migrations)
            let bus = BusNamespace(store: store)
            try await bus.relays.createRelay(HybridConnection(name: "Orders"), now: 1)
            #expect(try await bus.relays.relay("orders")?.requiresClientAuthorization == true)
            #expect(try await bus.relays.isRelay("ORDERS"))
            await #expect(throws: BusError.self) {
                try await bus.queues.createQueue(QueueDescription(name: "orders"), now: 2)
            }
            await #expect(throws: BusError.self) {
                try await bus.topics.createTopic(TopicDescription(name: "orders"), now: 2)
            }
            await #expect(throws: BusError.self) {
                try await bus.eventHubs.createHub(EventHubDescription(name: "orders"), now: 2)
            }
            try await bus.queues.createQueue(QueueDescription(name: "billing"), now: 2)
            let taken = await #expect(throws: BusError.self) {
                try await bus.relays.createRelay(HybridConnection(name: "billing"), now: 3)
            }
            #expect(taken?.kind == .conflict)
            let invalid = await #expect(throws: BusError.self) {
                try await bus.relays.createRelay(HybridConnection(name: "bad name"), now: 3)
            }
            #expect(invalid?.message.contains("is not a valid hybrid connection name") == true)
            try await bus.relays.deleteRelay("orders")
            #expect(try await bus.relays.relay("orders") == nil)
            #expect(!(try await bus.relays.isRelay("orders")))
            let missing = await #expect(throws: BusError.self) { try await bus.relays.deleteRelay("orders") }
            #expect(missing?.kind == .entityNotFound)
        }
    }
}

import ConduitStore
import Foundation
import SQLKit
import Synchronization

/// The hybrid connections of the embedded relay (their settings in the Conduit database) and, through ``hub``, the
/// listeners connected to them on this node.
public struct RelayStore: Sendable {
    let store: Store
    /// The listeners and the requests forwarded to them on this node.
    public let hub: RelayHub
    private let names: NameCache

    init(store: Store) {
        self.store = store
        self.hub = RelayHub()
        self.names = NameCache()
    }

    static let migrations: [Migration] = [
        Migration(version: 208, name: "bus relay hybrid connections") { db, _ in
            try await db.raw(
                """
                CREATE TABLE IF NOT EXISTS conduit_bus_relay (name TEXT PRIMARY KEY NOT NULL, \
                description TEXT NOT NULL, createdon BIGINT NOT NULL)
                """
            ).run()
        }
    ]

    /// Creates a hybrid connection; no queue, topic, event hub or hybrid connection of that name may exist.
    public func createRelay(_ relay: HybridConnection, now: Int64) async throws {
        try relay.validate()
        let json = String(decoding: try JSONEncoder().encode(relay), as: UTF8.self)
        try await store.transaction { db in
            let relayExists = try await Self.description(relay.name, db: db) != nil
            let queueExists = try await QueueStore.description(relay.name, db: db) != nil
            let topicExists = try await TopicStore.description(relay.name, db: db) != nil
            let hubExists = try await EventHubStore.description(relay.name, db: db) != nil
            if relayExists || queueExists || topicExists || hubExists {
                throw BusError(.conflict, "An entity named '\(relay.name)' already exists.")
            }
            try await db.raw(
                """
                INSERT INTO conduit_bus_relay (name, description, createdon) \
                VALUES (\(bind: relay.name), \(bind: json), \(bind: now))
                """
            ).run()
        }
        names.forget()
    }

    /// Changes a hybrid connection's settings.
    public func updateRelay(_ relay: HybridConnection) async throws {
        try relay.validate()
        let json = String(decoding: try JSONEncoder().encode(relay), as: UTF8.self)
        try await store.transaction { db in
            guard try await Self.description(relay.name, db: db) != nil else { throw Self.missing(relay.name) }
            try await db.raw(
                "UPDATE conduit_bus_relay SET description = \(bind: json) WHERE name = \(bind: relay.name)"
            )
            .run()
        }
    }

    /// The hybrid connection named `name`, or `nil`.
    public func relay(_ name: String) async throws -> HybridConnection? {
        try await store.withDatabase { db in try await Self.description(name.lowercased(), db: db) }
    }

    /// The hybrid connections with their creation times (Unix ms); `named`: only that one.
    public func relays(named name: String? = nil) async throws -> [(description: HybridConnection, createdOn: Int64)] {
        try await EntityRows.read(HybridConnection.self, from: "conduit_bus_relay", named: name, store: store)
    }

    /// Deletes a hybrid connection; its listeners on this node are disconnected (close code 1001).
    public func deleteRelay(_ name: String) async throws {
        let name = name.lowercased()
        try await store.transaction { db in
            guard try await Self.description(name, db: db) != nil else { throw Self.missing(name) }
            try await db.raw("DELETE FROM conduit_bus_relay WHERE name = \(bind: name)").run()
        }
        names.forget()
        hub.disconnectAll(relay: name, reason: "The hybrid connection was deleted.")
    }

    /// Whether `name` is a hybrid connection, from a set of names read again every few seconds (and after a change
    /// on this node): the HTTP front door asks it for every request.
    public func isRelay(_ name: String) async throws -> Bool {
        if let known = names.current() { return known.contains(name.lowercased()) }
        let all = try await store.withDatabase { db in
            try await db.raw("SELECT name FROM conduit_bus_relay").all().map {
                try $0.decode(column: "name", as: String.self)
            }
        }
        let set = Set(all)
        names.remember(set)
        return set.contains(name.lowercased())
    }

    static func description(_ name: String, db: any SQLDatabase) async throws -> HybridConnection? {
        guard
            let row = try await db.raw("SELECT description FROM conduit_bus_relay WHERE name = \(bind: name)").first()
        else { return nil }
        return try JSONDecoder().decode(
            HybridConnection.self,
            from: Data(try row.decode(column: "description", as: String.self).utf8)
        )
    }

    static func missing(_ name: String) -> BusError {
        BusError(.entityNotFound, "The hybrid connection '\(name)' does not exist.")
    }

    /// The relay names, kept for a few seconds.
    private final class NameCache: Sendable {
        private let entry = Mutex<(names: Set<String>, at: ContinuousClock.Instant)?>(nil)
        static let lifetime: Duration = .seconds(2)

        func current() -> Set<String>? {
            entry.withLock { entry in
                guard let entry, ContinuousClock.now - entry.at < Self.lifetime else { return nil }
                return entry.names
            }
        }

        func remember(_ names: Set<String>) { entry.withLock { $0 = (names, .now) } }

        func forget() { entry.withLock { $0 = nil } }
    }
}

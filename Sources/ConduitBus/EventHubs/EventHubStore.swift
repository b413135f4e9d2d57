import ConduitStore
import Foundation
import SQLKit
import Synchronization

/// An event hub's settings.
public struct EventHubDescription: Sendable, Hashable, Codable {
    /// The hub's name (lower case; shares the namespace with queues and topics).
    public var name: String
    /// Partitions `0 ..< partitionCount`.
    public var partitionCount: Int
    /// How long events are kept, in seconds (Azure's default: 1 day).
    public var retentionSeconds: Double
    /// The hub's own SAS rules, valid for it beside the namespace's.
    public var authorizationRules: [AuthorizationRule]?

    public init(name: String, partitionCount: Int = 4, retentionSeconds: Double = 86_400) {
        self.name = name.lowercased()
        self.partitionCount = partitionCount
        self.retentionSeconds = retentionSeconds
    }

    /// Checks the name and the values; the error says which is wrong.
    public func validate() throws(BusError) {
        try QueueDescription(name: name).validate(kind: "event hub")
        guard partitionCount >= 1, partitionCount <= 1024 else {
            throw BusError(.badRequest, "An event hub has 1 to 1024 partitions, not \(partitionCount).")
        }
        guard retentionSeconds > 0, retentionSeconds.isFinite else {
            throw BusError(.badRequest, "The retention must be a positive number of seconds.")
        }
    }
}

/// An event as a reader gets it from a partition.
public struct StoredEvent: Sendable, Hashable {
    public var message: BusMessage
    public var partition: Int
    public var sequenceNumber: Int64
    /// The byte offset of the event in its partition's stream.
    public var offset: Int64
    /// Unix milliseconds.
    public var enqueuedTime: Int64
}

/// What a partition holds now.
public struct PartitionInfo: Sendable, Hashable {
    public var partition: Int
    /// The first sequence number still kept (`-1` when empty).
    public var beginningSequenceNumber: Int64
    /// The last sequence number written (`-1` when none).
    public var lastSequenceNumber: Int64
    public var lastOffset: Int64
    /// Unix milliseconds; 0 when none.
    public var lastEnqueuedTime: Int64
    public var isEmpty: Bool
}

/// Durable event hubs in the Conduit database: partitions with their own sequence numbers and byte offsets,
/// partition keys hashed to partitions (a key always lands on the same one), consumer groups, and time-based
/// retention. Events are never removed by reading: readers keep their own positions.
public struct EventHubStore: Sendable {
    public let store: Store
    var roundRobin: RoundRobin { BusRouting.sharedRoundRobin }

    public init(store: Store) {
        self.store = store
    }

    /// The consumer group every hub has.
    public static let defaultConsumerGroup = "$Default"

    /// The schema (version 203).
    public static let migrations: [Migration] = [
        Migration(version: 203, name: "bus event hubs") { db, flavor in
            let blob = flavor == .postgres ? "BYTEA" : "BLOB"
            try await db.raw(
                """
                CREATE TABLE IF NOT EXISTS conduit_bus_eventhub (name TEXT PRIMARY KEY NOT NULL, \
                description TEXT NOT NULL, createdon BIGINT NOT NULL)
                """
            ).run()
            try await db.raw(
                """
                CREATE TABLE IF NOT EXISTS conduit_bus_partition (hub TEXT NOT NULL, partitionid INTEGER NOT NULL, \
                nextsequence BIGINT NOT NULL, nextoffset BIGINT NOT NULL, PRIMARY KEY (hub, partitionid))
                """
            ).run()
            try await db.raw(
                SQLQueryString(
                    """
                    CREATE TABLE IF NOT EXISTS conduit_bus_event (hub TEXT NOT NULL, partitionid INTEGER NOT NULL, \
                    sequence BIGINT NOT NULL, byteoffset BIGINT NOT NULL, body \(unsafeRaw: blob) NOT NULL, \
                    properties TEXT NOT NULL, enqueued BIGINT NOT NULL, PRIMARY KEY (hub, partitionid, sequence))
                    """
                )
            ).run()
            try await db.raw(
                "CREATE INDEX IF NOT EXISTS conduit_bus_event_enqueued ON conduit_bus_event (hub, enqueued)"
            ).run()
            try await db.raw(
                """
                CREATE TABLE IF NOT EXISTS conduit_bus_consumergroup (hub TEXT NOT NULL, name TEXT NOT NULL, \
                createdon BIGINT NOT NULL, PRIMARY KEY (hub, name))
                """
            ).run()
        }
    ]

    // MARK: - Hubs and consumer groups

    /// Creates a hub with its partitions and the `$Default` consumer group; no queue, topic or hub of that name
    /// may exist.
    public func createHub(_ description: EventHubDescription, now: Int64) async throws {
        try description.validate()
        let json = String(decoding: try JSONEncoder().encode(description), as: UTF8.self)
        try await store.transaction { db in
            let hub = try await Self.description(description.name, db: db)
            let queue = try await QueueStore.description(description.name, db: db)
            let topic = try await TopicStore.description(description.name, db: db)
            let relay = try await RelayStore.description(description.name, db: db)
            if hub != nil || queue != nil || topic != nil || relay != nil {
                throw BusError(.conflict, "An entity named '\(description.name)' already exists.")
            }
            try await db.raw(
                """
                INSERT INTO conduit_bus_eventhub (name, description, createdon) \
                VALUES (\(bind: description.name), \(bind: json), \(bind: now))
                """
            ).run()
            for partition in 0..<description.partitionCount {
                try await db.raw(
                    """
                    INSERT INTO conduit_bus_partition (hub, partitionid, nextsequence, nextoffset) \
                    VALUES (\(bind: description.name), \(bind: partition), 0, 0)
                    """
                ).run()
            }
            try await Self.insertGroup(Self.defaultConsumerGroup, hub: description.name, now: now, db: db)
        }
    }

    /// The hub's settings, or `nil`.
    public func hub(_ name: String) async throws -> EventHubDescription? {
        try await store.withDatabase { db in try await Self.description(name.lowercased(), db: db) }
    }

    /// The hubs, with their creation times (Unix ms).
    /// (`named`: only that hub.)
    public func hubs(named name: String? = nil) async throws -> [(description: EventHubDescription, createdOn: Int64)] {
        try await EntityRows.read(EventHubDescription.self, from: "conduit_bus_eventhub", named: name, store: store)
    }

    /// Deletes a hub, its events and consumer groups.
    public func deleteHub(_ name: String) async throws {
        let name = name.lowercased()
        try await store.transaction { db in
            guard try await Self.description(name, db: db) != nil else { throw Self.missing(name) }
            for table in ["conduit_bus_event", "conduit_bus_partition", "conduit_bus_consumergroup"] {
                try await db.raw("DELETE FROM \(unsafeRaw: table) WHERE hub = \(bind: name)").run()
            }
            try await db.raw("DELETE FROM conduit_bus_eventhub WHERE name = \(bind: name)").run()
            try await db.raw("DELETE FROM conduit_bus_seen WHERE queue = \(bind: name)").run()
        }
    }

    /// Adds a consumer group.
    public func createConsumerGroup(_ name: String, hub: String, now: Int64) async throws {
        try await store.transaction { db in
            guard try await Self.description(hub.lowercased(), db: db) != nil else { throw Self.missing(hub) }
            if try await Self.groupExists(name, hub: hub.lowercased(), db: db) {
                throw BusError(.conflict, "The consumer group '\(name)' of event hub '\(hub)' already exists.")
            }
            try await Self.insertGroup(name, hub: hub.lowercased(), now: now, db: db)
        }
    }

    /// The hub's consumer groups.
    public func consumerGroups(of hub: String) async throws -> [String] {
        try await store.withDatabase { db in
            try await db.raw(
                "SELECT name FROM conduit_bus_consumergroup WHERE hub = \(bind: hub.lowercased()) ORDER BY name"
            ).all().map { try $0.decode(column: "name", as: String.self) }
        }
    }

    // MARK: - Sending

    /// The partition a partition key goes to: FNV-1a of its UTF-8 bytes, modulo the partition count (stable across
    /// restarts and nodes).
    public static func partition(forKey key: String, count: Int) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return Int(hash % UInt64(count))
    }

    /// Appends events to a hub: to `partition` when given, else by each event's partition key, else round-robin.
    /// Returns the partition and sequence number of each (`nil` for a duplicate `MessageId`... event hubs have no
    /// duplicate detection, so never).
    @discardableResult
    public func send(
        _ messages: [BusMessage],
        to hub: String,
        partition: Int? = nil,
        now: Int64
    ) async throws
        -> [(partition: Int, sequence: Int64)]
    {
        let roundRobin = self.roundRobin
        return try await store.transaction { db in
            try await Self.send(messages, to: hub, partition: partition, now: now, db: db, roundRobin: roundRobin)
        }
    }

    /// Appends events in the caller's transaction.
    @discardableResult
    public func send(
        _ messages: [BusMessage],
        to hub: String,
        partition: Int? = nil,
        now: Int64,
        transaction db: any SQLDatabase
    ) async throws -> [(partition: Int, sequence: Int64)] {
        try await Self.send(messages, to: hub, partition: partition, now: now, db: db, roundRobin: roundRobin)
    }

    static func send(
        _ messages: [BusMessage],
        to hub: String,
        partition fixed: Int?,
        now: Int64,
        db: any SQLDatabase,
        roundRobin: RoundRobin
    ) async throws -> [(partition: Int, sequence: Int64)] {
        guard let description = try await description(hub.lowercased(), db: db) else { throw missing(hub.lowercased()) }
        return try await send(messages, into: description, partition: fixed, now: now, db: db, roundRobin: roundRobin)
    }

    /// Appends events to the hub `description` describes, read by the caller.
    static func send(
        _ messages: [BusMessage],
        into description: EventHubDescription,
        partition fixed: Int?,
        now: Int64,
        db: any SQLDatabase,
        roundRobin: RoundRobin
    ) async throws -> [(partition: Int, sequence: Int64)] {
        let name = description.name
        if let fixed, !(0..<description.partitionCount).contains(fixed) {
            throw BusError(
                .badRequest,
                "The event hub '\(name)' has partitions 0 to \(description.partitionCount - 1), not \(fixed)."
            )
        }
        // Retention: events older than the hub keeps go as new ones come.
        let cutoff = now - Int64(description.retentionSeconds * 1000)
        try await db.raw("DELETE FROM conduit_bus_event WHERE hub = \(bind: name) AND enqueued < \(bind: cutoff)").run()
        let encoder = JSONEncoder()
        var placed: [(partition: Int, sequence: Int64)] = []
        for message in messages {
            let partition =
                fixed ?? message.partitionKey.map { Self.partition(forKey: $0, count: description.partitionCount) }
                ?? roundRobin.next(description.partitionCount)
            let size = Int64(message.body.count)
            let row = try await db.raw(
                """
                UPDATE conduit_bus_partition SET nextsequence = nextsequence + 1, nextoffset = nextoffset + \(bind: size) \
                WHERE hub = \(bind: name) AND partitionid = \(bind: partition) RETURNING nextsequence, nextoffset
                """
            ).first()
            guard let row else { throw missing(name) }
            let sequence = try row.decode(column: "nextsequence", as: Int64.self) - 1
            let offset = try row.decode(column: "nextoffset", as: Int64.self) - size
            var stored = message
            stored.body = Data()
            let properties = String(decoding: try encoder.encode(stored), as: UTF8.self)
            try await db.raw(
                """
                INSERT INTO conduit_bus_event (hub, partitionid, sequence, byteoffset, body, properties, enqueued) \
                VALUES (\(bind: name), \(bind: partition), \(bind: sequence), \(bind: offset), \(bind: message.body), \
                \(bind: properties), \(bind: now))
                """
            ).run()
            placed.append((partition, sequence))
        }
        return placed
    }

    // MARK: - Reading

    /// Up to `limit` events of a partition from sequence number `from` on, for a reader in `consumerGroup`.
    public func read(
        hub: String,
        consumerGroup: String = EventHubStore.defaultConsumerGroup,
        partition: Int,
        from sequence: Int64,
        limit: Int
    ) async throws -> [StoredEvent] {
        let name = hub.lowercased()
        return try await store.withDatabase { db in
            guard try await Self.description(name, db: db) != nil else { throw Self.missing(name) }
            guard try await Self.groupExists(consumerGroup, hub: name, db: db) else {
                throw BusError(.entityNotFound, "The event hub '\(name)' has no consumer group '\(consumerGroup)'.")
            }
            let decoder = JSONDecoder()
            return try await db.raw(
                """
                SELECT sequence, byteoffset, body, properties, enqueued FROM conduit_bus_event \
                WHERE hub = \(bind: name) AND partitionid = \(bind: partition) AND sequence >= \(bind: sequence) \
                ORDER BY sequence LIMIT \(bind: max(1, min(limit, 1000)))
                """
            ).all().map { row in
                var message = try decoder.decode(
                    BusMessage.self,
                    from: Data(try row.decode(column: "properties", as: String.self).utf8)
                )
                message.body = try row.decode(column: "body", as: Data.self)
                return StoredEvent(
                    message: message,
                    partition: partition,
                    sequenceNumber: try row.decode(column: "sequence", as: Int64.self),
                    offset: try row.decode(column: "byteoffset", as: Int64.self),
                    enqueuedTime: try row.decode(column: "enqueued", as: Int64.self)
                )
            }
        }
    }

    /// What a partition holds.
    public func partitionInfo(hub: String, partition: Int) async throws -> PartitionInfo {
        let name = hub.lowercased()
        return try await store.withDatabase { db in
            guard
                let row = try await db.raw(
                    """
                    SELECT p.nextsequence AS next, p.nextoffset AS nextoffset, \
                    (SELECT MIN(sequence) FROM conduit_bus_event e WHERE e.hub = p.hub AND e.partitionid = p.partitionid) AS first, \
                    (SELECT MAX(enqueued) FROM conduit_bus_event e WHERE e.hub = p.hub AND e.partitionid = p.partitionid) AS last \
                    FROM conduit_bus_partition p WHERE p.hub = \(bind: name) AND p.partitionid = \(bind: partition)
                    """
                ).first()
            else {
                throw BusError(.entityNotFound, "The event hub '\(name)' has no partition \(partition).")
            }
            let next = try row.decode(column: "next", as: Int64.self)
            let first = try row.decode(column: "first", as: Int64?.self)
            return PartitionInfo(
                partition: partition,
                beginningSequenceNumber: first ?? -1,
                lastSequenceNumber: next - 1,
                lastOffset: try row.decode(column: "nextoffset", as: Int64.self),
                lastEnqueuedTime: try row.decode(column: "last", as: Int64?.self) ?? 0,
                isEmpty: first == nil
            )
        }
    }

    // MARK: - Internals

    static func description(_ name: String, db: any SQLDatabase) async throws -> EventHubDescription? {
        let row = try await db.raw("SELECT description FROM conduit_bus_eventhub WHERE name = \(bind: name)").first()
        guard let text = try row?.decode(column: "description", as: String.self) else { return nil }
        return try JSONDecoder().decode(EventHubDescription.self, from: Data(text.utf8))
    }

    static func groupExists(_ name: String, hub: String, db: any SQLDatabase) async throws -> Bool {
        try await db.raw(
            "SELECT name FROM conduit_bus_consumergroup WHERE hub = \(bind: hub) AND name = \(bind: name)"
        ).first() != nil
    }

    static func insertGroup(_ name: String, hub: String, now: Int64, db: any SQLDatabase) async throws {
        guard !name.isEmpty, name.count <= 50 else {
            throw BusError(.badRequest, "A consumer group needs a name of 1 to 50 characters.")
        }
        try await db.raw(
            "INSERT INTO conduit_bus_consumergroup (hub, name, createdon) VALUES (\(bind: hub), \(bind: name), \(bind: now))"
        ).run()
    }

    static func missing(_ name: String) -> BusError {
        BusError(.entityNotFound, "The event hub '\(name)' does not exist.")
    }
}

/// Spreads events without a partition key over the partitions in turn.
final class RoundRobin: Sendable {
    private let counter = Atomic<Int>(0)

    func next(_ count: Int) -> Int {
        let value = counter.add(1, ordering: .relaxed).oldValue
        return ((value % count) + count) % count
    }
}

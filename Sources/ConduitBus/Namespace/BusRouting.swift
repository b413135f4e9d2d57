import ConduitStore
import SQLKit

/// Where a send goes: a queue, a topic or an event hub of the namespace, by name, following auto-forwarding.
enum BusRouting {
    /// The longest chain of auto-forwarding hops (Azure allows 4).
    static let maximumHops = 4

    static func send(
        _ messages: [BusMessage],
        to entity: String,
        now: Int64,
        db: any SQLDatabase,
        flavor: SQLFlavor,
        hops: Int,
        handoffs: QueueHandoffs? = nil
    ) async throws {
        let name = entity.lowercased()
        guard hops <= maximumHops else {
            throw BusError(
                .badRequest,
                "Auto-forwarding to '\(name)' would be hop \(hops); a message may be forwarded at most \(maximumHops) times."
            )
        }
        // Each entity is read once, and passed on (a queue locked on PostgreSQL, for its sequence numbers).
        if !name.contains("/"), let queue = try await QueueStore.description(name, db: db, lock: flavor == .postgres) {
            _ = try await QueueStore.send(
                messages,
                into: queue,
                now: now,
                db: db,
                flavor: flavor,
                hops: hops,
                handoffs: handoffs
            )
        } else if let topic = try await TopicStore.description(name, db: db) {
            _ = try await TopicStore.send(
                messages,
                into: topic,
                now: now,
                db: db,
                flavor: flavor,
                hops: hops,
                handoffs: handoffs
            )
        } else if let hub = try await EventHubStore.description(name, db: db) {
            // Event hub readers look again after each send.
            handoffs?.markMissed()
            _ = try await EventHubStore.send(
                messages,
                into: hub,
                partition: nil,
                now: now,
                db: db,
                roundRobin: sharedRoundRobin
            )
        } else {
            throw BusError(.entityNotFound, "No queue, topic or event hub named '\(name)' exists.")
        }
    }

    /// Spreads events without a partition key, for every sender of this process.
    static let sharedRoundRobin = RoundRobin()
}

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
        hops: Int
    ) async throws {
        let name = entity.lowercased()
        guard hops <= maximumHops else {
            throw BusError(
                .badRequest,
                "Auto-forwarding to '\(name)' would be hop \(hops); a message may be forwarded at most \(maximumHops) times."
            )
        }
        if try await QueueStore.description(name, db: db) != nil, !name.contains("/") {
            try await QueueStore.send(messages, to: name, now: now, db: db, flavor: flavor, hops: hops)
        } else if try await TopicStore.description(name, db: db) != nil {
            try await TopicStore.send(messages, to: name, now: now, db: db, flavor: flavor, hops: hops)
        } else if try await EventHubStore.description(name, db: db) != nil {
            _ = try await EventHubStore.send(
                messages,
                to: name,
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

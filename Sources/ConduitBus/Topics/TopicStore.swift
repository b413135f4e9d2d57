import ConduitStore
import Foundation
import SQLKit

/// Durable topics with subscriptions and rules, in the Conduit database. A subscription's messages live in a queue
/// named `<topic>/subscriptions/<name>` (with its own locks, deliveries and `$DeadLetterQueue`); a send to the
/// topic evaluates every subscription's rules and enqueues the copies in one transaction.
public struct TopicStore: Sendable {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// The schema (version 202).
    public static let migrations: [Migration] = [
        Migration(version: 202, name: "bus topics, subscriptions and rules") { db, _ in
            try await db.raw(
                """
                CREATE TABLE IF NOT EXISTS conduit_bus_topic (name TEXT PRIMARY KEY NOT NULL, description TEXT NOT NULL, \
                createdon BIGINT NOT NULL)
                """
            ).run()
            try await db.raw(
                """
                CREATE TABLE IF NOT EXISTS conduit_bus_subscription (topic TEXT NOT NULL, name TEXT NOT NULL, \
                description TEXT NOT NULL, createdon BIGINT NOT NULL, PRIMARY KEY (topic, name))
                """
            ).run()
            try await db.raw(
                """
                CREATE TABLE IF NOT EXISTS conduit_bus_filter_rule (topic TEXT NOT NULL, subscription TEXT NOT NULL, \
                name TEXT NOT NULL, definition TEXT NOT NULL, createdon BIGINT NOT NULL, \
                PRIMARY KEY (topic, subscription, name))
                """
            ).run()
        }
    ]

    /// `<topic>/subscriptions/<subscription>`, in lower case.
    public static func subscriptionPath(topic: String, subscription: String) -> String {
        "\(topic.lowercased())/subscriptions/\(subscription.lowercased())"
    }

    // MARK: - Topics

    /// Creates a topic; no queue or topic of that name may exist.
    public func createTopic(_ description: TopicDescription, now: Int64) async throws {
        try description.validate()
        let json = String(decoding: try JSONEncoder().encode(description), as: UTF8.self)
        try await store.transaction { db in
            if try await Self.description(description.name, db: db) != nil {
                throw BusError(.conflict, "The topic '\(description.name)' already exists.")
            }
            if try await QueueStore.description(description.name, db: db) != nil {
                throw BusError(.conflict, "A queue named '\(description.name)' exists; queues and topics share names.")
            }
            if try await EventHubStore.description(description.name, db: db) != nil {
                throw BusError(.conflict, "An event hub named '\(description.name)' exists; entities share names.")
            }
            if try await RelayStore.description(description.name, db: db) != nil {
                throw BusError(
                    .conflict,
                    "A hybrid connection named '\(description.name)' exists; entities share names."
                )
            }
            try await db.raw(
                """
                INSERT INTO conduit_bus_topic (name, description, createdon) \
                VALUES (\(bind: description.name), \(bind: json), \(bind: now))
                """
            ).run()
        }
    }

    /// The topic's settings, or `nil`.
    public func topic(_ name: String) async throws -> TopicDescription? {
        try await store.withDatabase { db in try await Self.description(name.lowercased(), db: db) }
    }

    /// The topics, by name, with their creation times (Unix ms).
    /// (`named`: only that topic.)
    public func topics(named name: String? = nil) async throws -> [(description: TopicDescription, createdOn: Int64)] {
        try await EntityRows.read(TopicDescription.self, from: "conduit_bus_topic", named: name, store: store)
    }

    /// Replaces a topic's settings.
    public func updateTopic(_ description: TopicDescription) async throws {
        try description.validate()
        let json = String(decoding: try JSONEncoder().encode(description), as: UTF8.self)
        try await store.transaction { db in
            guard try await Self.description(description.name, db: db) != nil else {
                throw Self.missing(topic: description.name)
            }
            try await db.raw(
                "UPDATE conduit_bus_topic SET description = \(bind: json) WHERE name = \(bind: description.name)"
            ).run()
        }
    }

    /// Replaces a subscription's settings (its rules and messages stay).
    public func updateSubscription(_ description: SubscriptionDescription) async throws {
        try description.queue.validate(kind: "subscription", checksName: false)
        let json = String(decoding: try JSONEncoder().encode(description), as: UTF8.self)
        try await store.transaction { db in
            guard try await Self.subscription(topic: description.topic, name: description.name, db: db) != nil else {
                throw Self.missing(topic: description.topic, subscription: description.name)
            }
            try await db.raw(
                """
                UPDATE conduit_bus_subscription SET description = \(bind: json) \
                WHERE topic = \(bind: description.topic) AND name = \(bind: description.name)
                """
            ).run()
            try await QueueStore.update(description.queue, db: db)
        }
    }

    /// One subscription's settings, or `nil`.
    public func subscription(topic: String, name: String) async throws -> SubscriptionDescription? {
        try await store.withDatabase { db in
            try await Self.subscription(topic: topic.lowercased(), name: name.lowercased(), db: db)
        }
    }

    /// Deletes a topic with its subscriptions, their rules and messages.
    public func deleteTopic(_ name: String) async throws {
        let name = name.lowercased()
        try await store.transaction { db in
            guard try await Self.description(name, db: db) != nil else { throw Self.missing(topic: name) }
            for subscription in try await Self.subscriptions(of: name, db: db) {
                try await Self.deleteSubscription(subscription, db: db)
            }
            try await db.raw("DELETE FROM conduit_bus_seen WHERE queue = \(bind: name)").run()
            try await db.raw("DELETE FROM conduit_bus_topic WHERE name = \(bind: name)").run()
        }
    }

    // MARK: - Subscriptions and rules

    /// Creates a subscription with one rule: `rule`, or the default true filter.
    public func createSubscription(
        _ description: SubscriptionDescription,
        rule: SubscriptionRule = SubscriptionRule(name: SubscriptionRule.defaultName),
        now: Int64
    ) async throws {
        try description.queue.validate(kind: "subscription", checksName: false)
        try QueueDescription(name: description.name).validate(kind: "subscription")
        let json = String(decoding: try JSONEncoder().encode(description), as: UTF8.self)
        try await store.transaction { db in
            guard try await Self.description(description.topic, db: db) != nil else {
                throw Self.missing(topic: description.topic)
            }
            if try await Self.subscription(topic: description.topic, name: description.name, db: db) != nil {
                throw BusError(
                    .conflict,
                    "The subscription '\(description.name)' of topic '\(description.topic)' already exists."
                )
            }
            try await db.raw(
                """
                INSERT INTO conduit_bus_subscription (topic, name, description, createdon) \
                VALUES (\(bind: description.topic), \(bind: description.name), \(bind: json), \(bind: now))
                """
            ).run()
            try await QueueStore.insert(description.queue, now: now, db: db)
            try await Self.putRule(rule, topic: description.topic, subscription: description.name, now: now, db: db)
        }
    }

    /// The topic's subscriptions.
    public func subscriptions(of topic: String) async throws -> [SubscriptionDescription] {
        try await store.withDatabase { db in try await Self.subscriptions(of: topic.lowercased(), db: db) }
    }

    /// Deletes a subscription, its rules and its messages.
    public func deleteSubscription(topic: String, name: String) async throws {
        try await store.transaction { db in
            guard
                let subscription = try await Self.subscription(
                    topic: topic.lowercased(),
                    name: name.lowercased(),
                    db: db
                )
            else { throw Self.missing(topic: topic, subscription: name) }
            try await Self.deleteSubscription(subscription, db: db)
        }
    }

    /// Adds a rule to a subscription (a rule of that name must not exist).
    public func addRule(_ rule: SubscriptionRule, topic: String, subscription: String, now: Int64) async throws {
        try await store.transaction { db in
            guard try await Self.subscription(topic: topic.lowercased(), name: subscription.lowercased(), db: db) != nil
            else { throw Self.missing(topic: topic, subscription: subscription) }
            if try await Self.rules(topic: topic.lowercased(), db: db)[subscription.lowercased()]?
                .contains(where: { $0.name.lowercased() == rule.name.lowercased() }) == true
            {
                throw BusError(.conflict, "The rule '\(rule.name)' of subscription '\(subscription)' already exists.")
            }
            try await Self.putRule(
                rule,
                topic: topic.lowercased(),
                subscription: subscription.lowercased(),
                now: now,
                db: db
            )
        }
    }

    /// Removes a rule.
    public func removeRule(_ name: String, topic: String, subscription: String) async throws {
        try await store.transaction { db in
            let rows = try await db.raw(
                """
                DELETE FROM conduit_bus_filter_rule WHERE topic = \(bind: topic.lowercased()) \
                AND subscription = \(bind: subscription.lowercased()) AND name = \(bind: name.lowercased()) RETURNING name
                """
            ).all()
            if rows.isEmpty {
                throw BusError(
                    .entityNotFound,
                    "The subscription '\(subscription)' of topic '\(topic)' has no rule '\(name)'."
                )
            }
        }
    }

    /// A subscription's rules.
    public func rules(topic: String, subscription: String) async throws -> [SubscriptionRule] {
        try await store.withDatabase { db in
            try await Self.rules(topic: topic.lowercased(), db: db)[subscription.lowercased()] ?? []
        }
    }

    // MARK: - Sending

    /// Sends messages to a topic: each subscription gets the copies its rules select. Returns how many copies were
    /// enqueued per message (`nil` for a duplicate, accepted and dropped).
    @discardableResult
    public func send(_ messages: [BusMessage], to topic: String, now: Int64) async throws -> [Int?] {
        let flavor = store.flavor
        return try await store.transaction { db in
            try await Self.send(messages, to: topic, now: now, db: db, flavor: flavor)
        }
    }

    static func send(
        _ messages: [BusMessage],
        to topic: String,
        now: Int64,
        db: any SQLDatabase,
        flavor: SQLFlavor,
        hops: Int = 0
    ) async throws -> [Int?] {
        let name = topic.lowercased()
        guard let description = try await Self.description(name, db: db) else { throw Self.missing(topic: name) }
        return try await send(messages, into: description, now: now, db: db, flavor: flavor, hops: hops)
    }

    /// Sends messages to the topic `description` describes, read by the caller.
    static func send(
        _ messages: [BusMessage],
        into description: TopicDescription,
        now: Int64,
        db: any SQLDatabase,
        flavor: SQLFlavor,
        hops: Int,
        handoffs: QueueHandoffs? = nil
    ) async throws -> [Int?] {
        let name = description.name
        let rules = try await Self.rules(topic: name, db: db)
        var copies: [String: [BusMessage]] = [:]
        var counts: [Int?] = []
        for var message in messages {
            if try await QueueStore.isDuplicate(
                message,
                entity: name,
                window: description.duplicateDetectionWindowSeconds,
                now: now,
                db: db
            ) {
                counts.append(nil)
                continue
            }
            if message.timeToLiveSeconds == nil {
                message.timeToLiveSeconds = description.defaultMessageTimeToLiveSeconds
            }
            var count = 0
            for (subscription, subscriptionRules) in rules.sorted(by: { $0.key < $1.key }) {
                let selected = RuleEvaluation.copies(of: message, rules: subscriptionRules)
                copies[subscription, default: []] += selected
                count += selected.count
            }
            counts.append(count)
        }
        for (subscription, list) in copies.sorted(by: { $0.key < $1.key }) where !list.isEmpty {
            try await QueueStore.send(
                list,
                to: subscriptionPath(topic: name, subscription: subscription),
                now: now,
                db: db,
                flavor: flavor,
                hops: hops,
                handoffs: handoffs
            )
        }
        return counts
    }

    // MARK: - Internals

    static func description(_ name: String, db: any SQLDatabase) async throws -> TopicDescription? {
        let row = try await db.raw("SELECT description FROM conduit_bus_topic WHERE name = \(bind: name)").first()
        guard let text = try row?.decode(column: "description", as: String.self) else { return nil }
        return try decodedTopics.decode(text)
    }

    static func subscription(topic: String, name: String, db: any SQLDatabase) async throws -> SubscriptionDescription?
    {
        let row = try await db.raw(
            "SELECT description FROM conduit_bus_subscription WHERE topic = \(bind: topic) AND name = \(bind: name)"
        ).first()
        guard let text = try row?.decode(column: "description", as: String.self) else { return nil }
        return try JSONDecoder().decode(SubscriptionDescription.self, from: Data(text.utf8))
    }

    static func subscriptions(of topic: String, db: any SQLDatabase) async throws -> [SubscriptionDescription] {
        try await db.raw(
            "SELECT description FROM conduit_bus_subscription WHERE topic = \(bind: topic) ORDER BY name"
        ).all().map {
            try JSONDecoder().decode(
                SubscriptionDescription.self,
                from: Data(try $0.decode(column: "description", as: String.self).utf8)
            )
        }
    }

    /// Every subscription's rules, by subscription name. A subscription with no rule gets nothing.
    static func rules(topic: String, db: any SQLDatabase) async throws -> [String: [SubscriptionRule]] {
        var result: [String: [SubscriptionRule]] = [:]
        for subscription in try await subscriptions(of: topic, db: db) { result[subscription.name] = [] }
        let rows = try await db.raw(
            "SELECT subscription, definition FROM conduit_bus_filter_rule WHERE topic = \(bind: topic) ORDER BY name"
        ).all()
        let decoder = JSONDecoder()
        for row in rows {
            let rule = try decoder.decode(
                SubscriptionRule.self,
                from: Data(try row.decode(column: "definition", as: String.self).utf8)
            )
            result[try row.decode(column: "subscription", as: String.self), default: []].append(rule)
        }
        return result
    }

    static func putRule(
        _ rule: SubscriptionRule,
        topic: String,
        subscription: String,
        now: Int64,
        db: any SQLDatabase
    ) async throws {
        guard !rule.name.isEmpty, rule.name.count <= 50 else {
            throw BusError(.badRequest, "A rule needs a name of 1 to 50 characters, not '\(rule.name)'.")
        }
        let json = String(decoding: try JSONEncoder().encode(rule), as: UTF8.self)
        try await db.raw(
            """
            INSERT INTO conduit_bus_filter_rule (topic, subscription, name, definition, createdon) \
            VALUES (\(bind: topic), \(bind: subscription), \(bind: rule.name.lowercased()), \(bind: json), \(bind: now))
            """
        ).run()
    }

    static func deleteSubscription(_ subscription: SubscriptionDescription, db: any SQLDatabase) async throws {
        try await QueueStore.delete(subscription.path, db: db)
        try await db.raw(
            """
            DELETE FROM conduit_bus_filter_rule WHERE topic = \(bind: subscription.topic) \
            AND subscription = \(bind: subscription.name)
            """
        ).run()
        try await db.raw(
            """
            DELETE FROM conduit_bus_subscription WHERE topic = \(bind: subscription.topic) \
            AND name = \(bind: subscription.name)
            """
        ).run()
    }

    static func missing(topic: String, subscription: String? = nil) -> BusError {
        if let subscription {
            return BusError(.entityNotFound, "The topic '\(topic)' has no subscription '\(subscription)'.")
        }
        return BusError(.entityNotFound, "The topic '\(topic)' does not exist.")
    }

    /// Topic descriptions decoded from their stored JSON, by that JSON (read on every send to the topic).
    static let decodedTopics = DecodedCache<TopicDescription>()
}

import ConduitStore
import Foundation
import SQLKit
import Synchronization

/// The embedded namespace: its shared access rules (namespace-wide), and the queues of its `QueueStore`.
public struct BusNamespace: Sendable {
    public let store: Store
    public let queues: QueueStore
    public let topics: TopicStore
    public let eventHubs: EventHubStore
    /// The relay's hybrid connections and their listeners on this node.
    public let relays: RelayStore
    /// Who reads which event hub partition, with which owner level (AMQP readers of this server).
    public let eventHubOwners = EventHubOwnership()
    /// The AMQP links attached now to this server's entities (senders and receivers, `$cbs` and `$management`).
    public var amqpLinkCount: Int { amqpLinks.current }
    let amqpLinks = SharedCounter()
    private let ruleCache = RuleCache()
    /// The rule made on first start, with every right.
    public static let rootRuleName = "RootManageSharedAccessKey"

    public init(store: Store) {
        self.store = store
        self.queues = QueueStore(store: store)
        self.topics = TopicStore(store: store)
        self.eventHubs = EventHubStore(store: store)
        self.relays = RelayStore(store: store)
    }

    /// The bus schema: queues (200) and namespace rules (201).
    public static let migrations: [Migration] =
        QueueStore.migrations + TopicStore.migrations + EventHubStore.migrations + [
            QueueStore.expiryMigration, QueueStore.deferralMigration, QueueStore.sessionMigration,
            QueueStore.leanIndexMigration,
        ] + RelayStore.migrations + [
            Migration(version: 201, name: "bus namespace rules") { db, _ in
                try await db.raw(
                    """
                    CREATE TABLE IF NOT EXISTS conduit_bus_rule (keyname TEXT PRIMARY KEY NOT NULL, \
                    primarykey TEXT NOT NULL, secondarykey TEXT NOT NULL, rights TEXT NOT NULL)
                    """
                ).run()
            }
        ]

    /// Sends messages to a queue, a topic or an event hub, in one transaction (the caller's, when given). Receivers waiting on
    /// this node are woken after a commit of its own.
    /// - Throws: ``BusError`` (410) when no queue or topic has that name.
    public func send(
        _ messages: [BusMessage],
        to entity: String,
        now: Int64,
        transaction: (any SQLDatabase)? = nil
    ) async throws {
        let flavor = store.flavor
        if let transaction {
            try await BusRouting.send(messages, to: entity, now: now, db: transaction, flavor: flavor, hops: 0)
        } else {
            // One message to a plain queue with a waiting receiver: handed over as it arrives.
            if messages.count == 1, try await queues.sendOnArrival(messages[0], to: entity, now: now) { return }
            // Shared with the sends, receives and settlements that arrive at the same time (group commit); new
            // messages go straight to waiting receivers.
            try await queues.sendCommitted { db, handoffs in
                try await BusRouting.send(
                    messages,
                    to: entity,
                    now: now,
                    db: db,
                    flavor: flavor,
                    hops: 0,
                    handoffs: handoffs
                )
            }
        }
    }

    /// The namespace's rules.
    public func rules() async throws -> [AuthorizationRule] {
        try await store.withDatabase { db in try await Self.rules(db: db) }
    }

    /// The namespace's rules from a cache kept for a few seconds (`fresh` reads them again); in a transaction they
    /// are read through it.
    public func cachedRules(
        fresh: Bool = false,
        transaction: (any SQLDatabase)? = nil
    ) async throws
        -> [AuthorizationRule]
    {
        if !fresh, let rules = ruleCache.current() { return rules }
        let rules = try await read(transaction) { db in try await Self.rules(db: db) }
        ruleCache.remember(rules)
        return rules
    }

    /// Checks an `Authorization` header for an operation on `resource` (`sb://host/<entity>[/…]`) that needs
    /// `right`: with the namespace's rules (cached) and, if they refuse it, with the entity's own rules and the
    /// namespace's read again (a rule made in the last seconds).
    public func authorize(
        _ header: String?,
        resource: String,
        right: AccessRight,
        now: Int64,
        transaction: (any SQLDatabase)? = nil
    ) async throws {
        do {
            _ = try SASAuthorizer(rules: try await cachedRules(transaction: transaction), ignoresHost: true)
                .authorize(header, resource: resource, right: right, now: now)
        } catch is AuthorizationError {
            var rules = try await cachedRules(fresh: true, transaction: transaction)
            let path = SASAuthorizer.normalize(resource, ignoringHost: true)
            if let entity = path.split(separator: "/").first.map(String.init) {
                let own = try await read(transaction) { db in try await Self.entityRules(entity, db: db) }
                // An entity's rule of the same name as a namespace rule is the one its tokens are checked against.
                rules = own + rules
            }
            _ = try SASAuthorizer(rules: rules, ignoresHost: true)
                .authorize(header, resource: resource, right: right, now: now)
        }
    }

    /// Reads through the caller's transaction (an SQLite writer must not wait for itself), or a reader connection.
    private func read<T: Sendable>(
        _ transaction: (any SQLDatabase)?,
        _ body: @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        if let transaction { return try await body(transaction) }
        return try await store.withDatabase { db in try await body(db) }
    }

    /// The SAS rules of a queue, topic or event hub.
    static func entityRules(_ name: String, db: any SQLDatabase) async throws -> [AuthorizationRule] {
        if let queue = try await QueueStore.description(name, db: db) { return queue.authorizationRules ?? [] }
        if let topic = try await TopicStore.description(name, db: db) { return topic.authorizationRules ?? [] }
        if let hub = try await EventHubStore.description(name, db: db) { return hub.authorizationRules ?? [] }
        return []
    }

    /// The namespace's rules, read in the caller's transaction.
    public func rules(transaction db: any SQLDatabase) async throws -> [AuthorizationRule] {
        try await Self.rules(db: db)
    }

    private static func rules(db: any SQLDatabase) async throws -> [AuthorizationRule] {
        try await db.raw("SELECT keyname, primarykey, secondarykey, rights FROM conduit_bus_rule").all().map { row in
            AuthorizationRule(
                keyName: try row.decode(column: "keyname", as: String.self),
                primaryKey: try row.decode(column: "primarykey", as: String.self),
                secondaryKey: try row.decode(column: "secondarykey", as: String.self),
                rights: Set(
                    try row.decode(column: "rights", as: String.self).split(separator: ",").compactMap {
                        AccessRight(rawValue: String($0))
                    }
                )
            )
        }
    }

    /// Adds or replaces a rule.
    public func putRule(_ rule: AuthorizationRule) async throws {
        let rights = rule.rights.map(\.rawValue).sorted().joined(separator: ",")
        try await store.transaction { db in
            try await db.raw("DELETE FROM conduit_bus_rule WHERE keyname = \(bind: rule.keyName)").run()
            try await db.raw(
                """
                INSERT INTO conduit_bus_rule (keyname, primarykey, secondarykey, rights) VALUES \
                (\(bind: rule.keyName), \(bind: rule.primaryKey), \(bind: rule.secondaryKey), \(bind: rights))
                """
            ).run()
        }
        ruleCache.forget()
    }

    /// The root rule, made with fresh random keys on first start.
    public func ensureRootRule() async throws -> AuthorizationRule {
        if let root = try await rules().first(where: { $0.keyName == Self.rootRuleName }) { return root }
        let root = AuthorizationRule(
            keyName: Self.rootRuleName,
            primaryKey: Self.randomKey(),
            secondaryKey: Self.randomKey(),
            rights: [.manage]
        )
        try await putRule(root)
        return root
    }

    /// A connection string for a local broker: `UseDevelopmentEmulator=true` (plain TCP, the port kept), or with
    /// `tls` without it (the SDKs then use TLS and verify the certificate).
    public static func connectionString(host: String, port: Int, rule: AuthorizationRule, tls: Bool = false) -> String {
        let base =
            "Endpoint=sb://\(host):\(port)/;SharedAccessKeyName=\(rule.keyName);SharedAccessKey=\(rule.primaryKey)"
        // The SDKs' development-emulator switch means plain text; over TLS they verify the certificate as for Azure.
        return tls ? base : base + ";UseDevelopmentEmulator=true"
    }

    /// 32 random bytes, base64 (as Azure's keys are).
    public static func randomKey() -> String {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64EncodedString()
    }
}

/// The namespace's rules as last read, trusted for a few seconds.
final class RuleCache: Sendable {
    private let state = Mutex<(rules: [AuthorizationRule], at: ContinuousClock.Instant)?>(nil)
    static let lifetime: Duration = .seconds(5)

    func current() -> [AuthorizationRule]? {
        state.withLock { state in
            guard let state, ContinuousClock.now - state.at < Self.lifetime else { return nil }
            return state.rules
        }
    }

    func remember(_ rules: [AuthorizationRule]) {
        state.withLock { $0 = (rules, ContinuousClock.now) }
    }

    func forget() {
        state.withLock { $0 = nil }
    }
}

extension BusNamespace {
    /// An entity that holds messages: a queue, or a topic's subscription (`<topic>/subscriptions/<name>`), with
    /// its message counts.
    public struct MessageSource: Sendable, Hashable {
        /// `queue` or `subscription`.
        public var kind: String
        /// The queue's or the subscription's name.
        public var name: String
        /// The queue's name, or the subscription's path.
        public var path: String
        /// The topic, for a subscription.
        public var topic: String?
        /// Its active, scheduled and dead-lettered messages now.
        public var counts: MessageCounts
    }

    /// Every queue and every topic's subscription, in name order, with their counts.
    public func messageSources() async throws -> [MessageSource] {
        var sources: [MessageSource] = []
        for (queue, _) in try await queues.queues() {
            let counts = try await queues.counts(queue.name)
            sources.append(MessageSource(kind: "queue", name: queue.name, path: queue.name, counts: counts))
        }
        for (topic, _) in try await topics.topics() {
            for subscription in try await topics.subscriptions(of: topic.name) {
                sources.append(
                    MessageSource(
                        kind: "subscription",
                        name: subscription.name,
                        path: subscription.path,
                        topic: topic.name,
                        counts: try await queues.counts(subscription.path)
                    )
                )
            }
        }
        return sources
    }
}

/// A counter shared by copies of a struct.
final class SharedCounter: Sendable {
    private let value = Atomic<Int>(0)

    func add(_ amount: Int) { value.add(amount, ordering: .relaxed) }
    func subtract(_ amount: Int) { value.subtract(amount, ordering: .relaxed) }
    var current: Int { value.load(ordering: .relaxed) }
}

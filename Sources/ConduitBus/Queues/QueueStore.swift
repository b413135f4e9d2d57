import ConduitStore
import Foundation
import SQLKit

/// Durable queues in the Conduit database (SQLite or PostgreSQL): send with duplicate detection and scheduling,
/// peek-lock with lock renewal, complete, abandon, dead-letter, receive-and-delete, expiry, and the
/// `$DeadLetterQueue` sub-queue. A message acknowledged to a sender is committed. Times are Unix milliseconds,
/// passed in (so that tests control the clock).
public struct QueueStore: Sendable {
    public let store: Store
    /// Signalled after messages are committed by this process (receivers waiting for a message look again).
    public let arrivals = Wake()
    /// Peek-lock receivers of this process waiting for a message: sends hand new messages to them directly.
    public let waiters = QueueWaiters()
    /// Concurrent sends, receives and settlements share transactions.
    let commits: GroupCommit
    /// Messages handed to waiting receivers as they arrive (SQLite).
    let arrival = ArrivalDelivery()

    public init(store: Store) {
        self.store = store
        self.commits = GroupCommit(store: store)
    }

    /// The schema (versions 200 and up, beside the platform's).
    public static let migrations: [Migration] = [
        Migration(version: 200, name: "bus queues and messages") { db, flavor in
            let blob = flavor == .postgres ? "BYTEA" : "BLOB"
            try await db.raw(
                """
                CREATE TABLE IF NOT EXISTS conduit_bus_queue (name TEXT PRIMARY KEY NOT NULL, description TEXT NOT NULL, \
                nextsequence BIGINT NOT NULL, createdon BIGINT NOT NULL)
                """
            ).run()
            try await db.raw(
                SQLQueryString(
                    """
                    CREATE TABLE IF NOT EXISTS conduit_bus_message (queue TEXT NOT NULL, sequence BIGINT NOT NULL, \
                    messageid TEXT, body \(blob) NOT NULL, properties TEXT NOT NULL, enqueued BIGINT NOT NULL, \
                    available BIGINT NOT NULL, expires BIGINT, locktoken TEXT, lockeduntil BIGINT, \
                    deliverycount INTEGER NOT NULL, deadletter INTEGER NOT NULL, deadletterreason TEXT, \
                    deadletterdescription TEXT, PRIMARY KEY (queue, sequence))
                    """
                )
            ).run()
            try await db.raw(
                "CREATE INDEX IF NOT EXISTS conduit_bus_message_ready ON conduit_bus_message (queue, deadletter, sequence)"
            ).run()
            try await db.raw(
                "CREATE INDEX IF NOT EXISTS conduit_bus_message_lock ON conduit_bus_message (locktoken)"
            ).run()
            try await db.raw(
                """
                CREATE TABLE IF NOT EXISTS conduit_bus_seen (queue TEXT NOT NULL, messageid TEXT NOT NULL, \
                seenat BIGINT NOT NULL, PRIMARY KEY (queue, messageid))
                """
            ).run()
        }
    ]

    /// Deferred messages: set aside by their receiver, reachable only by sequence number (migration 205).
    public static let deferralMigration = Migration(version: 205, name: "bus deferred messages") { db, _ in
        try await db.raw("ALTER TABLE conduit_bus_message ADD COLUMN deferred INTEGER NOT NULL DEFAULT 0").run()
    }

    /// Sessions: each message's session id, and each session's lock and state (migration 206).
    public static let sessionMigration = Migration(version: 206, name: "bus sessions") { db, flavor in
        let blob = flavor == .postgres ? "BYTEA" : "BLOB"
        try await db.raw("ALTER TABLE conduit_bus_message ADD COLUMN sessionid TEXT").run()
        try await db.raw(
            "CREATE INDEX IF NOT EXISTS conduit_bus_message_session ON conduit_bus_message (queue, sessionid, sequence)"
        ).run()
        try await db.raw(
            SQLQueryString(
                """
                CREATE TABLE IF NOT EXISTS conduit_bus_session (queue TEXT NOT NULL, sessionid TEXT NOT NULL, \
                locktoken TEXT, lockeduntil BIGINT, state \(unsafeRaw: blob), updatedon BIGINT NOT NULL, \
                PRIMARY KEY (queue, sessionid))
                """
            )
        ).run()
    }

    /// Expired messages are found through an index, not a scan of the queue (migration 204).
    public static let expiryMigration = Migration(version: 204, name: "bus message expiry index") { db, _ in
        try await db.raw(
            "CREATE INDEX IF NOT EXISTS conduit_bus_message_expires ON conduit_bus_message (queue, deadletter, expires)"
        ).run()
    }

    /// Fewer index writes for each message (migration 207): lock tokens carry their message's sequence number
    /// (``MessageLockToken``), so the lock token index goes; the session and expiry indexes hold only the messages
    /// that have a session or an expiry time.
    public static let leanIndexMigration = Migration(version: 207, name: "bus message indexes without lock tokens") {
        db,
        _ in
        try await db.raw("DROP INDEX IF EXISTS conduit_bus_message_lock").run()
        try await db.raw("DROP INDEX IF EXISTS conduit_bus_message_session").run()
        try await db.raw(
            """
            CREATE INDEX conduit_bus_message_session ON conduit_bus_message (queue, sessionid, sequence) \
            WHERE sessionid IS NOT NULL
            """
        ).run()
        try await db.raw("DROP INDEX IF EXISTS conduit_bus_message_expires").run()
        try await db.raw(
            """
            CREATE INDEX conduit_bus_message_expires ON conduit_bus_message (queue, deadletter, expires) \
            WHERE expires IS NOT NULL
            """
        ).run()
    }

    /// The sub-queue suffix of dead-lettered messages.
    public static let deadLetterSuffix = "/$deadletterqueue"

    // MARK: - Queues

    /// Creates a queue; no queue or topic of that name may exist.
    public func createQueue(_ description: QueueDescription, now: Int64) async throws {
        try description.validate()
        try await store.transaction { db in
            if try await TopicStore.description(description.name, db: db) != nil {
                throw BusError(.conflict, "A topic named '\(description.name)' exists; queues and topics share names.")
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
            try await Self.insert(description, now: now, db: db)
        }
    }

    /// Writes a queue row (also the queue of a subscription).
    static func insert(_ description: QueueDescription, now: Int64, db: any SQLDatabase) async throws {
        if try await Self.description(description.name, db: db) != nil {
            throw BusError(.conflict, "The queue '\(description.name)' already exists.")
        }
        try await checkForwardTarget(description.forwardTo, db: db)
        let json = String(decoding: try JSONEncoder().encode(description), as: UTF8.self)
        try await db.raw(
            """
            INSERT INTO conduit_bus_queue (name, description, nextsequence, createdon) \
            VALUES (\(bind: description.name), \(bind: json), 1, \(bind: now))
            """
        ).run()
    }

    /// The queue's settings, or `nil`.
    public func queue(_ name: String) async throws -> QueueDescription? {
        try await store.withDatabase { db in try await Self.description(name.lowercased(), db: db) }
    }

    /// Replaces a queue's settings (its messages stay).
    public func updateQueue(_ description: QueueDescription) async throws {
        try description.validate()
        try await store.transaction { db in
            try await Self.update(description, db: db)
        }
        arrival.drop(description.name)
    }

    static func update(_ description: QueueDescription, db: any SQLDatabase) async throws {
        guard try await Self.description(description.name, db: db) != nil else { throw Self.missing(description.name) }
        try await checkForwardTarget(description.forwardTo, db: db)
        let json = String(decoding: try JSONEncoder().encode(description), as: UTF8.self)
        try await db.raw(
            "UPDATE conduit_bus_queue SET description = \(bind: json) WHERE name = \(bind: description.name)"
        ).run()
    }

    /// The queues (not the queues of topic subscriptions), by name, with their creation times (Unix ms).
    /// (`named`: only that queue.)
    public func queues(named name: String? = nil) async throws -> [(description: QueueDescription, createdOn: Int64)] {
        try await EntityRows.read(QueueDescription.self, from: "conduit_bus_queue", named: name, store: store)
            .filter { !$0.description.name.contains("/") }
    }

    /// Deletes a queue and its messages.
    public func deleteQueue(_ name: String) async throws {
        let name = name.lowercased()
        try await store.transaction { db in
            guard try await Self.description(name, db: db) != nil else { throw Self.missing(name) }
            try await Self.delete(name, db: db)
        }
        arrival.drop(name)
    }

    /// Deletes a queue row, its messages and its duplicate-detection history.
    static func delete(_ name: String, db: any SQLDatabase) async throws {
        try await db.raw("DELETE FROM conduit_bus_message WHERE queue = \(bind: name)").run()
        try await db.raw("DELETE FROM conduit_bus_seen WHERE queue = \(bind: name)").run()
        try await db.raw("DELETE FROM conduit_bus_queue WHERE name = \(bind: name)").run()
    }

    // MARK: - Sending

    /// Enqueues messages in one transaction, in order; returns their sequence numbers (`nil` for a duplicate,
    /// accepted and dropped).
    @discardableResult
    public func send(_ messages: [BusMessage], to queue: String, now: Int64) async throws -> [Int64?] {
        let flavor = store.flavor
        return try await sendCommitted { db, handoffs in
            try await Self.send(messages, to: queue, now: now, db: db, flavor: flavor, handoffs: handoffs)
        }
    }

    /// Runs a send in a transaction shared with the operations that arrive at the same time (group commit), with
    /// direct delivery: `work` passes `handoffs` down to the queues it sends to; once committed, the waiting receivers
    /// taken get their messages, and the others are woken if some message went to none.
    func sendCommitted<T: Sendable>(
        _ work: @escaping @Sendable (any SQLDatabase, QueueHandoffs) async throws -> T
    ) async throws -> T {
        let handoffs = QueueHandoffs(waiters: waiters)
        let result: T
        do {
            result = try await commits.run { db in
                // Run again after a shared transaction failed: the waiters taken before look again.
                handoffs.cancel()
                return try await work(db, handoffs)
            }
        } catch {
            handoffs.cancel()
            throw error
        }
        handoffs.deliver()
        if handoffs.wasMissed { arrivals.signal() }
        return result
    }

    /// When a message sent at `now` expires (its time to live, or the queue's default, from when it is available).
    static func expiry(of message: BusMessage, in description: QueueDescription, now: Int64) -> Int64? {
        let ttl = message.timeToLiveSeconds ?? description.defaultMessageTimeToLiveSeconds
        let available = max(message.scheduledEnqueueTime ?? now, now)
        return ttl.map { available + Int64($0 * 1000) }
    }

    /// Enqueues messages in the caller's transaction (a synchronous step's): they become visible when it commits
    /// and vanish if it rolls back. (Waiting receivers see them at their next look, within a poll interval.)
    @discardableResult
    public func send(
        _ messages: [BusMessage],
        to queue: String,
        now: Int64,
        transaction db: any SQLDatabase
    ) async throws -> [Int64?] {
        try await Self.send(messages, to: queue, now: now, db: db, flavor: store.flavor)
    }

    /// An auto-forwarding target must exist (as Azure requires when the entity is made).
    static func checkForwardTarget(_ target: String?, db: any SQLDatabase) async throws {
        guard let target else { return }
        let queue = target.contains("/") ? nil : try await description(target, db: db)
        let topic = try await TopicStore.description(target, db: db)
        let hub = try await EventHubStore.description(target, db: db)
        guard queue != nil || topic != nil || hub != nil else {
            throw BusError(.badRequest, "Cannot forward to '\(target)': no queue, topic or event hub has that name.")
        }
    }

    /// Whether `message` repeats a `MessageId` seen by `entity` within `window` seconds; if not, remembers it.
    static func isDuplicate(
        _ message: BusMessage,
        entity: String,
        window: Double?,
        now: Int64,
        db: any SQLDatabase
    ) async throws -> Bool {
        guard let window, let id = message.messageId else { return false }
        let since = now - Int64(window * 1000)
        let seen = try await db.raw(
            "SELECT seenat FROM conduit_bus_seen WHERE queue = \(bind: entity) AND messageid = \(bind: id)"
        ).first()
        if let at = try seen?.decode(column: "seenat", as: Int64.self), at >= since { return true }
        try await db.raw("DELETE FROM conduit_bus_seen WHERE queue = \(bind: entity) AND messageid = \(bind: id)").run()
        try await db.raw(
            "INSERT INTO conduit_bus_seen (queue, messageid, seenat) VALUES (\(bind: entity), \(bind: id), \(bind: now))"
        ).run()
        return false
    }

    static func send(
        _ messages: [BusMessage],
        to queue: String,
        now: Int64,
        db: any SQLDatabase,
        flavor: SQLFlavor,
        hops: Int = 0,
        handoffs: QueueHandoffs? = nil
    ) async throws -> [Int64?] {
        let name = queue.lowercased()
        // PostgreSQL: the queue row is locked, so that concurrent senders take sequence numbers in turn.
        guard let description = try await Self.description(name, db: db, lock: flavor == .postgres) else {
            throw Self.missing(name)
        }
        return try await send(
            messages,
            into: description,
            now: now,
            db: db,
            flavor: flavor,
            hops: hops,
            handoffs: handoffs
        )
    }

    /// Enqueues messages into the queue `description` describes, read (and on PostgreSQL locked) by the caller.
    /// With `handoffs`, new messages are locked for receivers of this process that wait for one (handed over once
    /// the transaction committed).
    static func send(
        _ messages: [BusMessage],
        into description: QueueDescription,
        now: Int64,
        db: any SQLDatabase,
        flavor: SQLFlavor,
        hops: Int,
        handoffs: QueueHandoffs? = nil
    ) async throws -> [Int64?] {
        let name = description.name
        if let forwardTo = description.forwardTo {
            // Auto-forwarding: the messages go on, in the same transaction.
            try await BusRouting.send(
                messages,
                to: forwardTo,
                now: now,
                db: db,
                flavor: flavor,
                hops: hops + 1,
                handoffs: handoffs
            )
            return messages.map { _ in nil }
        }
        let encoder = JSONEncoder()
        var sequences: [Int64?] = []
        if description.isSessionful, messages.contains(where: { $0.sessionId == nil }) {
            throw BusError(
                .badRequest,
                "The SessionId was not set on a message, and it cannot be sent to '\(name)': it requires sessions."
            )
        }
        for message in messages {
            if try await isDuplicate(
                message,
                entity: name,
                window: description.duplicateDetectionWindowSeconds,
                now: now,
                db: db
            ) {
                sequences.append(nil)
                continue
            }
            let row = try await db.raw(
                """
                UPDATE conduit_bus_queue SET nextsequence = nextsequence + 1 WHERE name = \(bind: name) \
                RETURNING nextsequence
                """
            ).first()
            guard let next = try row?.decode(column: "nextsequence", as: Int64.self) else {
                throw Self.missing(name)
            }
            let sequence = next - 1
            let available = max(message.scheduledEnqueueTime ?? now, now)
            let expires = expiry(of: message, in: description, now: now)
            // Direct delivery: a receiver of this process waits, so the message is stored locked for it (one
            // statement) and handed over once the transaction committed.
            let waiter = available <= now && !description.isSessionful ? handoffs?.waiters.claim(name) : nil
            let lock = waiter.map { _ in
                (token: MessageLockToken.make(sequence: sequence), until: description.lockedUntil(now: now))
            }
            try await insertRow(
                message,
                queue: name,
                sequence: sequence,
                now: now,
                available: available,
                expires: expires,
                lock: lock,
                encoder: encoder,
                db: db
            )
            sequences.append(sequence)
            if let handoffs {
                guard let waiter, let lock else {
                    handoffs.markMissed()
                    continue
                }
                handoffs.append(
                    waiter,
                    .handed(
                        message,
                        sequence: sequence,
                        now: now,
                        expires: expires,
                        token: lock.token,
                        until: lock.until
                    )
                )
            }
        }
        return sequences
    }

    /// Writes one message row; with `lock`, locked for a receiver it is handed to (its first delivery).
    static func insertRow(
        _ message: BusMessage,
        queue name: String,
        sequence: Int64,
        now: Int64,
        available: Int64,
        expires: Int64?,
        lock: (token: UUID, until: Int64)?,
        encoder: JSONEncoder = JSONEncoder(),
        db: any SQLDatabase
    ) async throws {
        var stored = message
        stored.body = Data()
        let properties = String(decoding: try encoder.encode(stored), as: UTF8.self)
        try await db.raw(
            """
            INSERT INTO conduit_bus_message (queue, sequence, messageid, body, properties, enqueued, available, \
            expires, deliverycount, deadletter, sessionid, locktoken, lockeduntil) VALUES (\(bind: name), \
            \(bind: sequence), \(bind: message.messageId), \(bind: message.body), \(bind: properties), \(bind: now), \
            \(bind: available), \(bind: expires), \(bind: lock == nil ? 0 : 1), 0, \(bind: message.sessionId), \
            \(bind: lock?.token.uuidString), \(bind: lock?.until))
            """
        ).run()
    }

    // MARK: - Receiving

    /// Locks the next available message of `entity` (a queue, or `<queue>/$DeadLetterQueue`) for the queue's lock
    /// duration and returns it with its lock token; `nil` when there is none.
    public func peekLock(_ entity: String, now: Int64, session: String? = nil) async throws -> ReceivedMessage? {
        try await receive(entity, now: now, delete: false, session: session)
    }

    /// Takes the next available message off `entity` and returns it; `nil` when there is none. With `session`, only
    /// that session's messages (its receiver holds the session's lock).
    public func receiveAndDelete(
        _ entity: String,
        now: Int64,
        session: String? = nil
    ) async throws
        -> ReceivedMessage?
    {
        try await receive(entity, now: now, delete: true, session: session)
    }

    /// Completes (deletes) a locked message. One handed over on arrival whose row is not written yet is completed at
    /// once: its write is cancelled (``ArrivalDelivery``).
    public func complete(_ entity: String, lockToken: UUID, now: Int64) async throws {
        let (queue, deadLetters) = Self.split(entity)
        if !deadLetters, arrival.completeUnwritten(lockToken, queue: queue, now: now) { return }
        try await commits.run { db in
            if try await !Self.deleteLocked(queue, lockToken, now: now, db: db) {
                // Says why: settled already, or the lock ran out.
                _ = try await Self.locked(queue, lockToken, now: now, db: db)
                throw BusError(.lockLost, "The lock \(lockToken.uuidString.lowercased()) of '\(queue)' was lost.")
            }
        }
    }

    /// Completes a locked message whose receiver settled it first and waits for no answer: the deletion goes with
    /// the next round of sends and settlements instead of a transaction of its own (within
    /// ``GroupCommit/followerDelay`` if none comes). A lock that ran out meanwhile leaves the message in place. If the
    /// process stops before the deletion is written, the message is delivered again once its lock runs out.
    public func completeSettled(_ entity: String, lockToken: UUID, now: Int64) {
        let (queue, deadLetters) = Self.split(entity)
        if !deadLetters, arrival.completeUnwritten(lockToken, queue: queue, now: now) { return }
        commits.follow { db in _ = try await Self.deleteLocked(queue, lockToken, now: now, db: db) }
    }

    /// Deletes the message of `queue` that still holds `token` at `now` (one statement); whether there was one.
    private static func deleteLocked(
        _ queue: String,
        _ token: UUID,
        now: Int64,
        db: any SQLDatabase
    ) async throws
        -> Bool
    {
        try await !db.raw(
            """
            DELETE FROM conduit_bus_message WHERE \(MessageLockToken.holder(queue, token)) \
            AND lockeduntil >= \(bind: now) RETURNING sequence
            """
        ).all().isEmpty
    }

    /// Releases a lock: the message is available again, or dead-lettered when it reached the maximum delivery count.
    public func abandon(_ entity: String, lockToken: UUID, now: Int64) async throws {
        let (queue, _) = Self.split(entity)
        try await commits.run { db in
            let (count, deadLettered) = try await Self.locked(queue, lockToken, now: now, db: db)
            let description = try await Self.description(queue, db: db)
            if !deadLettered, let description, count >= description.maxDeliveryCount {
                try await Self.deadLetter(
                    queue,
                    token: lockToken,
                    reason: "MaxDeliveryCountExceeded",
                    description:
                        "Message could not be consumed after \(description.maxDeliveryCount) delivery attempts.",
                    db: db
                )
                return
            }
            try await db.raw(
                """
                UPDATE conduit_bus_message SET locktoken = NULL, lockeduntil = NULL \
                WHERE \(MessageLockToken.holder(queue, lockToken))
                """
            ).run()
        }
    }

    /// Moves a locked message to the dead-letter sub-queue with a reason.
    public func deadLetter(
        _ entity: String,
        lockToken: UUID,
        reason: String?,
        description: String?,
        now: Int64
    ) async throws {
        let (queue, _) = Self.split(entity)
        try await commits.run { db in
            _ = try await Self.locked(queue, lockToken, now: now, db: db)
            try await Self.deadLetter(queue, token: lockToken, reason: reason, description: description, db: db)
        }
    }

    /// Extends a lock by the queue's lock duration; returns the new `lockedUntil`.
    public func renewLock(_ entity: String, lockToken: UUID, now: Int64) async throws -> Int64 {
        let (queue, _) = Self.split(entity)
        return try await commits.run { db in
            _ = try await Self.locked(queue, lockToken, now: now, db: db)
            guard let description = try await Self.description(queue, db: db) else { throw Self.missing(queue) }
            let until = description.lockedUntil(now: now)
            try await db.raw(
                """
                UPDATE conduit_bus_message SET lockeduntil = \(bind: until) \
                WHERE \(MessageLockToken.holder(queue, lockToken))
                """
            ).run()
            return until
        }
    }

    /// Counts of a queue's messages: active (available or locked), scheduled (not yet available) and
    /// dead-lettered.
    public func counts(
        _ queue: String,
        now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)
    ) async throws
        -> MessageCounts
    {
        let name = queue.lowercased()
        return try await store.withDatabase { db in
            let rows = try await db.raw(
                """
                SELECT deadletter, CASE WHEN available > \(bind: now) THEN 1 ELSE 0 END AS scheduled, COUNT(*) AS n \
                FROM conduit_bus_message WHERE queue = \(bind: name) GROUP BY deadletter, scheduled
                """
            ).all()
            var result = MessageCounts()
            for row in rows {
                let count = try row.decode(column: "n", as: Int.self)
                if try row.decode(column: "deadletter", as: Int.self) == 1 {
                    result.deadLettered += count
                } else if try row.decode(column: "scheduled", as: Int.self) == 1 {
                    result.scheduled += count
                } else {
                    result.active += count
                }
            }
            return result
        }
    }

    // MARK: - Internals

    private func receive(
        _ entity: String,
        now: Int64,
        delete: Bool,
        session: String?
    ) async throws
        -> ReceivedMessage?
    {
        let sessionCondition: SQLQueryString = session.map { " AND sessionid = \(bind: $0)" } ?? ""

        let (queue, deadLetters) = Self.split(entity)
        let lock = store.flavor == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        return try await commits.run { db -> ReceivedMessage? in
            guard let description = try await Self.description(queue, db: db) else { throw Self.missing(queue) }
            // Expired messages leave first: to the dead-letter sub-queue, or away.
            if !deadLetters {
                if description.deadLetteringOnMessageExpiration {
                    try await db.raw(
                        """
                        UPDATE conduit_bus_message SET deadletter = 1, deadletterreason = 'TTLExpiredException', \
                        deadletterdescription = 'The message expired and was dead lettered.', locktoken = NULL, \
                        lockeduntil = NULL WHERE queue = \(bind: queue) AND deadletter = 0 AND expires <= \(bind: now) \
                        AND (lockeduntil IS NULL OR lockeduntil < \(bind: now))
                        """
                    ).run()
                } else {
                    try await db.raw(
                        """
                        DELETE FROM conduit_bus_message WHERE queue = \(bind: queue) AND deadletter = 0 \
                        AND expires <= \(bind: now) AND (lockeduntil IS NULL OR lockeduntil < \(bind: now))
                        """
                    ).run()
                }
            }
            let flag = deadLetters ? 1 : 0
            while true {
                let row = try await db.raw(
                    SQLQueryString(
                        """
                        SELECT sequence, body, properties, enqueued, expires, deliverycount, deadletterreason, \
                        deadletterdescription, deferred FROM conduit_bus_message WHERE queue = \(bind: queue) \
                        AND deadletter = \(bind: flag) AND deferred = 0 AND available <= \(bind: now) \
                        AND (lockeduntil IS NULL OR lockeduntil < \(bind: now))
                        """
                    ) + sessionCondition + SQLQueryString(" ORDER BY sequence LIMIT 1") + SQLQueryString(lock)
                ).first()
                guard let row else { return nil }
                let sequence = try row.decode(column: "sequence", as: Int64.self)
                let deliveries = try row.decode(column: "deliverycount", as: Int.self)
                // A lock that ran out counts as a delivery: past the maximum, the message is dead-lettered.
                if !deadLetters, deliveries >= description.maxDeliveryCount {
                    try await db.raw(
                        """
                        UPDATE conduit_bus_message SET deadletter = 1, deadletterreason = 'MaxDeliveryCountExceeded', \
                        deadletterdescription = \(bind: "Message could not be consumed after \(description.maxDeliveryCount) delivery attempts."), \
                        locktoken = NULL, lockeduntil = NULL WHERE queue = \(bind: queue) AND sequence = \(bind: sequence)
                        """
                    ).run()
                    continue
                }
                var received = try Self.received(row)
                received.deliveryCount = deliveries + 1
                if delete {
                    try await db.raw(
                        "DELETE FROM conduit_bus_message WHERE queue = \(bind: queue) AND sequence = \(bind: sequence)"
                    ).run()
                    return received
                }
                let token = MessageLockToken.make(sequence: sequence)
                let until = description.lockedUntil(now: now)
                try await db.raw(
                    """
                    UPDATE conduit_bus_message SET locktoken = \(bind: token.uuidString), lockeduntil = \(bind: until), \
                    deliverycount = deliverycount + 1 WHERE queue = \(bind: queue) AND sequence = \(bind: sequence)
                    """
                ).run()
                received.lockToken = token
                received.lockedUntil = until
                return received
            }
        }
    }

    /// A message row (`sequence, body, properties, enqueued, expires, deliverycount, deadletterreason,
    /// deadletterdescription`) as a received message, without a lock.
    static func received(_ row: any SQLRow) throws -> ReceivedMessage {
        var message = try JSONDecoder().decode(
            BusMessage.self,
            from: Data(try row.decode(column: "properties", as: String.self).utf8)
        )
        message.body = try row.decode(column: "body", as: Data.self)
        return ReceivedMessage(
            message: message,
            sequenceNumber: try row.decode(column: "sequence", as: Int64.self),
            enqueuedTime: try row.decode(column: "enqueued", as: Int64.self),
            expiresAt: try row.decode(column: "expires", as: Int64?.self),
            deliveryCount: try row.decode(column: "deliverycount", as: Int.self),
            lockToken: nil,
            lockedUntil: nil,
            deadLetterReason: try row.decode(column: "deadletterreason", as: String?.self),
            deadLetterErrorDescription: try row.decode(column: "deadletterdescription", as: String?.self),
            isDeferred: (try row.decode(column: "deferred", as: Int?.self) ?? 0) == 1
        )
    }

    /// The delivery count of the message holding `token`, and whether it is dead-lettered; throws when no message
    /// holds it or its lock ran out.
    static func locked(
        _ queue: String,
        _ token: UUID,
        now: Int64,
        db: any SQLDatabase
    ) async throws -> (
        Int, Bool
    ) {
        let row = try await db.raw(
            """
            SELECT deliverycount, deadletter, lockeduntil FROM conduit_bus_message \
            WHERE \(MessageLockToken.holder(queue, token))
            """
        ).first()
        guard let row, let until = try row.decode(column: "lockeduntil", as: Int64?.self), until >= now else {
            throw BusError(
                .lockLost,
                "No message of '\(queue)' holds the lock \(token.uuidString.lowercased()): it was settled, or its lock expired."
            )
        }
        return (
            try row.decode(column: "deliverycount", as: Int.self),
            try row.decode(column: "deadletter", as: Int.self) == 1
        )
    }

    private static func deadLetter(
        _ queue: String,
        token: UUID,
        reason: String?,
        description: String?,
        db: any SQLDatabase
    ) async throws {
        try await db.raw(
            """
            UPDATE conduit_bus_message SET deadletter = 1, deadletterreason = \(bind: reason), \
            deadletterdescription = \(bind: description), locktoken = NULL, lockeduntil = NULL \
            WHERE \(MessageLockToken.holder(queue, token))
            """
        ).run()
    }

    static func description(
        _ name: String,
        db: any SQLDatabase,
        lock: Bool = false
    ) async throws
        -> QueueDescription?
    {
        let row = try await db.raw(
            SQLQueryString("SELECT description FROM conduit_bus_queue WHERE name = \(bind: name)")
                + SQLQueryString(lock ? " FOR UPDATE" : "")
        ).first()
        guard let text = try row?.decode(column: "description", as: String.self) else { return nil }
        return try decodedDescriptions.decode(text)
    }

    /// Queue descriptions decoded from their stored JSON, by that JSON: every send, receive and settlement reads its
    /// queue's row, and decoding it was 3% of the bus's CPU. The same text always decodes to the same value, so the
    /// cache needs no invalidation.
    static let decodedDescriptions = DecodedCache<QueueDescription>()

    /// `orders` → (`orders`, false); `orders/$DeadLetterQueue` → (`orders`, true).
    static func split(_ entity: String) -> (queue: String, deadLetters: Bool) {
        let lower = entity.lowercased()
        if lower.hasSuffix(deadLetterSuffix) { return (String(lower.dropLast(deadLetterSuffix.count)), true) }
        return (lower, false)
    }

    static func missing(_ name: String) -> BusError {
        BusError(.entityNotFound, "The queue '\(name)' does not exist.")
    }
}

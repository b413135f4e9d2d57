import ConduitStore
import Foundation
import SQLKit

extension QueueStore {
    /// Up to `count` messages of `entity` (a queue, a subscription or a dead-letter sub-queue) from sequence number
    /// `from` on, without locking them: active, locked and scheduled ones alike, in sequence order.
    public func peek(_ entity: String, from sequence: Int64, count: Int) async throws -> [ReceivedMessage] {
        let (queue, deadLetters) = Self.split(entity)
        return try await store.withDatabase { db in
            guard try await Self.description(queue, db: db) != nil else { throw Self.missing(queue) }
            let rows = try await db.raw(
                """
                SELECT sequence, body, properties, enqueued, expires, deliverycount, deadletterreason, \
                deadletterdescription, deferred FROM conduit_bus_message WHERE queue = \(bind: queue) \
                AND deadletter = \(bind: deadLetters ? 1 : 0) AND sequence >= \(bind: sequence) \
                ORDER BY sequence LIMIT \(bind: max(0, min(count, 10_000)))
                """
            ).all()
            return try rows.map(Self.received)
        }
    }

    /// Gives a locked message back without counting the delivery (a receiver released it unread).
    public func release(_ entity: String, lockToken: UUID, now: Int64) async throws {
        let (queue, _) = Self.split(entity)
        // In the group commit's line, as every settlement: after the write of a message handed over on arrival.
        try await commits.run { db in
            _ = try await Self.locked(queue, lockToken, now: now, db: db)
            try await db.raw(
                """
                UPDATE conduit_bus_message SET locktoken = NULL, lockeduntil = NULL, \
                deliverycount = CASE WHEN deliverycount > 0 THEN deliverycount - 1 ELSE 0 END \
                WHERE \(MessageLockToken.holder(queue, lockToken))
                """
            ).run()
        }
        arrivals.signal()
    }

    /// Cancels scheduled messages of a queue by sequence number; those already enqueued (or unknown) stay as they
    /// are. Returns how many were cancelled.
    @discardableResult
    public func cancelScheduled(_ queue: String, sequences: [Int64], now: Int64) async throws -> Int {
        let name = queue.lowercased()
        return try await store.transaction { db in
            guard try await Self.description(name, db: db) != nil else { throw Self.missing(name) }
            var cancelled = 0
            for sequence in sequences {
                let rows = try await db.raw(
                    """
                    DELETE FROM conduit_bus_message WHERE queue = \(bind: name) AND sequence = \(bind: sequence) \
                    AND available > \(bind: now) AND deadletter = 0 RETURNING sequence
                    """
                ).all()
                cancelled += rows.count
            }
            return cancelled
        }
    }
}

extension QueueStore {
    /// Defers a locked message: it leaves the line and is received only by its sequence number
    /// (``receiveDeferred(_:sequences:peekLock:now:)``).
    public func deferMessage(_ entity: String, lockToken: UUID, now: Int64) async throws {
        let (queue, _) = Self.split(entity)
        try await commits.run { db in
            _ = try await Self.locked(queue, lockToken, now: now, db: db)
            try await db.raw(
                """
                UPDATE conduit_bus_message SET deferred = 1, locktoken = NULL, lockeduntil = NULL \
                WHERE \(MessageLockToken.holder(queue, lockToken))
                """
            ).run()
        }
    }

    /// Receives deferred messages by sequence number: locked (peek-lock) or taken off the queue; those not found
    /// (not deferred, settled, or locked by another receiver) are left out.
    public func receiveDeferred(
        _ entity: String,
        sequences: [Int64],
        peekLock: Bool,
        now: Int64
    ) async throws -> [ReceivedMessage] {
        let (queue, deadLetters) = Self.split(entity)
        return try await store.transaction { db in
            guard let description = try await Self.description(queue, db: db) else { throw Self.missing(queue) }
            var found: [ReceivedMessage] = []
            for sequence in sequences {
                let row = try await db.raw(
                    """
                    SELECT sequence, body, properties, enqueued, expires, deliverycount, deadletterreason, \
                    deadletterdescription, deferred FROM conduit_bus_message WHERE queue = \(bind: queue) \
                    AND deadletter = \(bind: deadLetters ? 1 : 0) AND sequence = \(bind: sequence) AND deferred = 1 \
                    AND (lockeduntil IS NULL OR lockeduntil < \(bind: now))
                    """
                ).first()
                guard let row else { continue }
                var received = try Self.received(row)
                received.deliveryCount += 1
                if peekLock {
                    let token = MessageLockToken.make(sequence: sequence)
                    let until = description.lockedUntil(now: now)
                    try await db.raw(
                        """
                        UPDATE conduit_bus_message SET locktoken = \(bind: token.uuidString), \
                        lockeduntil = \(bind: until), deliverycount = deliverycount + 1 \
                        WHERE queue = \(bind: queue) AND sequence = \(bind: sequence)
                        """
                    ).run()
                    received.lockToken = token
                    received.lockedUntil = until
                } else {
                    try await db.raw(
                        "DELETE FROM conduit_bus_message WHERE queue = \(bind: queue) AND sequence = \(bind: sequence)"
                    ).run()
                }
                found.append(received)
            }
            return found
        }
    }
}

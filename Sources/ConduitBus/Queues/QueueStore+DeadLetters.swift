import ConduitStore
import Foundation
import SQLKit

extension QueueStore {
    /// Sends dead-lettered messages of a queue or subscription back to it, as new messages (new sequence numbers,
    /// first delivery) with the same properties and body, and removes them from the dead-letter sub-queue, in one
    /// transaction. `sequences` picks them; `nil` takes every one. Returns how many were resubmitted.
    @discardableResult
    public func resubmitDeadLetters(_ entity: String, sequences: [Int64]? = nil, now: Int64) async throws -> Int {
        let (queue, _) = Self.split(entity)
        let flavor = store.flavor
        return try await sendCommitted { db, handoffs in
            let rows = try await Self.deadLetterRows(queue, sequences: sequences, db: db)
            for row in rows {
                var message = try Self.received(row).message
                message.scheduledEnqueueTime = nil
                _ = try await Self.send([message], to: queue, now: now, db: db, flavor: flavor, handoffs: handoffs)
                try await db.raw(
                    """
                    DELETE FROM conduit_bus_message WHERE queue = \(bind: queue) AND deadletter = 1 \
                    AND sequence = \(bind: try row.decode(column: "sequence", as: Int64.self))
                    """
                ).run()
            }
            return rows.count
        }
    }

    /// Deletes dead-lettered messages of a queue or subscription; `sequences` picks them, `nil` takes every one.
    /// Returns how many were deleted.
    @discardableResult
    public func purgeDeadLetters(_ entity: String, sequences: [Int64]? = nil) async throws -> Int {
        let (queue, _) = Self.split(entity)
        return try await commits.run { db in
            guard try await Self.description(queue, db: db) != nil else { throw Self.missing(queue) }
            var sql: SQLQueryString = """
                DELETE FROM conduit_bus_message WHERE queue = \(bind: queue) AND deadletter = 1
                """
            if let sequences {
                guard !sequences.isEmpty else { return 0 }
                sql.appendInterpolation(Self.sequenceCondition(sequences))
            }
            sql.appendLiteral(" RETURNING sequence")
            return try await db.raw(sql).all().count
        }
    }

    private static func deadLetterRows(
        _ queue: String,
        sequences: [Int64]?,
        db: any SQLDatabase
    ) async throws
        -> [any SQLRow]
    {
        guard try await description(queue, db: db) != nil else { throw missing(queue) }
        var sql: SQLQueryString = """
            SELECT sequence, body, properties, enqueued, expires, deliverycount, deadletterreason, \
            deadletterdescription, deferred FROM conduit_bus_message WHERE queue = \(bind: queue) AND deadletter = 1
            """
        if let sequences {
            guard !sequences.isEmpty else { return [] }
            sql.appendInterpolation(sequenceCondition(sequences))
        }
        sql.appendLiteral(" ORDER BY sequence")
        return try await db.raw(sql).all()
    }

    /// ` AND sequence IN (…)`.
    private static func sequenceCondition(_ sequences: [Int64]) -> SQLQueryString {
        var sql: SQLQueryString = " AND sequence IN ("
        for (index, sequence) in sequences.enumerated() {
            if index > 0 { sql.appendLiteral(", ") }
            sql.appendInterpolation(bind: sequence)
        }
        sql.appendLiteral(")")
        return sql
    }
}

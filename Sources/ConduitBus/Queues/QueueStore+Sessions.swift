import ConduitStore
import Foundation
import SQLKit

/// A session a receiver holds: its id, the lock's token and when the lock runs out (Unix ms).
public struct SessionLock: Sendable, Hashable {
    public var sessionId: String
    public var token: UUID
    public var lockedUntil: Int64
}

extension QueueStore {
    /// Locks a session of a queue for a receiver: the one named, or (`nil`) the first session with a message ready
    /// whose lock is free. Returns `nil` when no session is free; throws ``BusError`` `.sessionLocked` when the named
    /// one is held by another receiver.
    public func acceptSession(_ queue: String, sessionId: String?, now: Int64) async throws -> SessionLock? {
        let name = queue.lowercased()
        return try await store.transaction { db in
            guard let description = try await Self.description(name, db: db) else { throw Self.missing(name) }
            guard description.isSessionful else {
                throw BusError(.badRequest, "The queue '\(name)' does not require sessions: receive without one.")
            }
            var chosen = sessionId
            if chosen == nil {
                let row = try await db.raw(
                    """
                    SELECT m.sessionid FROM conduit_bus_message m LEFT JOIN conduit_bus_session s \
                    ON s.queue = m.queue AND s.sessionid = m.sessionid WHERE m.queue = \(bind: name) \
                    AND m.deadletter = 0 AND m.deferred = 0 AND m.available <= \(bind: now) \
                    AND m.sessionid IS NOT NULL AND (s.lockeduntil IS NULL OR s.lockeduntil < \(bind: now)) \
                    ORDER BY m.sequence LIMIT 1
                    """
                ).first()
                chosen = try row?.decode(column: "sessionid", as: String.self)
            }
            guard let id = chosen else { return nil }
            let existing = try await db.raw(
                "SELECT lockeduntil FROM conduit_bus_session WHERE queue = \(bind: name) AND sessionid = \(bind: id)"
            ).first()
            if let until = try existing?.decode(column: "lockeduntil", as: Int64?.self), until >= now {
                throw BusError(
                    .sessionLocked,
                    "The session '\(id)' of '\(name)' is locked by another receiver until \(until) (Unix ms)."
                )
            }
            let token = UUID()
            let until = description.lockedUntil(now: now)
            if existing == nil {
                try await db.raw(
                    """
                    INSERT INTO conduit_bus_session (queue, sessionid, locktoken, lockeduntil, updatedon) \
                    VALUES (\(bind: name), \(bind: id), \(bind: token.uuidString), \(bind: until), \(bind: now))
                    """
                ).run()
            } else {
                try await db.raw(
                    """
                    UPDATE conduit_bus_session SET locktoken = \(bind: token.uuidString), lockeduntil = \(bind: until) \
                    WHERE queue = \(bind: name) AND sessionid = \(bind: id)
                    """
                ).run()
            }
            return SessionLock(sessionId: id, token: token, lockedUntil: until)
        }
    }

    /// Extends a session's lock by the queue's lock duration; returns the new end.
    public func renewSessionLock(_ queue: String, sessionId: String, now: Int64) async throws -> Int64 {
        let name = queue.lowercased()
        return try await store.transaction { db in
            guard let description = try await Self.description(name, db: db) else { throw Self.missing(name) }
            let until = description.lockedUntil(now: now)
            let renewed = try await db.raw(
                """
                UPDATE conduit_bus_session SET lockeduntil = \(bind: until) WHERE queue = \(bind: name) \
                AND sessionid = \(bind: sessionId) AND lockeduntil >= \(bind: now) RETURNING sessionid
                """
            ).all()
            guard !renewed.isEmpty else {
                throw BusError(.sessionLocked, "The lock of session '\(sessionId)' of '\(name)' was lost (it ran out).")
            }
            return until
        }
    }

    /// Gives a session's lock back (its receiver closed).
    public func releaseSession(_ queue: String, lock: SessionLock) async throws {
        let name = queue.lowercased()
        try await store.transaction { db in
            try await db.raw(
                """
                UPDATE conduit_bus_session SET locktoken = NULL, lockeduntil = NULL WHERE queue = \(bind: name) \
                AND sessionid = \(bind: lock.sessionId) AND locktoken = \(bind: lock.token.uuidString)
                """
            ).run()
        }
        arrivals.signal()
    }

    /// A session's state (`nil` when none was set).
    public func sessionState(_ queue: String, sessionId: String) async throws -> Data? {
        let name = queue.lowercased()
        return try await store.withDatabase { db in
            try await db.raw(
                "SELECT state FROM conduit_bus_session WHERE queue = \(bind: name) AND sessionid = \(bind: sessionId)"
            ).first()?.decode(column: "state", as: Data?.self)
        }
    }

    /// Sets (or, with `nil`, clears) a session's state.
    public func setSessionState(_ queue: String, sessionId: String, state: Data?, now: Int64) async throws {
        let name = queue.lowercased()
        try await store.transaction { db in
            let updated = try await db.raw(
                """
                UPDATE conduit_bus_session SET state = \(bind: state), updatedon = \(bind: now) \
                WHERE queue = \(bind: name) AND sessionid = \(bind: sessionId) RETURNING sessionid
                """
            ).all()
            if updated.isEmpty {
                try await db.raw(
                    """
                    INSERT INTO conduit_bus_session (queue, sessionid, state, updatedon) \
                    VALUES (\(bind: name), \(bind: sessionId), \(bind: state), \(bind: now))
                    """
                ).run()
            }
        }
    }
}

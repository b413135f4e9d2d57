import ConduitStore
import Foundation
import SQLKit
import Synchronization

/// Delivery on arrival (SQLite, one process): a message sent to a plain queue on which a peek-lock receiver of this
/// process waits is handed to that receiver as it arrives, and written locked for it in the next round of the group
/// commit; the sender's answer still waits for the commit. The receiver's settlement is queued behind that write, so
/// it applies to the stored message. If the write fails (the queue was deleted or changed meanwhile, the disk
/// failed), the sender is told so and the receiver's settlement finds no lock: the message may have been seen though
/// its send failed — at least once, never lost. A completion that comes before the round takes the write's place:
/// the message is consumed, so its row is never written (the sender is still answered after that round).
///
/// Its sequence number comes from a block reserved in the queue's row beforehand (so that sends by other paths never
/// take the same numbers; a block left over when the process stops is a gap), together with the queue's settings,
/// which the write checks again. Updating or deleting the queue through this store drops its block.
final class ArrivalDelivery: Sendable {
    /// Sequence numbers reserved at a time.
    static let blockSize: Int64 = 256
    /// How long reserved settings are used before they are read again (with a new block). Changes made through this
    /// store drop the block at once; this bounds how long a change made by another process goes unseen (the write,
    /// which checks the settings again, fails meanwhile).
    static let refresh: Duration = .seconds(10)

    struct Block: Sendable {
        var description: QueueDescription
        var createdOn: Int64
        var next: Int64
        var end: Int64
        var reservedAt: ContinuousClock.Instant
    }

    private let blocks = Mutex<[String: Block]>([:])

    /// A message handed over whose row is not written yet.
    private struct Unwritten: Sendable {
        var queue: String
        var lockedUntil: Int64
        /// Its round is writing it (a completion can no longer take its place).
        var writing = false
    }

    /// Messages handed over on arrival whose rows are not written yet, by lock token. A completion that comes first
    /// takes the write's place: the message is consumed, so nothing is stored (as brokers skip the disk for a
    /// message acknowledged before it got there).
    private let unwritten = Mutex<[UUID: Unwritten]>([:])

    /// What the current block of a queue gives a message.
    enum Taking {
        /// Its sequence number, and the settings it is handed over under.
        case sequence(Int64, Block)
        /// The queue's settings (or the message) rule delivery on arrival out; no number is taken.
        case notApplicable
        /// No usable block (none yet, used up, or older than ``refresh``).
        case noBlock
    }

    /// The next sequence number of `queue` for `message`, from the current block, if delivery on arrival applies.
    func take(_ queue: String, for message: BusMessage, now: Int64) -> Taking {
        blocks.withLock { blocks in
            guard var block = blocks[queue] else { return .noBlock }
            guard block.next < block.end, ContinuousClock.now - block.reservedAt < Self.refresh else {
                blocks[queue] = nil
                return .noBlock
            }
            guard Self.applies(to: message, in: block.description, now: now) else { return .notApplicable }
            let sequence = block.next
            block.next += 1
            blocks[queue] = block
            return .sequence(sequence, block)
        }
    }

    func store(_ block: Block, for queue: String) {
        blocks.withLock { $0[queue] = block }
    }

    func drop(_ queue: String) {
        blocks.withLock { _ = $0.removeValue(forKey: queue) }
    }

    /// Notes a message handed over (locked by `token` until `lockedUntil`) whose row its round will write.
    func handedOver(_ token: UUID, queue: String, lockedUntil: Int64) {
        unwritten.withLock { $0[token] = Unwritten(queue: queue, lockedUntil: lockedUntil) }
    }

    /// Called by the round that writes the row of `token`: `false` when a completion came first (write nothing).
    /// Once it returned `true`, a write run again after a failed shared round is still written.
    func startWrite(_ token: UUID) -> Bool {
        unwritten.withLock { unwritten in
            guard unwritten[token] != nil else { return false }
            unwritten[token]?.writing = true
            return true
        }
    }

    /// The row of `token` was written, or failed to be: forgotten.
    func written(_ token: UUID) {
        unwritten.withLock { _ = $0.removeValue(forKey: token) }
    }

    /// Completes a message of `queue` whose row is not written yet and whose lock holds at `now`: `true` when its
    /// write is cancelled (the completion is done), `false` when the row is written or being written (delete it).
    func completeUnwritten(_ token: UUID, queue: String, now: Int64) -> Bool {
        unwritten.withLock { unwritten in
            guard let entry = unwritten[token], entry.queue == queue, !entry.writing, entry.lockedUntil >= now else {
                return false
            }
            unwritten[token] = nil
            return true
        }
    }

    /// Whether a message may be handed over on arrival to a queue with these settings.
    static func applies(to message: BusMessage, in description: QueueDescription, now: Int64) -> Bool {
        !description.isSessionful && description.forwardTo == nil && description.duplicateDetectionWindowSeconds == nil
            && message.sessionId == nil && (message.scheduledEnqueueTime ?? now) <= now
    }
}

extension QueueStore {
    /// Sends one message to a plain queue by delivery on arrival (``ArrivalDelivery``) when that applies: SQLite, a
    /// peek-lock receiver of this process waiting, no sessions, forwarding, duplicate detection or schedule. Returns
    /// `false` when it does not apply (nothing was done: send it the usual way); throws when the message was handed
    /// over but could not be stored.
    func sendOnArrival(_ message: BusMessage, to entity: String, now: Int64) async throws -> Bool {
        guard store.flavor == .sqlite else { return false }
        let name = entity.lowercased()
        guard !name.contains("/"), waiters.hasWaiters(name) else { return false }
        guard let (sequence, block) = try await takeSequence(name, for: message, now: now),
            let waiter = waiters.claim(name)
        else { return false }
        let description = block.description
        let token = MessageLockToken.make(sequence: sequence)
        let until = description.lockedUntil(now: now)
        let expires = Self.expiry(of: message, in: description, now: now)
        let received = ReceivedMessage.handed(
            message,
            sequence: sequence,
            now: now,
            expires: expires,
            token: token,
            until: until
        )
        let createdOn = block.createdOn
        let arrival = self.arrival
        arrival.handedOver(token, queue: name, lockedUntil: until)
        defer { arrival.written(token) }
        do {
            try await commits.run(
                { db in
                    // Completed before its round came: consumed, nothing to store.
                    guard arrival.startWrite(token) else { return }
                    // The settings the message was handed over under must still hold.
                    let row = try await db.raw(
                        "SELECT description, createdon FROM conduit_bus_queue WHERE name = \(bind: name)"
                    ).first()
                    guard let row, try row.decode(column: "createdon", as: Int64.self) == createdOn,
                        let current = try? Self.decodedDescriptions.decode(
                            try row.decode(column: "description", as: String.self)
                        ),
                        ArrivalDelivery.applies(to: message, in: current, now: now)
                    else {
                        throw BusError(
                            .conflict,
                            "The queue '\(name)' was deleted or changed while a message was sent to it; send it again."
                        )
                    }
                    try await Self.insertRow(
                        message,
                        queue: name,
                        sequence: sequence,
                        now: now,
                        available: now,
                        expires: expires,
                        lock: (token, until),
                        db: db
                    )
                },
                queued: { waiter.deliver(received) }
            )
        } catch {
            arrival.drop(name)
            throw error
        }
        return true
    }

    /// A sequence number of `queue` for `message` and the queue's settings, reserving a new block when needed; `nil`
    /// when delivery on arrival does not apply or the queue does not exist (the usual send says so).
    private func takeSequence(
        _ name: String,
        for message: BusMessage,
        now: Int64
    ) async throws -> (Int64, ArrivalDelivery.Block)? {
        switch arrival.take(name, for: message, now: now) {
        case .sequence(let sequence, let block): return (sequence, block)
        case .notApplicable: return nil
        case .noBlock: break
        }
        let reserved: ArrivalDelivery.Block? = try await commits.run { db in
            let row = try await db.raw(
                """
                UPDATE conduit_bus_queue SET nextsequence = nextsequence + \(bind: ArrivalDelivery.blockSize) \
                WHERE name = \(bind: name) RETURNING nextsequence, createdon, description
                """
            ).first()
            guard let row else { return nil }
            let end = try row.decode(column: "nextsequence", as: Int64.self)
            return ArrivalDelivery.Block(
                description: try Self.decodedDescriptions.decode(
                    try row.decode(column: "description", as: String.self)
                ),
                createdOn: try row.decode(column: "createdon", as: Int64.self),
                next: end - ArrivalDelivery.blockSize,
                end: end,
                reservedAt: .now
            )
        }
        guard let reserved else { return nil }
        arrival.store(reserved, for: name)
        guard case .sequence(let sequence, let block) = arrival.take(name, for: message, now: now) else { return nil }
        return (sequence, block)
    }
}

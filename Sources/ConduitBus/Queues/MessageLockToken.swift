import Foundation
import SQLKit

/// Message lock tokens that carry their message's sequence number. Settling a message finds it by the table's key
/// (queue, sequence) and checks the whole token, so the bus keeps no index of lock tokens: two fewer index writes for
/// each message locked and settled.
///
/// The token is a random (version 4) UUID whose last eight bytes, under the variant bits, hold the sequence number;
/// the first eight are random. A token of another form (one handed out before migration 207) names no message.
enum MessageLockToken {
    private static let variant: UInt64 = 0x8000_0000_0000_0000
    private static let variantMask: UInt64 = 0xC000_0000_0000_0000

    /// A new token for the message `sequence` (below 2⁶²) of a queue.
    static func make(sequence: Int64) -> UUID {
        var random = SystemRandomNumberGenerator()
        let high = (random.next() as UInt64) & 0xFFFF_FFFF_FFFF_0FFF | 0x0000_0000_0000_4000
        let low = UInt64(bitPattern: sequence) & ~variantMask | variant
        var bytes = (high.bigEndian, low.bigEndian)
        return withUnsafeBytes(of: &bytes) { raw in
            UUID(uuid: raw.load(as: uuid_t.self))
        }
    }

    /// The sequence number `token` carries.
    static func sequence(of token: UUID) -> Int64 {
        let low = withUnsafeBytes(of: token.uuid) { raw in
            UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        }
        return Int64(bitPattern: low & ~variantMask)
    }

    /// `queue = … AND sequence = … AND locktoken = …`: the message of `queue` holding `token`, by its key.
    static func holder(_ queue: String, _ token: UUID) -> SQLQueryString {
        "queue = \(bind: queue) AND sequence = \(bind: sequence(of: token)) AND locktoken = \(bind: token.uuidString)"
    }
}

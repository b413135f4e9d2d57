import Foundation
import Synchronization

/// Values decoded from JSON text, kept by that text (at most ``limit``; then it starts over).
final class DecodedCache<Value: Decodable & Sendable>: Sendable {
    private let values = Mutex<[String: Value]>([:])
    /// The most texts kept.
    let limit: Int

    init(limit: Int = 4096) {
        self.limit = limit
    }

    /// The value `text` decodes to.
    func decode(_ text: String) throws -> Value {
        if let value = values.withLock({ $0[text] }) { return value }
        let value = try JSONDecoder().decode(Value.self, from: Data(text.utf8))
        values.withLock { values in
            if values.count >= limit { values.removeAll(keepingCapacity: true) }
            values[text] = value
        }
        return value
    }
}

import SQLKit
import Synchronization

/// A SQL statement built piece by piece: text, quoted identifiers and bound values. Values are always bound, never
/// spliced into the text.
struct SQLStatement: SQLExpression {
    enum Part: Sendable {
        case text(String)
        case identifier(String)
        case bind(any Encodable & Sendable)
        case expression(any SQLExpression)
    }

    private(set) var parts: [Part] = []

    init(_ text: String = "") {
        if !text.isEmpty { parts.append(.text(text)) }
    }

    mutating func append(_ text: String) { parts.append(.text(text)) }
    mutating func identifier(_ name: String) { parts.append(.identifier(name)) }
    mutating func bind(_ value: any Encodable & Sendable) { parts.append(.bind(value)) }
    mutating func expression(_ expression: any SQLExpression) { parts.append(.expression(expression)) }

    /// Appends identifiers separated by commas.
    mutating func identifiers(_ names: [String]) {
        for (index, name) in names.enumerated() {
            if index > 0 { append(", ") }
            identifier(name)
        }
    }

    mutating func append(_ other: SQLStatement) { parts.append(contentsOf: other.parts) }

    func serialize(to serializer: inout SQLSerializer) {
        for part in parts {
            switch part {
            case .text(let text): serializer.write(text)
            // Both dialects quote identifiers with `"` (as `MetadataCatalog.quote` does); SQLKit's `SQLIdentifier`
            // gives the same text, more slowly.
            case .identifier(let name): serializer.write(MetadataCatalog.quote(name))
            case .bind(let value): serializer.write(bind: value)
            case .expression(let expression): expression.serialize(to: &serializer)
            }
        }
    }
}

extension SQLDatabase {
    /// Runs a statement and returns its rows.
    func rows(_ statement: some SQLExpression) async throws -> [any SQLRow] {
        let rows = Mutex<[any SQLRow]>([])
        try await execute(sql: statement) { row in rows.withLock { $0.append(row) } }
        return rows.withLock { $0 }
    }

    /// Runs a statement that returns no rows.
    func run(_ statement: SQLStatement) async throws {
        try await execute(sql: statement) { _ in }
    }
}

/// A SQL filter or action kept as its text: it compares, hashes and prints by its text and parameters, and codes
/// as `{"expression": …, "parameters": {…}}`, parsed again when decoded, so it can be stored as its text.
public protocol SQLText: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The text, as given.
    var expression: String { get }
    /// Values for the `@name` parameters of the expression.
    var parameters: [String: PropertyValue] { get }
    /// Parses the text.
    init(_ expression: String, parameters: [String: PropertyValue]) throws(FilterError)
}

private enum SQLTextCodingKeys: String, CodingKey {
    case expression
    case parameters
}

extension SQLText {
    /// The text.
    public var description: String { expression }

    /// Equal when their text and parameters are.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.expression == rhs.expression && lhs.parameters == rhs.parameters
    }

    /// Hashes the text and parameters.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(expression)
        hasher.combine(parameters)
    }

    /// Encodes `{"expression": …, "parameters": {…}}` (parameters only when there are some).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: SQLTextCodingKeys.self)
        try container.encode(expression, forKey: .expression)
        if !parameters.isEmpty {
            try container.encode(parameters, forKey: .parameters)
        }
    }

    /// Decodes and parses again what ``encode(to:)`` wrote; a text that no longer parses is a
    /// `DecodingError.dataCorrupted` carrying the ``FilterError``.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: SQLTextCodingKeys.self)
        let expression = try container.decode(String.self, forKey: .expression)
        let parameters = try container.decodeIfPresent([String: PropertyValue].self, forKey: .parameters) ?? [:]
        do throws(FilterError) {
            try self.init(expression, parameters: parameters)
        } catch {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: container.codingPath + [SQLTextCodingKeys.expression],
                    debugDescription: error.message,
                    underlyingError: error
                )
            )
        }
    }
}

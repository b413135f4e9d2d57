/// The filter of a subscription rule, as the broker stores it: a SQL filter, a correlation filter, or one of
/// the Boolean filters (`TrueFilter`, the default rule's, and `FalseFilter`).
///
/// Coded as `{"type": "sql", "expression": …, "parameters": {…}}`, `{"type": "correlation", …the fields…}`,
/// `{"type": "true"}` or `{"type": "false"}`; a SQL filter is parsed again when decoded.
public enum RuleFilter: Sendable, Hashable, Codable {
    /// A SQL filter.
    case sql(SQLFilter)
    /// A correlation filter.
    case correlation(CorrelationFilter)
    /// Matches every message (`TrueFilter`, the same as the SQL filter `1=1`).
    case `true`
    /// Matches no message (`FalseFilter`, the same as the SQL filter `1=0`).
    case `false`

    /// Whether the message is selected, with evaluation errors reported rather than taken as no match, for a
    /// broker that dead-letters on filter evaluation exceptions.
    ///
    /// - Throws: the ``FilterError`` a SQL filter's evaluation raised.
    public func evaluate(_ message: FilteredMessage) throws(FilterError) -> Bool {
        switch self {
        case .sql(let filter): try filter.evaluate(message) == true
        case .correlation(let filter): filter.matches(message)
        case .true: true
        case .false: false
        }
    }

    /// Whether the message is selected; an evaluation error selects nothing.
    public func matches(_ message: FilteredMessage) -> Bool {
        (try? evaluate(message)) ?? false
    }

    private enum CodingKeys: String, CodingKey {
        case type
    }

    /// Encodes the filter with a `type` key beside its own fields.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .sql(let filter):
            try container.encode("sql", forKey: .type)
            try filter.encode(to: encoder)
        case .correlation(let filter):
            try container.encode("correlation", forKey: .type)
            try filter.encode(to: encoder)
        case .true:
            try container.encode("true", forKey: .type)
        case .false:
            try container.encode("false", forKey: .type)
        }
    }

    /// Decodes what ``encode(to:)`` wrote.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "sql": self = .sql(try SQLFilter(from: decoder))
        case "correlation": self = .correlation(try CorrelationFilter(from: decoder))
        case "true": self = .true
        case "false": self = .false
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type,
                in: container,
                debugDescription: "Unknown rule filter type '\(type)'."
            )
        }
    }
}

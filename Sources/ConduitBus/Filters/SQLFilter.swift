/// A SQL filter: a condition in the Service Bus subset of SQL-92, evaluated against a message's system and
/// user properties (see "Subscription Rule SQL Filter Syntax", `service-bus-messaging-sql-filter`).
///
/// ```swift
/// let filter = try SQLFilter("sys.Label LIKE '%bus%' OR user.tag IN ('queue', 'topic')")
/// filter.matches(message)
/// ```
///
/// The filter keeps its text (and parameters); equality, hashing and coding use them, and decoding parses the
/// text again, so a filter can be stored as its text.
public struct SQLFilter: SQLText {
    /// The deepest nesting of parentheses, `NOT`, unary signs and function arguments that parses.
    public static let maximumNestingDepth = SQLParser.maximumDepth

    /// The filter's text, as given.
    public let expression: String
    /// Values for the `@name` parameters of the expression (`SqlRuleFilter.Parameters`). Keys may be written
    /// with or without the `@`, and match case-insensitively.
    public let parameters: [String: PropertyValue]

    private let root: SQLNode

    /// Parses a filter expression.
    ///
    /// - Throws: a ``FilterError`` naming the offset and the offending token when the text is not a valid
    ///   condition, names an unknown system property, function or scope, uses a parameter without a value,
    ///   or nests deeper than ``maximumNestingDepth``.
    public init(_ expression: String, parameters: [String: PropertyValue] = [:]) throws(FilterError) {
        self.expression = expression
        self.parameters = parameters
        root = try SQLParser.parseFilter(expression, parameters: parameters)
    }

    /// Evaluates the condition: `true`, `false`, or `nil` when it is unknown (for example because it compares a
    /// user property the message does not have).
    ///
    /// - Throws: a ``FilterError`` when evaluation fails, as the broker's `FilterException`: operands of types
    ///   that do not combine, integer division by zero, a bad `ESCAPE` or `property()` argument.
    public func evaluate(_ message: FilteredMessage) throws(FilterError) -> Bool? {
        try SQLEvaluator(message: message).predicate(root)
    }

    /// Whether the message matches: the condition is true. Unknown and evaluation errors do not match.
    public func matches(_ message: FilteredMessage) -> Bool {
        (try? evaluate(message)) == true
    }
}

/// A SQL rule action: statements that change a selected message's properties (see "Subscription Rule SQL
/// Action Syntax", `service-bus-messaging-sql-rule-action`).
///
/// ```swift
/// let action = try SQLRuleAction("SET quantity = quantity / 2; REMOVE priority; SET sys.CorrelationId = 'low'")
/// try action.apply(to: &message)
/// ```
///
/// Statements are `SET property = expression` and `REMOVE property`; a `;` after each is optional. Only the
/// system properties the documentation does not call read-only can be set or removed (see
/// ``SystemProperty/isSettable``). Like ``SQLFilter``, an action keeps its text, and codes and compares by it.
public struct SQLRuleAction: SQLText {
    /// One parsed statement.
    enum Statement: Sendable {
        case set(PropertyReference, SQLNode, offset: Int)
        case remove(PropertyReference)
    }

    /// The action's text, as given.
    public let expression: String
    /// Values for the `@name` parameters of the expression (`SqlRuleAction.Parameters`).
    public let parameters: [String: PropertyValue]

    private let statements: [Statement]

    /// Parses an action.
    ///
    /// - Throws: a ``FilterError`` naming the offset and the offending token when the text is not a list of
    ///   `SET` and `REMOVE` statements, or when a statement targets a read-only system property.
    public init(_ expression: String, parameters: [String: PropertyValue] = [:]) throws(FilterError) {
        self.expression = expression
        self.parameters = parameters
        statements = try SQLParser.parseAction(expression, parameters: parameters)
    }

    /// Runs the statements in order on the message; each sees the changes of the ones before it.
    ///
    /// `SET` of a user property keeps the spelling of an existing name that differs only in case, and widens
    /// an integer to a double when the property held a double (C#'s implicit conversion); a value that is unknown
    /// (computed from a missing property) is stored as null. `SET` of a system property needs a value of that
    /// property's type, and null unsets it. `REMOVE` deletes the property (every spelling of a user property).
    ///
    /// - Throws: a ``FilterError`` when an expression fails to evaluate or a system property gets a value of
    ///   the wrong type; the message is then left as it was.
    public func apply(to message: inout FilteredMessage) throws(FilterError) {
        var result = message
        for statement in statements {
            switch statement {
            case .set(let reference, let node, let offset):
                let value = try SQLEvaluator(message: result).value(node)
                try result.assign(value, to: reference, offset: offset)
            case .remove(let reference):
                result.remove(reference)
            }
        }
        message = result
    }

    /// A copy of the message with the action applied.
    public func applied(to message: FilteredMessage) throws(FilterError) -> FilteredMessage {
        var copy = message
        try apply(to: &copy)
        return copy
    }
}

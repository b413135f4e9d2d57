/// A SQL filter: `<Filter i:type="SqlFilter"><SqlExpression>…</SqlExpression>…</Filter>`.
public struct SqlRuleFilter: Sendable, Hashable, SqlExpressionBody {
    /// The SQL-92-like condition over message properties, e.g. `Priority = @param1`.
    public var sqlExpression: String
    /// The expression language level; Azure only knows 20.
    public var compatibilityLevel = 20
    /// The values of the `@` parameters used in the expression.
    public var parameters: [RuleKeyValue] = []
    /// Whether the expression needs preprocessing; the SDKs send true and Azure echoes it.
    public var requiresPreprocessing = true

    /// Creates a filter from an expression.
    public init(sqlExpression: String) {
        self.sqlExpression = sqlExpression
    }
}

/// A SQL action that changes a matching message: `<Action i:type="SqlRuleAction"><SqlExpression>…`.
public struct SqlRuleAction: Sendable, Hashable, SqlExpressionBody {
    /// The action statement, e.g. `SET Priority = @param`.
    public var sqlExpression: String
    /// The expression language level; Azure only knows 20.
    public var compatibilityLevel = 20
    /// The values of the `@` parameters used in the statement.
    public var parameters: [RuleKeyValue] = []
    /// Whether the statement needs preprocessing; the SDKs send true and Azure echoes it.
    public var requiresPreprocessing = true

    /// Creates an action from a statement.
    public init(sqlExpression: String) {
        self.sqlExpression = sqlExpression
    }
}

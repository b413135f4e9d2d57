/// A parsed expression. Predicates (conditions) and value expressions share one tree; the parser checks that
/// each operator gets the kind of operand the grammar gives it.
///
/// Chains of `AND`, of `OR` and of arithmetic operators of one precedence are flat lists, so a long chain does
/// not make a deep tree: only parentheses, `NOT` and unary signs nest, and the parser caps those.
indirect enum SQLNode: Sendable {
    case literal(PropertyValue)
    case property(PropertyReference)
    case newID
    /// `property(name)` or `p(name)`.
    case propertyFunction(SQLNode, offset: Int)
    case unary(UnaryOperator, SQLNode, offset: Int)
    /// The first operand, then each further operator and operand, left to right.
    case arithmetic(SQLNode, [ArithmeticStep])
    case comparison(ComparisonOperator, SQLNode, SQLNode, offset: Int)
    case and([SQLNode])
    case or([SQLNode])
    case not(SQLNode)
    case isNull(SQLNode, negated: Bool)
    case inList(SQLNode, [SQLNode], negated: Bool, offset: Int)
    case like(SQLNode, pattern: SQLNode, escape: SQLNode?, negated: Bool, offset: Int)
    case exists(PropertyReference)

    /// `+` or `-` in front of an expression.
    enum UnaryOperator: String, Sendable {
        case plus = "+"
        case minus = "-"
    }

    /// `+ - * / %`.
    enum ArithmeticOperator: String, Sendable {
        case add = "+"
        case subtract = "-"
        case multiply = "*"
        case divide = "/"
        case remainder = "%"
    }

    /// `= <> != > >= < <=`.
    enum ComparisonOperator: String, Sendable {
        case equal = "="
        case notEqual = "<>"
        case bangEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="

        var isEquality: Bool {
            switch self {
            case .equal, .notEqual, .bangEqual: true
            case .less, .lessOrEqual, .greater, .greaterOrEqual: false
            }
        }
    }

    /// One `operator operand` of an arithmetic chain.
    struct ArithmeticStep: Sendable {
        var operation: ArithmeticOperator
        var operand: SQLNode
        var offset: Int
    }

    /// Whether the node is a condition (true, false or unknown) rather than a value.
    var isPredicate: Bool {
        switch self {
        case .comparison, .and, .or, .not, .isNull, .inList, .like, .exists: true
        case .literal, .property, .newID, .propertyFunction, .unary, .arithmetic: false
        }
    }
}

/// A precedence-climbing parser for the filter and action grammar.
///
/// Precedence, loosest first: `OR`, `AND`, `NOT`, the comparisons (`= <> != > >= < <=`, `IS [NOT] NULL`,
/// `[NOT] IN`, `[NOT] LIKE`, which do not chain), `+ -`, `* / %`, unary `+ -`. Chains of one operator level
/// are read in loops into flat nodes; only parentheses, `NOT`, unary signs and function arguments recurse,
/// ``maximumDepth`` caps them, and each level of nesting costs few, small stack frames.
struct SQLParser {
    /// The deepest nesting of parentheses, `NOT`, unary signs and function arguments that parses.
    static let maximumDepth = 64

    /// Binding strength of the binary operators, loosest first.
    enum Level: Int {
        case lowest = 0
        case or
        case and
        case not
        case comparison
        case additive
        case multiplicative
    }

    /// A binary (or postfix) operator at the current token.
    private enum Infix {
        case or
        case and
        case comparison(SQLNode.ComparisonOperator)
        case isNull
        case inList(negated: Bool)
        case like(negated: Bool)
        case arithmetic(SQLNode.ArithmeticOperator)
        /// `NOT` after a value but not before `IN` or `LIKE`.
        case misplacedNot
    }

    /// A parsed node and the index of the token it starts with, for messages about it.
    struct Parsed {
        var node: SQLNode
        var start: Int
    }

    private let tokens: [SQLToken]
    let parameters: [String: PropertyValue]
    private(set) var index = 0
    private var depth = 0

    init(_ source: String, parameters: [String: PropertyValue]) throws(FilterError) {
        tokens = try SQLLexer.tokenize(source)
        self.parameters = parameters
    }

    /// Parses a whole filter expression: one condition and nothing after it.
    static func parseFilter(_ source: String, parameters: [String: PropertyValue]) throws(FilterError) -> SQLNode {
        var parser = try SQLParser(source, parameters: parameters)
        let predicate = try parser.requirePredicate(parser.parseExpression(.lowest))
        guard parser.current.isEnd else { throw FilterError.expected("end of input", found: parser.current) }
        return predicate
    }

    // MARK: - Tokens and nesting

    /// The token at hand; the lexer always ends the list with an end token, and ``advance()`` stops there.
    var current: SQLToken { tokens[min(index, tokens.count - 1)] }

    func peek(_ distance: Int) -> SQLToken { tokens[min(index + distance, tokens.count - 1)] }

    mutating func advance() {
        if index < tokens.count - 1 {
            index += 1
        }
    }

    mutating func expect(_ symbol: SQLToken.Symbol) throws(FilterError) {
        guard current.isSymbol(symbol) else { throw FilterError.expected("'\(symbol.rawValue)'", found: current) }
        advance()
    }

    /// Counts one more level of nesting at the token of that index, failing past ``maximumDepth``.
    mutating func enter(at tokenIndex: Int) throws(FilterError) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw FilterError.tooDeep(Self.maximumDepth, at: tokens[tokenIndex]) }
    }

    mutating func leave() {
        depth -= 1
    }

    func requirePredicate(_ parsed: Parsed) throws(FilterError) -> SQLNode {
        guard parsed.node.isPredicate else { throw FilterError.expected("a condition", found: tokens[parsed.start]) }
        return parsed.node
    }

    func requireExpression(_ parsed: Parsed) throws(FilterError) -> SQLNode {
        guard !parsed.node.isPredicate else { throw FilterError.conditionNotValue(tokens[parsed.start]) }
        return parsed.node
    }

    // MARK: - Binary operators

    /// Parses an operand and every following operator that binds at least as tightly as `minimum`.
    mutating func parseExpression(_ minimum: Level) throws(FilterError) -> Parsed {
        var left = try parsePrefix()
        while let (operation, level) = infix(), level.rawValue >= minimum.rawValue {
            switch operation {
            case .or, .and:
                left = try parseLogicalChain(level: level, left: left)
            case .arithmetic:
                left = try parseArithmeticChain(level: level, left: left)
            case .comparison, .isNull, .inList, .like, .misplacedNot:
                if left.node.isPredicate {
                    return left  // comparisons do not chain
                }
                left = try parseComparison(operation, left: left)
            }
        }
        return left
    }

    private func infix() -> (Infix, Level)? {
        let token = current
        switch token.kind {
        case .keyword(.or): return (.or, .or)
        case .keyword(.and): return (.and, .and)
        case .keyword(.is): return (.isNull, .comparison)
        case .keyword(.in): return (.inList(negated: false), .comparison)
        case .keyword(.like): return (.like(negated: false), .comparison)
        case .keyword(.not):
            let next = peek(1)
            if next.isKeyword(.in) { return (.inList(negated: true), .comparison) }
            if next.isKeyword(.like) { return (.like(negated: true), .comparison) }
            return (.misplacedNot, .comparison)
        case .symbol(let symbol):
            if let comparison = SQLNode.ComparisonOperator(rawValue: symbol.rawValue) {
                return (.comparison(comparison), .comparison)
            }
            switch symbol {
            case .plus: return (.arithmetic(.add), .additive)
            case .minus: return (.arithmetic(.subtract), .additive)
            case .star: return (.arithmetic(.multiply), .multiplicative)
            case .slash: return (.arithmetic(.divide), .multiplicative)
            case .percent: return (.arithmetic(.remainder), .multiplicative)
            default: return nil
            }
        default:
            return nil
        }
    }

    /// Reads the comparison-level operator at hand and its right side.
    private mutating func parseComparison(_ operation: Infix, left: Parsed) throws(FilterError) -> Parsed {
        switch operation {
        case .comparison(let comparison):
            let leftNode = try requireExpression(left)
            let offset = current.offset
            advance()
            let right = try requireExpression(parseExpression(.additive))
            return Parsed(node: .comparison(comparison, leftNode, right, offset: offset), start: left.start)
        case .isNull:
            return try parseIsNull(left)
        case .inList(let negated):
            return try parseInList(left, negated: negated)
        case .like(let negated):
            return try parseLike(left, negated: negated)
        case .or, .and, .arithmetic, .misplacedNot:
            throw FilterError.expected("IN or LIKE", found: peek(1))
        }
    }

    /// Reads `left OR x OR y …` (or `AND`) into one flat node.
    private mutating func parseLogicalChain(level: Level, left: Parsed) throws(FilterError) -> Parsed {
        let keyword: SQLToken.Keyword = level == .or ? .or : .and
        var operands = [try requirePredicate(left)]
        while current.isKeyword(keyword) {
            advance()
            operands.append(try requirePredicate(parseExpression(level == .or ? .and : .not)))
        }
        return Parsed(node: level == .or ? .or(operands) : .and(operands), start: left.start)
    }

    /// Reads `left op x op y …` for the arithmetic operators of one level into one flat node.
    private mutating func parseArithmeticChain(level: Level, left: Parsed) throws(FilterError) -> Parsed {
        let first = try requireExpression(left)
        var steps: [SQLNode.ArithmeticStep] = []
        while case (.arithmetic(let operation), let operatorLevel)? = infix(), operatorLevel == level {
            let offset = current.offset
            advance()
            let operand = try requireExpression(level == .additive ? parseExpression(.multiplicative) : parsePrefix())
            steps.append(SQLNode.ArithmeticStep(operation: operation, operand: operand, offset: offset))
        }
        return Parsed(node: .arithmetic(first, steps), start: left.start)
    }
}

/// A recursive-descent parser of `$filter`.
///
/// ```
/// filter     = BWS or BWS
/// or         = and *( RWS "or" RWS and )
/// and        = unary *( RWS "and" RWS unary )
/// unary      = "not" RWS unary / primary              ; "not" may touch a "(" : not(…)
/// primary    = "(" BWS or BWS ")" / function / comparison
/// function   = ( "contains" / "startswith" / "endswith" ) "(" BWS operand BWS "," BWS operand BWS ")"
/// comparison = operand RWS ( "eq" / "ne" / "gt" / "ge" / "lt" / "le" ) RWS operand
/// operand    = literal / column / "@" alias
/// ```
///
/// `and` and `or` may also touch a parenthesis: `(a eq 1)and(b eq 2)`. As in OData, `not` binds tighter than a
/// comparison, so it takes a parenthesised expression or a function call: `not (a eq 1)`, `not contains(a,'x')`.
struct ODataFilterParser {
    private var scanner: ODataScanner
    private let aliases: ODataParameterAliases

    /// Parses the decoded value of `$filter`.
    static func parse(_ text: String, aliases: ODataParameterAliases) throws(ODataQueryError) -> ODataFilter {
        var parser = ODataFilterParser(scanner: ODataScanner(option: "$filter", text: text), aliases: aliases)
        return try parser.parseFilter()
    }

    private init(scanner: ODataScanner, aliases: ODataParameterAliases) {
        self.scanner = scanner
        self.aliases = aliases
    }

    private mutating func parseFilter() throws(ODataQueryError) -> ODataFilter {
        scanner.skipWhitespace()
        let filter = try parseOr(depth: 0, after: nil)
        scanner.skipWhitespace()
        guard scanner.isAtEnd else { throw unexpectedAfterExpression(closing: false) }
        return filter
    }

    private mutating func parseOr(depth: Int, after: String?) throws(ODataQueryError) -> ODataFilter {
        var terms = [try parseAnd(depth: depth, after: after)]
        while try takeKeyword("or") {
            terms.append(try parseAnd(depth: depth, after: "or"))
        }
        return Self.balanced(terms[...], ODataFilter.or)
    }

    private mutating func parseAnd(depth: Int, after: String?) throws(ODataQueryError) -> ODataFilter {
        var terms = [try parseUnary(depth: depth, after: after)]
        while try takeKeyword("and") {
            terms.append(try parseUnary(depth: depth, after: "and"))
        }
        return Self.balanced(terms[...], ODataFilter.and)
    }

    private mutating func parseUnary(depth: Int, after: String?) throws(ODataQueryError) -> ODataFilter {
        guard depth <= ODataQueryOptions.maximumNestingDepth else {
            throw scanner.error(
                "expressions are nested deeper than \(ODataQueryOptions.maximumNestingDepth) levels",
                at: scanner.position
            )
        }
        guard isAtNot else { return try parsePrimary(depth: depth, after: after) }
        scanner.position += 3
        scanner.skipWhitespace()
        guard !scanner.isAtEnd else {
            throw scanner.error("expected an expression after 'not'", at: scanner.position)
        }
        guard isAtNot || scanner.peek() == "(" || isAtCall else {
            throw scanner.error("expected '(' or a function call after 'not'", at: scanner.position)
        }
        return .not(try parseUnary(depth: depth + 1, after: "not"))
    }

    private mutating func parsePrimary(depth: Int, after: String?) throws(ODataQueryError) -> ODataFilter {
        guard scanner.peek() == "(" else {
            return isAtCall ? try parseFunction() : try parseComparison(after: after)
        }
        scanner.position += 1
        scanner.skipWhitespace()
        let inner = try parseOr(depth: depth + 1, after: nil)
        scanner.skipWhitespace()
        guard scanner.peek() == ")" else { throw unexpectedAfterExpression(closing: true) }
        scanner.position += 1
        return inner
    }

    /// `contains(name,'x')`, `startswith(…)`, `endswith(…)`.
    private mutating func parseFunction() throws(ODataQueryError) -> ODataFilter {
        let start = scanner.position
        let name = (scanner.identifier() ?? "") + scanner.qualifiedNameRest()
        guard let function = ODataStringFunction(rawValue: name), scanner.peek() == "(" else {
            throw scanner.callError(name, at: start)
        }
        scanner.position += 1
        scanner.skipWhitespace()
        let columnStart = scanner.position
        let expectedColumn = "expected a column name as the first argument of '\(name)'"
        let column: String
        if scanner.peek() == "@" {
            column = try aliases.column(try scanner.aliasName(), in: scanner, at: columnStart)
        } else if case .property(let property) = try scanner.operand(expected: expectedColumn) {
            column = property
        } else {
            throw scanner.error(expectedColumn, at: columnStart)
        }
        scanner.skipWhitespace()
        guard scanner.peek() == "," else {
            throw scanner.error("expected ',' after the first argument of '\(name)'", at: scanner.position)
        }
        scanner.position += 1
        scanner.skipWhitespace()
        let valueStart = scanner.position
        let expectedString = "expected a string as the second argument of '\(name)'"
        guard case .literal(.string(let value)) = try parseOperand(expected: expectedString) else {
            throw scanner.error(expectedString, at: valueStart)
        }
        scanner.skipWhitespace()
        guard scanner.peek() == ")" else {
            throw scanner.error("expected ')' to close '\(name)('", at: scanner.position)
        }
        scanner.position += 1
        return .function(function, property: column, value)
    }

    /// `operand op operand`, with the column moved to the left.
    private mutating func parseComparison(after: String?) throws(ODataQueryError) -> ODataFilter {
        let leftStart = scanner.position
        let left = try parseOperand(expected: Self.expectedExpression(after: after))
        let leftEnd = scanner.position
        let leftText = scanner.excerpt(leftStart..<leftEnd)
        scanner.skipWhitespace()
        let operatorStart = scanner.position
        let word = scanner.word()
        guard let comparison = ODataComparison(rawValue: word) else {
            if word.isEmpty, scanner.peek() == "(", case .property(let name) = left,
                ODataStringFunction(rawValue: name) != nil || ODataScanner.unsupportedFunctions.contains(name)
            {
                throw scanner.error("no space is allowed between '\(name)' and '('", at: leftEnd)
            }
            if Self.isUnsupportedOperator(word) {
                throw scanner.error("operator '\(word)' is not supported yet", at: operatorStart)
            }
            if let lowercase = ODataScanner.lowercaseKeyword(word), ODataComparison(rawValue: lowercase) != nil {
                throw scanner.error("'\(word)' must be lowercase ('\(lowercase)')", at: operatorStart)
            }
            throw scanner.error(
                "expected an operator (eq, ne, gt, ge, lt, le) after '\(leftText)'",
                at: operatorStart
            )
        }
        scanner.position += word.unicodeScalars.count
        let spacesAfter = scanner.skipWhitespace()
        let expected = "expected a value after '\(word)'"
        guard !scanner.isAtEnd else { throw scanner.error(expected, at: scanner.position) }
        guard spacesAfter > 0 else {
            throw scanner.error("expected a space after '\(word)'", at: scanner.position)
        }
        let right = try parseOperand(expected: expected)
        switch (left, right) {
        case (.property(let column), .literal(let value)):
            return .compare(property: column, comparison, value)
        case (.literal(let value), .property(let column)):
            return .compare(property: column, comparison.mirrored, value)
        case (.property, .property):
            throw scanner.error("comparing two columns is not supported yet", at: leftStart)
        case (.literal, .literal):
            throw scanner.error("a comparison needs a column on one side", at: leftStart)
        }
    }

    /// A literal, a column, or a parameter alias resolved to one of them.
    private mutating func parseOperand(expected: String) throws(ODataQueryError) -> ODataOperand {
        guard scanner.peek() == "@" else { return try scanner.operand(expected: expected) }
        let name = try scanner.aliasName()
        if let next = scanner.peek(), !scanner.isAtValueBoundary {
            throw scanner.error("unexpected character \(ODataScanner.describe(next))", at: scanner.position)
        }
        return try aliases.operand(name)
    }

    /// Consumes `keyword` and the whitespace around it if it comes next, or leaves the cursor where it is. Whatever
    /// precedes it ends at whitespace or `)`, as every operand ends at whitespace, `)`, `,` or the end.
    private mutating func takeKeyword(_ keyword: String) throws(ODataQueryError) -> Bool {
        let start = scanner.position
        scanner.skipWhitespace()
        guard scanner.isAtWord(keyword) else {
            scanner.position = start
            return false
        }
        scanner.position += keyword.unicodeScalars.count
        let spacesAfter = scanner.skipWhitespace()
        guard !scanner.isAtEnd else {
            throw scanner.error("expected an expression after '\(keyword)'", at: scanner.position)
        }
        guard spacesAfter > 0 || scanner.peek() == "(" else {
            throw scanner.error("expected a space after '\(keyword)'", at: scanner.position)
        }
        return true
    }

    /// Whether the operator `not` is at the cursor: the word, then whitespace, `(` or the end.
    private var isAtNot: Bool {
        guard scanner.isAtWord("not") else { return false }
        guard let next = scanner.peek(3) else { return true }
        return ODataScanner.isWhitespace(next) || next == "("
    }

    /// Whether a function call is at the cursor: a name followed by `(`, or a qualified name.
    private var isAtCall: Bool {
        let word = scanner.word()
        guard let first = word.unicodeScalars.first, ODataScanner.isIdentifierStart(first) else { return false }
        let next = scanner.peek(word.unicodeScalars.count)
        return next == "(" || next == "."
    }

    /// The error for what follows a complete expression when it is not `and`, `or`, or (when `closing`) `)`.
    private func unexpectedAfterExpression(closing: Bool) -> ODataQueryError {
        let position = scanner.position
        let word = scanner.word()
        if let lowercase = ODataScanner.lowercaseKeyword(word), lowercase == "and" || lowercase == "or" {
            return scanner.error("'\(word)' must be lowercase ('\(lowercase)')", at: position)
        }
        if Self.isUnsupportedOperator(word) {
            return scanner.error("operator '\(word)' is not supported yet", at: position)
        }
        if closing {
            return scanner.error("expected 'and', 'or' or ')'", at: position)
        }
        if scanner.peek() == ")" {
            return scanner.error("unexpected ')'", at: position)
        }
        return scanner.error("expected 'and', 'or' or the end of the expression", at: position)
    }

    private static func isUnsupportedOperator(_ word: String) -> Bool {
        ODataScanner.unsupportedOperators.contains(word)
    }

    private static func expectedExpression(after keyword: String?) -> String {
        keyword.map { "expected an expression after '\($0)'" } ?? "expected an expression"
    }

    /// The terms joined by `combine` into a balanced, left-leaning tree: its depth grows with the logarithm of the
    /// number of terms.
    private static func balanced(
        _ terms: ArraySlice<ODataFilter>,
        _ combine: (ODataFilter, ODataFilter) -> ODataFilter
    ) -> ODataFilter {
        guard terms.count > 1 else { return terms[terms.startIndex] }
        let middle = terms.startIndex + (terms.count + 1) / 2
        return combine(balanced(terms[..<middle], combine), balanced(terms[middle...], combine))
    }
}

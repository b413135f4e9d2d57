/// Rule actions: `SET property = expression` and `REMOVE property`, each optionally ended by `;`.
extension SQLParser {
    /// Parses a whole action: one statement or more, and nothing else.
    static func parseAction(
        _ source: String,
        parameters: [String: PropertyValue]
    ) throws(FilterError) -> [SQLRuleAction.Statement] {
        var parser = try SQLParser(source, parameters: parameters)
        var statements: [SQLRuleAction.Statement] = []
        while true {
            while parser.current.isSymbol(.semicolon) {
                parser.advance()
            }
            if parser.current.isEnd, !statements.isEmpty {
                return statements
            }
            statements.append(try parser.parseStatement())
            let next = parser.current
            guard next.isEnd || next.isSymbol(.semicolon) || Self.statementKeyword(next) != nil else {
                throw FilterError.expected("';' or end of input", found: next)
            }
        }
    }

    private enum StatementKeyword {
        case set
        case remove
    }

    private static func statementKeyword(_ token: SQLToken) -> StatementKeyword? {
        guard case .identifier(let word) = token.kind else { return nil }
        switch word.uppercased() {
        case "SET": return .set
        case "REMOVE": return .remove
        default: return nil
        }
    }

    private mutating func parseStatement() throws(FilterError) -> SQLRuleAction.Statement {
        guard let keyword = Self.statementKeyword(current) else {
            throw FilterError.expected("SET or REMOVE", found: current)
        }
        advance()
        let target = current
        let reference = try parsePropertyReference()
        if case .system(let property) = reference, !property.isSettable {
            throw FilterError(
                .readOnlyProperty,
                "System property '\(property.name)' at offset \(target.offset) is read-only.",
                offset: target.offset,
                token: target.text
            )
        }
        switch keyword {
        case .remove:
            return .remove(reference)
        case .set:
            let equal = current
            try expect(.equal)
            let value = try requireExpression(parseExpression(.additive))
            return .set(reference, value, offset: equal.offset)
        }
    }
}

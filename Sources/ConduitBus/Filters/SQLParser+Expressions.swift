/// Operands: prefix operators, parentheses, constants, parameters, properties, functions, and the postfix
/// forms of the comparison level (`IS NULL`, `IN`, `LIKE`).
extension SQLParser {
    /// Parses `NOT x`, `-x`, `+x`, `(x)`, a function call or an atom. The functions on the way down through
    /// nesting are kept small, as each level of nesting puts them on the stack again.
    mutating func parsePrefix() throws(FilterError) -> Parsed {
        switch current.kind {
        case .keyword(.not): try parseNot()
        case .symbol(.plus), .symbol(.minus): try parseSigned()
        case .symbol(.leftParenthesis): try parseParenthesized()
        case .identifier where peek(1).isSymbol(.leftParenthesis): try parseFunction()
        default: try parseAtom()
        }
    }

    private mutating func parseNot() throws(FilterError) -> Parsed {
        let start = index
        advance()
        try enter(at: start)
        let operand = try requirePredicate(parseExpression(.comparison))
        leave()
        return Parsed(node: .not(operand), start: start)
    }

    private mutating func parseSigned() throws(FilterError) -> Parsed {
        let start = index
        let minus = current.isSymbol(.minus)
        let offset = current.offset
        advance()
        try enter(at: start)
        let operand = try requireExpression(parsePrefix())
        leave()
        return Parsed(node: Self.signed(operand, minus: minus, offset: offset), start: start)
    }

    private mutating func parseParenthesized() throws(FilterError) -> Parsed {
        let start = index
        advance()
        try enter(at: start)
        let inner = try parseExpression(.lowest)
        try expect(.rightParenthesis)
        leave()
        return Parsed(node: inner.node, start: start)
    }

    /// `-x` of a number constant is a constant; any other sign is an operator.
    private static func signed(_ operand: SQLNode, minus: Bool, offset: Int) -> SQLNode {
        switch (minus, operand) {
        case (true, .literal(.int64(let value))): .literal(.int64(0 &- value))
        case (true, .literal(.double(let value))): .literal(.double(-value))
        default: .unary(minus ? .minus : .plus, operand, offset: offset)
        }
    }

    /// Parses a constant, a parameter, `EXISTS (property)` or a property; never recurses.
    private mutating func parseAtom() throws(FilterError) -> Parsed {
        let start = index
        let token = current
        let node: SQLNode
        switch token.kind {
        case .integer(let value): node = .literal(.int64(value))
        case .decimal(let value): node = .literal(.double(value))
        case .string(let value): node = .literal(.string(value))
        case .keyword(.true): node = .literal(.bool(true))
        case .keyword(.false): node = .literal(.bool(false))
        case .keyword(.null): node = .literal(.null)
        case .parameter(let name): node = .literal(try parameter(name, token: token))
        case .keyword(.exists):
            advance()
            try expect(.leftParenthesis)
            let reference = try parsePropertyReference()
            try expect(.rightParenthesis)
            return Parsed(node: .exists(reference), start: start)
        case .identifier, .quotedIdentifier:
            return Parsed(node: .property(try parsePropertyReference()), start: start)
        default:
            throw FilterError.expected("an expression", found: token)
        }
        advance()
        return Parsed(node: node, start: start)
    }

    /// Reads `IS [NOT] NULL`; the current token is `IS`.
    mutating func parseIsNull(_ left: Parsed) throws(FilterError) -> Parsed {
        let operand = try requireExpression(left)
        advance()
        var negated = false
        if current.isKeyword(.not) {
            negated = true
            advance()
        }
        guard current.isKeyword(.null) else { throw FilterError.expected("NULL", found: current) }
        advance()
        return Parsed(node: .isNull(operand, negated: negated), start: left.start)
    }

    /// Reads `[NOT] IN (x, …)`; the current token is `NOT` or `IN`.
    mutating func parseInList(_ left: Parsed, negated: Bool) throws(FilterError) -> Parsed {
        let operand = try requireExpression(left)
        if negated {
            advance()
        }
        let offset = current.offset
        advance()
        let open = index
        try expect(.leftParenthesis)
        try enter(at: open)
        var items = [try requireExpression(parseExpression(.additive))]
        while current.isSymbol(.comma) {
            advance()
            items.append(try requireExpression(parseExpression(.additive)))
        }
        try expect(.rightParenthesis)
        leave()
        return Parsed(node: .inList(operand, items, negated: negated, offset: offset), start: left.start)
    }

    /// Reads `[NOT] LIKE pattern [ESCAPE char]`; the current token is `NOT` or `LIKE`.
    mutating func parseLike(_ left: Parsed, negated: Bool) throws(FilterError) -> Parsed {
        let operand = try requireExpression(left)
        if negated {
            advance()
        }
        let token = current
        advance()
        let pattern = try requireExpression(parseExpression(.additive))
        var escape: SQLNode?
        if current.isKeyword(.escape) {
            advance()
            let escapeStart = current
            let escapeNode = try requireExpression(parseExpression(.additive))
            if case .literal(.string(let text)) = escapeNode, text.count != 1 {
                throw FilterError.badEscape(escapeStart)
            }
            escape = escapeNode
        }
        return Parsed(
            node: .like(operand, pattern: pattern, escape: escape, negated: negated, offset: token.offset),
            start: left.start
        )
    }

    /// Reads `[scope .] name`, where the scope is `sys` or `user` and the default is `user`.
    mutating func parsePropertyReference() throws(FilterError) -> PropertyReference {
        let first = current
        guard let firstName = first.identifierName else { throw FilterError.expected("a property name", found: first) }
        advance()
        guard current.isSymbol(.dot) else { return .user(firstName) }
        advance()
        let nameToken = current
        guard let name = nameToken.identifierName else {
            throw FilterError.expected("a property name", found: nameToken)
        }
        advance()
        switch firstName.lowercased() {
        case "sys":
            guard let property = SystemProperty(name: name) else { throw FilterError.unknownSystemProperty(nameToken) }
            return .system(property)
        case "user":
            return .user(name)
        default:
            throw FilterError.unknownScope(first)
        }
    }

    /// Reads `newid()`, `property(expression)` or `p(expression)`; the current token is the name.
    private mutating func parseFunction() throws(FilterError) -> Parsed {
        let start = index
        let token = current
        switch token.text.lowercased() {
        case "newid":
            advance()
            try expect(.leftParenthesis)
            try expect(.rightParenthesis)
            return Parsed(node: .newID, start: start)
        case "property", "p":
            advance()
            try expect(.leftParenthesis)
            try enter(at: start)
            let argument = try requireExpression(parseExpression(.additive))
            try expect(.rightParenthesis)
            leave()
            return Parsed(node: .propertyFunction(argument, offset: token.offset), start: start)
        default:
            throw FilterError.unknownFunction(token.text, at: token)
        }
    }

    /// The value of an `@parameter`: its name is matched case-insensitively, with or without the `@`.
    private func parameter(_ name: String, token: SQLToken) throws(FilterError) -> PropertyValue {
        if let value = parameters[name] ?? parameters[String(name.dropFirst())] {
            return value
        }
        let lowercased = name.lowercased()
        for (key, value) in parameters.sorted(by: { $0.key < $1.key })
        where key.lowercased() == lowercased || "@" + key.lowercased() == lowercased {
            return value
        }
        throw FilterError.missingParameter(name, at: token)
    }
}

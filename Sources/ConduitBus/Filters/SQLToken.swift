/// One token of a filter or action expression, with the text it was read from and where.
struct SQLToken: Sendable {
    /// What the token is.
    enum Kind: Sendable, Equatable {
        /// A regular identifier (letters, digits, underscores; not a keyword).
        case identifier(String)
        /// A `[delimited]` or `"quoted"` identifier, unescaped; never a keyword.
        case quotedIdentifier(String)
        /// A reserved word.
        case keyword(Keyword)
        /// A `'string'` constant, unescaped.
        case string(String)
        /// An integer constant.
        case integer(Int64)
        /// A decimal or scientific-notation constant.
        case decimal(Double)
        /// An `@parameter`, with its `@`.
        case parameter(String)
        /// An operator or punctuation.
        case symbol(Symbol)
        /// The end of the input.
        case end
    }

    /// The reserved words (case-insensitive).
    enum Keyword: String, Sendable, CaseIterable {
        case and = "AND"
        case or = "OR"
        case not = "NOT"
        case `in` = "IN"
        case like = "LIKE"
        case escape = "ESCAPE"
        case `is` = "IS"
        case null = "NULL"
        case exists = "EXISTS"
        case `true` = "TRUE"
        case `false` = "FALSE"
    }

    /// Operators and punctuation.
    enum Symbol: String, Sendable {
        case equal = "="
        case notEqual = "<>"
        case bangEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
        case plus = "+"
        case minus = "-"
        case star = "*"
        case slash = "/"
        case percent = "%"
        case leftParenthesis = "("
        case rightParenthesis = ")"
        case comma = ","
        case dot = "."
        case semicolon = ";"
    }

    var kind: Kind
    /// The token as written.
    var text: String
    /// Where it starts, in characters from 0.
    var offset: Int

    var isEnd: Bool { kind == .end }

    /// How error messages show it: quoted text, or "end of input".
    var display: String { isEnd ? "end of input" : "'\(text)'" }

    func isKeyword(_ keyword: Keyword) -> Bool {
        kind == .keyword(keyword)
    }

    func isSymbol(_ symbol: Symbol) -> Bool {
        kind == .symbol(symbol)
    }

    /// The name of a regular, delimited or quoted identifier.
    var identifierName: String? {
        switch kind {
        case .identifier(let name), .quotedIdentifier(let name): name
        default: nil
        }
    }
}

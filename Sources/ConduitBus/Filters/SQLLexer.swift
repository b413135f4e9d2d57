/// Splits an expression into tokens, in one pass.
struct SQLLexer {
    private let characters: [Character]
    private var position = 0

    private init(_ source: String) {
        characters = Array(source)
    }

    /// All tokens of the source, ending with an ``SQLToken/Kind/end`` token.
    static func tokenize(_ source: String) throws(FilterError) -> [SQLToken] {
        var lexer = SQLLexer(source)
        var tokens: [SQLToken] = []
        while true {
            let token = try lexer.next()
            tokens.append(token)
            if token.isEnd { return tokens }
        }
    }

    private var current: Character? { position < characters.count ? characters[position] : nil }

    private func character(at index: Int) -> Character? {
        index < characters.count ? characters[index] : nil
    }

    private func text(from start: Int) -> String {
        String(characters[start..<position])
    }

    private mutating func next() throws(FilterError) -> SQLToken {
        while let character = current, character.isWhitespace {
            position += 1
        }
        let start = position
        guard let character = current else {
            return SQLToken(kind: .end, text: "", offset: start)
        }
        if character.isLetter {
            return identifierOrKeyword()
        }
        if character.isASCIIDigit || (character == "." && self.character(at: position + 1)?.isASCIIDigit == true) {
            return try number()
        }
        switch character {
        case "'":
            let value = try delimited(closing: "'", what: "string literal")
            return SQLToken(kind: .string(value), text: text(from: start), offset: start)
        case "[":
            let name = try delimited(closing: "]", what: "delimited identifier")
            return try identifierToken(name, start: start)
        case "\"":
            let name = try delimited(closing: "\"", what: "quoted identifier")
            return try identifierToken(name, start: start)
        case "@":
            position += 1
            while let next = current, next.isIdentifierPart {
                position += 1
            }
            guard position > start + 1 else { throw unexpected(character, at: start) }
            let name = text(from: start)
            return SQLToken(kind: .parameter(name), text: name, offset: start)
        default:
            return try symbol(character, start: start)
        }
    }

    private mutating func identifierOrKeyword() -> SQLToken {
        let start = position
        position += 1
        while let next = current, next.isIdentifierPart {
            position += 1
        }
        let name = text(from: start)
        if let keyword = SQLToken.Keyword(rawValue: name.uppercased()) {
            return SQLToken(kind: .keyword(keyword), text: name, offset: start)
        }
        return SQLToken(kind: .identifier(name), text: name, offset: start)
    }

    private func identifierToken(_ name: String, start: Int) throws(FilterError) -> SQLToken {
        let written = text(from: start)
        guard !name.isEmpty else {
            throw FilterError(
                .syntax,
                "Empty property name \(written) at offset \(start).",
                offset: start,
                token: written
            )
        }
        return SQLToken(kind: .quotedIdentifier(name), text: written, offset: start)
    }

    /// Reads a literal that ends at `closing`, where a doubled `closing` stands for one.
    private mutating func delimited(closing: Character, what: String) throws(FilterError) -> String {
        let start = position
        position += 1
        var value = ""
        while let character = current {
            position += 1
            if character == closing {
                guard current == closing else { return value }
                position += 1
            }
            value.append(character)
        }
        throw FilterError(
            .syntax,
            "Unterminated \(what) starting at offset \(start).",
            offset: start,
            token: text(from: start)
        )
    }

    private mutating func number() throws(FilterError) -> SQLToken {
        let start = position
        var isInteger = true
        skipDigits()
        if current == ".", character(at: position + 1)?.isASCIIDigit == true {
            isInteger = false
            position += 1
            skipDigits()
        }
        if current == "e" || current == "E" {
            isInteger = false
            position += 1
            if current == "+" || current == "-" {
                position += 1
            }
            guard current?.isASCIIDigit == true else { throw invalidNumber(start: start) }
            skipDigits()
        }
        if current == "." {
            throw invalidNumber(start: start)
        }
        let written = text(from: start)
        if isInteger {
            guard let value = Int64(written) else { throw outOfRange(written, start: start, what: "Integer") }
            return SQLToken(kind: .integer(value), text: written, offset: start)
        }
        guard let value = Double(written), value.isFinite else {
            throw outOfRange(written, start: start, what: "Number")
        }
        return SQLToken(kind: .decimal(value), text: written, offset: start)
    }

    private mutating func skipDigits() {
        while current?.isASCIIDigit == true {
            position += 1
        }
    }

    private mutating func symbol(_ character: Character, start: Int) throws(FilterError) -> SQLToken {
        position += 1
        let next = current
        let symbol: SQLToken.Symbol
        switch character {
        case "=": symbol = .equal
        case "<":
            if next == ">" {
                symbol = .notEqual
            } else if next == "=" {
                symbol = .lessOrEqual
            } else {
                symbol = .less
            }
        case ">": symbol = next == "=" ? .greaterOrEqual : .greater
        case "!":
            guard next == "=" else { throw unexpected(character, at: start) }
            symbol = .bangEqual
        case "+": symbol = .plus
        case "-": symbol = .minus
        case "*": symbol = .star
        case "/": symbol = .slash
        case "%": symbol = .percent
        case "(": symbol = .leftParenthesis
        case ")": symbol = .rightParenthesis
        case ",": symbol = .comma
        case ".": symbol = .dot
        case ";": symbol = .semicolon
        default: throw unexpected(character, at: start)
        }
        position = start + symbol.rawValue.count
        return SQLToken(kind: .symbol(symbol), text: symbol.rawValue, offset: start)
    }

    private func unexpected(_ character: Character, at offset: Int) -> FilterError {
        FilterError(
            .syntax,
            "Unexpected character '\(character)' at offset \(offset).",
            offset: offset,
            token: String(character)
        )
    }

    private mutating func invalidNumber(start: Int) -> FilterError {
        while let next = current, next.isIdentifierPart || next == "." {
            position += 1
        }
        let written = text(from: start)
        return FilterError(.syntax, "Invalid number '\(written)' at offset \(start).", offset: start, token: written)
    }

    private func outOfRange(_ written: String, start: Int, what: String) -> FilterError {
        FilterError(
            .syntax,
            "\(what) constant '\(written)' at offset \(start) is out of range.",
            offset: start,
            token: written
        )
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool {
        isASCII && isWholeNumber
    }

    /// `[_[:IsLetter:][:IsDigit:]]`: what may follow the first letter of a regular identifier.
    fileprivate var isIdentifierPart: Bool {
        if self == "_" || isLetter {
            return true
        }
        return unicodeScalars.count == 1 && unicodeScalars.allSatisfy { $0.properties.numericType == .decimal }
    }
}

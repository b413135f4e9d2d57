/// Values: literals of every supported type, and column names used as values.
extension ODataScanner {
    /// Consumes a literal or a column name. `expected` is the complaint when neither is at the cursor, e.g.
    /// "expected a value after 'eq'". Parameter aliases (`@p1`) are for the caller to resolve.
    mutating func operand(expected: String) throws(ODataQueryError) -> ODataOperand {
        let start = position
        guard let first = peek() else { throw error(expected, at: start) }
        if first == "'" {
            let value = try stringLiteral()
            if let next = peek(), !isAtValueBoundary {
                let word = word()
                if Self.keywords.contains(word) || Self.unsupportedOperators.contains(word) {
                    throw error("expected a space before '\(word)'", at: position)
                }
                throw error(
                    "unexpected character \(Self.describe(next)) after a string (a quote inside a string is written '')",
                    at: position
                )
            }
            return .literal(.string(value))
        }
        if let guid = try guidLiteral() {
            return .literal(.guid(guid))
        }
        if Self.isIdentifierStart(first) {
            return try nameOperand()
        }
        if Self.isDigit(first) || first == "-" || first == "+" {
            if number(at: start, digits: 4) != nil, peek(4) == "-" {
                return .literal(try dateLiteral())
            }
            return .literal(try numberLiteral())
        }
        throw error(expected, at: start)
    }

    /// A word used as a value: `true`, `false`, `null` or a column name.
    private mutating func nameOperand() throws(ODataQueryError) -> ODataOperand {
        let start = position
        guard let name = try columnName() else { throw error("expected a column name", at: start) }
        let keyword: ODataLiteral? =
            switch name {
            case "true": .boolean(true)
            case "false": .boolean(false)
            case "null": .null
            default: nil
            }
        if keyword == nil {
            try checkColumnName(name, at: start)
        }
        if let next = peek(), !isAtValueBoundary {
            throw error("unexpected character \(Self.describe(next))", at: position)
        }
        return keyword.map(ODataOperand.literal) ?? .property(name)
    }

    /// Rejects a word at `start` that reads as a column name but is something Conduit does not support.
    private mutating func checkColumnName(_ name: String, at start: Int) throws(ODataQueryError) {
        if name == "INF" || name == "NaN" {
            throw error("'\(name)' is not supported", at: start)
        }
        if peek() == "'" {
            throw error("typed literals such as \(name)'…' are not supported", at: start)
        }
        if peek() == "." {
            let qualified = name + qualifiedNameRest()
            throw callError(qualified, at: start)
        }
        if peek() == "(" {
            throw callError(name, at: start)
        }
        if let lowercase = Self.lowercaseKeyword(name) {
            throw error("'\(name)' must be lowercase ('\(lowercase)')", at: start)
        }
    }

    /// Consumes `'…'`, where `''` stands for one quote, and returns the text between the quotes.
    mutating func stringLiteral() throws(ODataQueryError) -> String {
        let start = position
        position += 1
        var value = String.UnicodeScalarView()
        while let scalar = peek() {
            position += 1
            if scalar != "'" {
                value.append(scalar)
            } else if peek() == "'" {
                value.append(scalar)
                position += 1
            } else {
                return String(value)
            }
        }
        throw error("unterminated string starting", at: start)
    }

    /// Consumes an unquoted 8-4-4-4-12 guid if one is at the cursor, and returns it lowercased.
    mutating func guidLiteral() throws(ODataQueryError) -> String? {
        guard position + 36 <= text.count else { return nil }
        for offset in 0..<36 {
            let scalar = text[position + offset]
            let isDash = offset == 8 || offset == 13 || offset == 18 || offset == 23
            guard isDash ? scalar == "-" : Self.isHexDigit(scalar) else { return nil }
        }
        let start = position
        position += 36
        guard isAtValueBoundary else {
            throw error("invalid guid '\(excerpt(from: start))'", at: start)
        }
        return string(start..<position).lowercased()
    }

    /// Consumes a number: `[+|-]digits[.digits][(e|E)[+|-]digits]`.
    private mutating func numberLiteral() throws(ODataQueryError) -> ODataLiteral {
        let start = position
        if peek() == "-" || peek() == "+" { position += 1 }
        var isInteger = true
        guard skipDigits() > 0 else {
            throw error("invalid number '\(excerpt(from: start))'", at: start)
        }
        if peek() == ".", let next = peek(1), Self.isDigit(next) {
            position += 1
            skipDigits()
            isInteger = false
        }
        if peek() == "e" || peek() == "E" {
            let signLength = peek(1) == "+" || peek(1) == "-" ? 1 : 0
            if let next = peek(1 + signLength), Self.isDigit(next) {
                position += 1 + signLength
                skipDigits()
                isInteger = false
            }
        }
        guard isAtValueBoundary else {
            throw error("invalid number '\(excerpt(from: start))'", at: start)
        }
        let text = string(start..<position)
        if isInteger, let value = Int64(text) { return .integer(value) }
        return .decimal(text)
    }

    /// Consumes `YYYY-MM-DD`, or a date and time `YYYY-MM-DDThh:mm[:ss[.fraction]]` with `Z` or `±hh:mm`. As in the
    /// OData ABNF, `T` and `Z` may be lowercase; the text kept has them uppercase.
    private mutating func dateLiteral() throws(ODataQueryError) -> ODataLiteral {
        let start = position
        guard let year = number(at: start, digits: 4), let month = number(at: start + 5, digits: 2),
            peek(7) == "-", let day = number(at: start + 8, digits: 2),
            (1...12).contains(month), (1...Self.days(inMonth: month, year: year)).contains(day)
        else {
            throw error("invalid date '\(excerpt(from: start))'", at: start)
        }
        position += 10
        guard peek() == "T" || peek() == "t" else {
            guard isAtValueBoundary else {
                throw error("invalid date '\(excerpt(from: start))'", at: start)
            }
            return .date(string(start..<position))
        }
        position += 1
        guard timeOfDay() else {
            throw error("invalid date-time '\(excerpt(from: start))'", at: start)
        }
        if peek() == "Z" || peek() == "z" {
            position += 1
        } else if peek() == "+" || peek() == "-" {
            guard let hours = number(at: position + 1, digits: 2), hours < 24, peek(3) == ":",
                let minutes = number(at: position + 4, digits: 2), minutes < 60
            else {
                throw error("invalid date-time '\(excerpt(from: start))'", at: start)
            }
            position += 6
        } else if isAtValueBoundary {
            throw error(
                "the date-time '\(excerpt(start..<position))' needs a time zone: 'Z' or an offset (write '+' as %2B)",
                at: start
            )
        }
        guard isAtValueBoundary else {
            throw error("invalid date-time '\(excerpt(from: start))'", at: start)
        }
        return .dateTime(string(start..<position).uppercased())
    }

    /// Consumes `hh:mm[:ss[.fraction]]`; false when the text there is not a time of day.
    private mutating func timeOfDay() -> Bool {
        guard let hours = number(at: position, digits: 2), hours < 24, peek(2) == ":",
            let minutes = number(at: position + 3, digits: 2), minutes < 60
        else { return false }
        position += 5
        guard peek() == ":" else { return true }
        guard let seconds = number(at: position + 1, digits: 2), seconds < 60 else { return false }
        position += 3
        guard peek() == "." else { return true }
        position += 1
        let fractionDigits = skipDigits()
        return (1...12).contains(fractionDigits)
    }

    /// The value of exactly `digits` decimal digits at `index`, or nil.
    private func number(at index: Int, digits: Int) -> Int? {
        guard index >= 0, index + digits <= text.count else { return nil }
        var value = 0
        for scalar in text[index..<index + digits] {
            guard Self.isDigit(scalar) else { return nil }
            value = value * 10 + Int(scalar.value - 0x30)
        }
        return value
    }

    /// Skips decimal digits; returns how many.
    @discardableResult
    private mutating func skipDigits() -> Int {
        let start = position
        while let scalar = peek(), Self.isDigit(scalar) { position += 1 }
        return position - start
    }

    private static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

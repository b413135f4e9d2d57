/// A column name or a literal: one side of a comparison, or an argument of a function.
enum ODataOperand: Sendable, Hashable {
    case property(String)
    case literal(ODataLiteral)
}

/// A cursor over the percent-decoded value of one query option, with the lexical rules that `$select`, `$orderby`,
/// `$filter` and parameter alias values share. Positions count Unicode scalars from 0.
struct ODataScanner {
    /// The longest identifier OData allows.
    static let maximumIdentifierLength = 128

    /// Words that are OData keywords in lowercase only; another spelling of one is reported as such.
    static let keywords: Set<String> = [
        "and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le", "true", "false", "null",
        "contains", "startswith", "endswith", "asc", "desc",
    ]

    /// Operators of OData that Conduit does not support yet.
    static let unsupportedOperators: Set<String> = ["has", "in", "add", "sub", "mul", "div", "divby", "mod"]

    /// Functions of OData that Conduit does not support yet.
    static let unsupportedFunctions: Set<String> = [
        "tolower", "toupper", "trim", "length", "indexof", "substring", "concat", "matchesPattern",
        "year", "month", "day", "hour", "minute", "second", "fractionalseconds", "totalseconds", "date", "time",
        "totaloffsetminutes", "mindatetime", "maxdatetime", "now", "round", "floor", "ceiling", "cast", "isof",
        "hassubset", "hassubsequence", "case", "any", "all",
    ]

    /// The option whose value this is, for errors (`$filter`, `@p1`).
    let option: String
    let text: [Unicode.Scalar]
    var position = 0

    init(option: String, text: String) {
        self.option = option
        self.text = Array(text.unicodeScalars)
    }

    var isAtEnd: Bool { position >= text.count }

    /// The character `offset` places after the cursor, or nil past the end.
    func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        let index = position + offset
        return index < text.count ? text[index] : nil
    }

    /// Whether the cursor is where a value may end: at whitespace, `)`, `,` or the end.
    var isAtValueBoundary: Bool {
        guard let scalar = peek() else { return true }
        return Self.isWhitespace(scalar) || scalar == ")" || scalar == ","
    }

    /// Skips spaces and tabs; returns how many.
    @discardableResult
    mutating func skipWhitespace() -> Int {
        let start = position
        while let scalar = peek(), Self.isWhitespace(scalar) { position += 1 }
        return position - start
    }

    /// The letters, digits and underscores at the cursor, without consuming them; empty when there are none.
    func word() -> String {
        var end = position
        while end < text.count, Self.isIdentifierCharacter(text[end]) { end += 1 }
        return string(position..<end)
    }

    /// Whether `keyword` is the whole word at the cursor.
    func isAtWord(_ keyword: String) -> Bool { word() == keyword }

    /// Consumes an identifier (a letter or `_`, then letters, digits and `_`), or returns nil when none is here.
    mutating func identifier() -> String? {
        guard let first = peek(), Self.isIdentifierStart(first) else { return nil }
        let start = position
        while let scalar = peek(), Self.isIdentifierCharacter(scalar) { position += 1 }
        return string(start..<position)
    }

    /// Consumes a column name: an identifier not followed by a navigation path. Returns nil when none is here.
    mutating func columnName() throws(ODataQueryError) -> String? {
        let start = position
        guard let name = identifier() else { return nil }
        guard name.unicodeScalars.count <= Self.maximumIdentifierLength else {
            throw error("the name '\(excerpt(from: start))' is longer than 128 characters", at: start)
        }
        if peek() == "/" {
            throw error("navigation paths ('/') are not supported yet", at: position)
        }
        return name
    }

    /// Consumes a parameter alias reference (`@p1`) and returns it with its `@`.
    mutating func aliasName() throws(ODataQueryError) -> String {
        let start = position
        position += 1
        guard let name = identifier() else {
            throw error("expected a parameter alias name after '@'", at: position)
        }
        guard name.unicodeScalars.count <= Self.maximumIdentifierLength else {
            throw error("the name '\(excerpt(from: start))' is longer than 128 characters", at: start)
        }
        return "@" + name
    }

    /// Consumes `.name` segments after an identifier: the rest of a qualified name such as
    /// `Microsoft.Dynamics.CRM.Today`.
    mutating func qualifiedNameRest() -> String {
        var rest = ""
        while peek() == ".", let next = peek(1), Self.isIdentifierStart(next) {
            position += 1
            rest += "." + (identifier() ?? "")
        }
        return rest
    }

    /// The error for a call of `name` (a function name or a qualified name) that Conduit cannot evaluate here.
    func callError(_ name: String, at start: Int) -> ODataQueryError {
        if name.hasPrefix("Microsoft.Dynamics.CRM.") {
            return error("Dataverse query function '\(name)' is not supported yet", at: start)
        }
        if Self.unsupportedFunctions.contains(name) {
            return error("function '\(name)' is not supported yet", at: start)
        }
        if let lowercase = Self.lowercaseKeyword(name) {
            return error("'\(name)' must be lowercase ('\(lowercase)')", at: start)
        }
        if ODataStringFunction(rawValue: name) != nil {
            return error("'\(name)' cannot be compared; use it as a condition of its own", at: start)
        }
        if name.contains(".") {
            return error("qualified name '\(name)' is not supported", at: start)
        }
        return error("unknown function '\(name)'", at: start)
    }

    /// An error at `position` in this option's value.
    func error(_ what: String, at position: Int) -> ODataQueryError {
        ODataQueryError(option: option, position: position, message: "\(option): \(what) at position \(position)")
    }

    /// The text in `range`.
    func string(_ range: Range<Int>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: text[range])
        return String(view)
    }

    /// A short quotation of the text from `start` for messages: up to the next delimiter, at most 40 characters.
    func excerpt(from start: Int) -> String {
        var end = start
        while end < text.count, end - start <= 40 {
            let scalar = text[end]
            if Self.isWhitespace(scalar) || scalar == "(" || scalar == ")" || scalar == "," || scalar == "'" {
                break
            }
            end += 1
        }
        return excerpt(start..<end)
    }

    /// The text in `range` for messages, shortened to 40 characters.
    func excerpt(_ range: Range<Int>) -> String {
        let shown = string(range.lowerBound..<min(range.upperBound, range.lowerBound + 40))
        return range.count > 40 ? shown + "…" : shown
    }

    /// A character for messages: `'#'` when printable ASCII, otherwise its code point (`U+0007`).
    static func describe(_ scalar: Unicode.Scalar) -> String {
        if scalar.isASCII, scalar.value >= 0x20, scalar.value < 0x7F { return "'\(Character(scalar))'" }
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// The lowercase keyword that `word` spells in other letter cases, or nil.
    static func lowercaseKeyword(_ word: String) -> String? {
        let lowercase = word.lowercased()
        return lowercase != word && keywords.contains(lowercase) ? lowercase : nil
    }

    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool { scalar == " " || scalar == "\t" }
    static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }
    static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
    }
    static func isIdentifierStart(_ scalar: Unicode.Scalar) -> Bool { isLetter(scalar) || scalar == "_" }
    static func isIdentifierCharacter(_ scalar: Unicode.Scalar) -> Bool { isIdentifierStart(scalar) || isDigit(scalar) }
    static func isHexDigit(_ scalar: Unicode.Scalar) -> Bool {
        isDigit(scalar) || ("a"..."f").contains(scalar) || ("A"..."F").contains(scalar)
    }
}

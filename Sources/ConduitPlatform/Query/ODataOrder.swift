/// One key of `$orderby`: a column and a direction (`createdon desc`).
public struct ODataOrder: Sendable, Hashable {
    /// The column.
    public var property: String
    /// `desc`; ascending (`asc`, the default) when false.
    public var descending: Bool

    /// Creates an order key.
    public init(property: String, descending: Bool = false) {
        self.property = property
        self.descending = descending
    }
}

extension ODataOrder {
    /// Parses the decoded value of `$orderby`: `column [asc|desc]` items separated by commas, with optional whitespace
    /// around the commas (`@p2 asc, @p3 desc`). A parameter alias must name a column.
    static func parseList(_ text: String, aliases: ODataParameterAliases) throws(ODataQueryError) -> [ODataOrder] {
        var scanner = ODataScanner(option: "$orderby", text: text)
        var orders: [ODataOrder] = []
        while true {
            scanner.skipWhitespace()
            let start = scanner.position
            let property: String
            if scanner.peek() == "@" {
                property = try aliases.column(try scanner.aliasName(), in: scanner, at: start)
            } else if let name = try scanner.columnName() {
                property = name
            } else {
                throw scanner.error("expected a column name", at: start)
            }
            let spaces = scanner.skipWhitespace()
            let word = scanner.word()
            var descending = false
            if spaces > 0, word == "asc" || word == "desc" {
                descending = word == "desc"
                scanner.position += word.unicodeScalars.count
                scanner.skipWhitespace()
            } else if let lowercase = ODataScanner.lowercaseKeyword(word), lowercase == "asc" || lowercase == "desc" {
                throw scanner.error("'\(word)' must be lowercase ('\(lowercase)')", at: scanner.position)
            } else if !word.isEmpty || (!scanner.isAtEnd && scanner.peek() != ",") {
                throw scanner.error("expected 'asc', 'desc', ',' or the end", at: scanner.position)
            }
            orders.append(ODataOrder(property: property, descending: descending))
            guard !scanner.isAtEnd else { return orders }
            guard scanner.peek() == "," else {
                throw scanner.error("expected ',' or the end", at: scanner.position)
            }
            scanner.position += 1
        }
    }
}

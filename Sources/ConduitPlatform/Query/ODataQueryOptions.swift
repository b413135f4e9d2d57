/// The query options of a Web API collection request.
public struct ODataQueryOptions: Sendable, Hashable {
    /// The longest query string accepted, in bytes (Dataverse's URL limit is 32 KB).
    public static let maximumQueryLength = 32_768
    /// How deeply `$filter` may nest parentheses and `not`.
    public static let maximumNestingDepth = 100
    /// The largest `$top`: Dataverse's largest page.
    public static let maximumTop = 5_000

    /// `$select=name,_parentcustomerid_value`: the columns to return; nil for all of them.
    public var select: [String]?
    /// `$filter=…`.
    public var filter: ODataFilter?
    /// `$orderby=name asc,createdon desc`.
    public var orderBy: [ODataOrder]
    /// `$top=N`, from 0 to `maximumTop`. Dataverse's `Prefer: odata.maxpagesize` is a separate matter.
    public var top: Int?
    /// `$count=true`.
    public var count: Bool
    /// `$skiptoken=…`, decoded and otherwise opaque: the server's paging cookie.
    public var skipToken: String?
    /// `$expand`, percent-decoded but not interpreted yet.
    public var expand: String?
    /// `$apply`, percent-decoded but not supported yet.
    public var apply: String?

    /// Creates query options; the defaults are those of a URL without a query.
    public init(
        select: [String]? = nil,
        filter: ODataFilter? = nil,
        orderBy: [ODataOrder] = [],
        top: Int? = nil,
        count: Bool = false,
        skipToken: String? = nil,
        expand: String? = nil,
        apply: String? = nil
    ) {
        self.select = select
        self.filter = filter
        self.orderBy = orderBy
        self.top = top
        self.count = count
        self.skipToken = skipToken
        self.expand = expand
        self.apply = apply
    }

    /// The system query options this parser reads.
    static let supportedOptions: Set<String> = [
        "$select", "$filter", "$orderby", "$top", "$count", "$skiptoken", "$expand", "$apply",
    ]

    /// System query options of OData that Dataverse or Conduit does not support.
    static let unsupportedOptions: Set<String> = [
        "$skip", "$search", "$format", "$compute", "$levels", "$deltatoken", "$index", "$schemaversion", "$id",
    ]

    /// Parses the raw (percent-encoded) query string of a URL, e.g.
    /// `$select=name&$filter=name%20eq%20'a'&$top=5`; a leading `?` is ignored.
    ///
    /// Names and values are percent-decoded, with `+` as a space. System query options (`$…`) are case-sensitive;
    /// an unknown one is an error, and so is any option given twice. Parameter aliases (`@p1=…`) are resolved where
    /// `$filter` or `$orderby` refers to them; other parameters without a `$` are custom options and are ignored.
    public static func parse(queryString: String) throws(ODataQueryError) -> ODataQueryOptions {
        guard queryString.utf8.count <= maximumQueryLength else {
            throw ODataQueryError(
                option: "",
                message: "the query string is longer than \(maximumQueryLength) bytes"
            )
        }
        var query = Substring(queryString)
        if query.first == "?" { query = query.dropFirst() }
        var systemOptions: [(name: String, value: String)] = []
        var aliases = ODataParameterAliases()
        for component in query.split(separator: "&") {
            let rawName = component.prefix { $0 != "=" }
            let rawValue = component.dropFirst(rawName.count + 1)
            let name = try ODataPercentDecoding.decode(rawName, option: String(rawName), label: "query option name")
            if name.hasPrefix("$") {
                try checkSystemOption(name, given: systemOptions.contains { $0.name == name })
                systemOptions.append((name, try ODataPercentDecoding.decode(rawValue, option: name, label: name)))
            } else if name.hasPrefix("@") {
                try checkAliasName(name, given: aliases.values[name] != nil)
                aliases.values[name] = try ODataPercentDecoding.decode(rawValue, option: name, label: name)
            } else if name.isEmpty {
                throw ODataQueryError(option: "", message: "a query option has no name: '\(component)'")
            }
        }
        var options = ODataQueryOptions()
        for (name, value) in systemOptions {
            try options.apply(name, value: value, aliases: aliases)
        }
        return options
    }

    /// Sets the option `name` from its decoded value.
    private mutating func apply(
        _ name: String,
        value: String,
        aliases: ODataParameterAliases
    ) throws(ODataQueryError) {
        switch name {
        case "$select": select = try Self.parseSelect(value)
        case "$filter": filter = try ODataFilterParser.parse(value, aliases: aliases)
        case "$orderby": orderBy = try ODataOrder.parseList(value, aliases: aliases)
        case "$top": top = try Self.parseTop(value)
        case "$count":
            guard value == "true" || value == "false" else {
                throw ODataQueryError(option: name, message: "$count must be true or false")
            }
            count = value == "true"
        case "$skiptoken": skipToken = try Self.nonEmpty(value, name)
        case "$expand": expand = try Self.nonEmpty(value, name)
        default: apply = try Self.nonEmpty(value, name)
        }
    }

    private static func checkSystemOption(_ name: String, given: Bool) throws(ODataQueryError) {
        guard supportedOptions.contains(name) else {
            if unsupportedOptions.contains(name) {
                throw ODataQueryError(option: name, message: "query option '\(name)' is not supported")
            }
            let lowercase = name.lowercased()
            if supportedOptions.contains(lowercase) || unsupportedOptions.contains(lowercase) {
                throw ODataQueryError(
                    option: name,
                    message: "unknown query option '\(name)' (query option names are lowercase: '\(lowercase)')"
                )
            }
            throw ODataQueryError(option: name, message: "unknown query option '\(name)'")
        }
        guard !given else {
            throw ODataQueryError(option: name, message: "query option '\(name)' is given more than once")
        }
    }

    private static func checkAliasName(_ name: String, given: Bool) throws(ODataQueryError) {
        var scanner = ODataScanner(option: name, text: name)
        guard (try? scanner.aliasName()) != nil, scanner.isAtEnd else {
            throw ODataQueryError(option: name, message: "invalid parameter alias name '\(name)'")
        }
        guard !given else {
            throw ODataQueryError(option: name, message: "parameter alias '\(name)' is given more than once")
        }
    }

    /// `$select`: column names separated by commas, with optional whitespace around them.
    private static func parseSelect(_ text: String) throws(ODataQueryError) -> [String] {
        var scanner = ODataScanner(option: "$select", text: text)
        var columns: [String] = []
        while true {
            scanner.skipWhitespace()
            let start = scanner.position
            if scanner.peek() == "*" {
                throw scanner.error("'*' is not supported; leave out $select to get all columns", at: start)
            }
            guard let column = try scanner.columnName() else {
                throw scanner.error("expected a column name", at: start)
            }
            columns.append(column)
            scanner.skipWhitespace()
            guard !scanner.isAtEnd else { return columns }
            guard scanner.peek() == "," else {
                throw scanner.error("expected ',' or the end", at: scanner.position)
            }
            scanner.position += 1
        }
    }

    /// `$top`: decimal digits for a number from 0 to `maximumTop`.
    private static func parseTop(_ text: String) throws(ODataQueryError) -> Int {
        let digits = text.drop { $0 == "0" }
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), digits.count <= 4,
            let value = Int(digits.isEmpty ? "0" : digits), value <= maximumTop
        else {
            throw ODataQueryError(option: "$top", message: "$top must be an integer from 0 to \(maximumTop)")
        }
        return value
    }

    private static func nonEmpty(_ value: String, _ name: String) throws(ODataQueryError) -> String {
        guard !value.isEmpty else {
            throw ODataQueryError(option: name, message: "\(name) must not be empty")
        }
        return value
    }
}

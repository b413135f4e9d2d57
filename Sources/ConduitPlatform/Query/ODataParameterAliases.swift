/// The parameter aliases of a query (`@p1=fullname`, `@p2='Contoso'`), resolved where `$filter` or `$orderby` refers
/// to them. A value is a literal or a column name; an alias that is referred to but not given is null, as OData
/// specifies.
struct ODataParameterAliases {
    /// The decoded value of each alias, by name with its `@`.
    var values: [String: String] = [:]

    /// The operand that alias `name` stands for.
    func operand(_ name: String) throws(ODataQueryError) -> ODataOperand {
        guard let value = values[name] else { return .literal(.null) }
        var scanner = ODataScanner(option: name, text: value)
        scanner.skipWhitespace()
        switch scanner.peek() {
        case "@":
            throw scanner.error("a parameter alias cannot refer to another alias", at: scanner.position)
        case "[", "{":
            throw scanner.error("arrays and objects are not supported yet", at: scanner.position)
        default:
            break
        }
        let operand = try scanner.operand(expected: "expected a value")
        scanner.skipWhitespace()
        if let next = scanner.peek() {
            throw scanner.error("unexpected \(ODataScanner.describe(next)) after the value", at: scanner.position)
        }
        return operand
    }

    /// The column that alias `name` names, where `scanner` refers to it at `position`.
    func column(_ name: String, in scanner: ODataScanner, at position: Int) throws(ODataQueryError) -> String {
        guard values[name] != nil else {
            throw scanner.error("parameter alias '\(name)' has no value", at: position)
        }
        guard case .property(let column) = try operand(name) else {
            throw scanner.error("parameter alias '\(name)' must name a column", at: position)
        }
        return column
    }
}

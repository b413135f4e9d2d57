/// A literal value in a `$filter` expression, as OData writes it in a URL.
public enum ODataLiteral: Sendable, Hashable, CustomStringConvertible {
    /// `null`.
    case null
    /// `'O''Neil'`, held unescaped: `O'Neil`.
    case string(String)
    /// A whole number without a fraction or exponent that fits in 64 bits: `42`, `-7`.
    case integer(Int64)
    /// Any other number, as written: `12.50`, `-3.5`, `1e3`, `1.5E+2`, or a whole number too large for `integer`.
    case decimal(String)
    /// `true` or `false`.
    case boolean(Bool)
    /// An unquoted 8-4-4-4-12 hexadecimal guid, lowercased.
    case guid(String)
    /// A date and time with a time zone, as written: `2024-01-31T10:00:00Z`, `2024-01-31T10:00:00.123+01:00`.
    case dateTime(String)
    /// A date: `2024-01-31`.
    case date(String)

    /// The literal as OData writes it (`'O''Neil'`, `42`, `null`), before percent-encoding.
    public var description: String {
        switch self {
        case .null: "null"
        case .string(let value): "'" + value.replacing("'", with: "''") + "'"
        case .integer(let value): String(value)
        case .decimal(let text), .guid(let text), .dateTime(let text), .date(let text): text
        case .boolean(let value): value ? "true" : "false"
        }
    }
}

/// A query that cannot be parsed.
///
/// `message` says what is wrong and where, for example `$filter: expected a value after 'eq' at position 12`,
/// `unknown query option '$foo'` or `$top must be an integer from 0 to 5000`. Positions count characters (Unicode
/// scalars) from 0 in the percent-decoded value of the option; for malformed percent-encoding they count in the raw,
/// still-encoded value.
public struct ODataQueryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The option at fault (`$filter`, `$top`, a parameter alias such as `@p1`), or an empty string when the error
    /// concerns the query string as a whole.
    public var option: String
    /// Where in the option's value the error is, when it is at one place.
    public var position: Int?
    /// A readable account of the error that names the option and, when there is one, the position.
    public var message: String

    /// Creates an error.
    public init(option: String, position: Int? = nil, message: String) {
        self.option = option
        self.position = position
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

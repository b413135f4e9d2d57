/// A property an expression names: a system property (`sys.` scope) or a user property (`user.` scope, the
/// default when no scope is written).
public enum PropertyReference: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A broker property, such as `sys.Label`.
    case system(SystemProperty)
    /// An application property, by name; names are case-insensitive.
    case user(String)

    /// Reads a name the way the `property(name)` function does: `sys.X` and `user.X` (scopes are
    /// case-insensitive) or a bare user property name.
    ///
    /// - Throws: ``FilterError/Kind/unknownSystemProperty`` for a `sys.` name that is no system property.
    public init(parsing name: String) throws(FilterError) {
        let lowercased = name.lowercased()
        if lowercased.hasPrefix("sys.") {
            let propertyName = String(name.dropFirst(4))
            guard let property = SystemProperty(name: propertyName) else {
                throw FilterError(
                    .unknownSystemProperty,
                    "Unknown system property '\(propertyName)'.",
                    token: propertyName
                )
            }
            self = .system(property)
        } else if lowercased.hasPrefix("user.") {
            self = .user(String(name.dropFirst(5)))
        } else {
            self = .user(name)
        }
    }

    /// `sys.Name` or `user.name`.
    public var description: String {
        switch self {
        case .system(let property): "sys.\(property.name)"
        case .user(let name): "user.\(name)"
        }
    }
}

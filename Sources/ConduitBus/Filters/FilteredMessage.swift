/// What a rule filter evaluates and a rule action changes: a message's system (broker) properties and its user
/// (application) properties. Filters never see the body.
public struct FilteredMessage: Sendable, Hashable {
    /// The system properties that are set; a missing key is an unset property (it evaluates as null).
    public var systemProperties: [SystemProperty: PropertyValue]
    /// The user properties, by name as sent. Lookups ignore case (property names are case-insensitive).
    public var userProperties: [String: PropertyValue]

    /// Makes a message from its properties.
    public init(
        systemProperties: [SystemProperty: PropertyValue] = [:],
        userProperties: [String: PropertyValue] = [:]
    ) {
        self.systemProperties = systemProperties
        self.userProperties = userProperties
    }

    /// A system property's value; setting `nil` or ``PropertyValue/null`` unsets it.
    public subscript(system property: SystemProperty) -> PropertyValue? {
        get { systemProperties[property] }
        set {
            if let newValue, !newValue.isNull {
                systemProperties[property] = newValue
            } else {
                systemProperties[property] = nil
            }
        }
    }

    /// The value a property reference reaches: `nil` for a user property the message does not have and for an
    /// unset system property.
    ///
    /// User property names are matched case-insensitively; an exact match wins, and among names that differ
    /// only in case the smallest (in code-unit order) wins, so the lookup is deterministic.
    public func value(of reference: PropertyReference) -> PropertyValue? {
        switch reference {
        case .system(let property):
            return systemProperties[property]
        case .user(let name):
            guard let key = userPropertyKey(matching: name) else { return nil }
            return userProperties[key]
        }
    }

    /// Whether the property exists: a user property the message has (even with a null value), or a system
    /// property that is set.
    public func contains(_ reference: PropertyReference) -> Bool {
        switch reference {
        case .system(let property): systemProperties[property] != nil
        case .user(let name): userPropertyKey(matching: name) != nil
        }
    }

    /// The key under which the user property of that name (ignoring case) is stored, if there is one.
    public func userPropertyKey(matching name: String) -> String? {
        if userProperties[name] != nil {
            return name
        }
        let lowercased = name.lowercased()
        var found: String?
        for key in userProperties.keys where key.lowercased() == lowercased {
            if let current = found, !key.utf16.lexicographicallyPrecedes(current.utf16) {
                continue
            }
            found = key
        }
        return found
    }
}

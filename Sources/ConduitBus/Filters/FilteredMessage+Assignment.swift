/// What rule actions do to a message's properties.
extension FilteredMessage {
    /// `SET reference = value`, as ``SQLRuleAction/apply(to:)`` describes.
    mutating func assign(_ value: PropertyValue, to reference: PropertyReference, offset: Int) throws(FilterError) {
        switch reference {
        case .user(let name):
            let key = userPropertyKey(matching: name) ?? name
            if case .double = userProperties[key], case .int64(let integer) = value {
                userProperties[key] = .double(Double(integer))
            } else {
                userProperties[key] = value
            }
        case .system(let property):
            guard value.isNull || value.fits(property.valueType) else {
                throw FilterError.evaluation(
                    .typeMismatch,
                    "Cannot set system property '\(property.name)' to \(value.typeName)",
                    offset: offset,
                    token: "="
                )
            }
            self[system: property] = value
        }
    }

    /// `REMOVE reference`: a user property under every spelling of its name, or an unset system property.
    mutating func remove(_ reference: PropertyReference) {
        switch reference {
        case .user(let name):
            let lowercased = name.lowercased()
            for key in userProperties.keys where key.lowercased() == lowercased {
                userProperties[key] = nil
            }
        case .system(let property):
            systemProperties[property] = nil
        }
    }
}

extension PropertyValue {
    /// Whether the value is of the given system property type.
    fileprivate func fits(_ type: SystemProperty.ValueType) -> Bool {
        switch (self, type) {
        case (.string, .string), (.int64, .int64), (.bool, .bool), (.date, .date), (.duration, .duration),
            (.uuid, .uuid):
            true
        default:
            false
        }
    }
}

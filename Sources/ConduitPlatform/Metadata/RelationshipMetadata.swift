/// A one-to-many relationship: rows of `referencingEntity` point at a `referencedEntity` row through the lookup
/// `referencingAttribute`. Derived from every lookup column; the built-in ones carry Dataverse's schema names.
public struct RelationshipMetadata: Sendable, Hashable {
    public var schemaName: String
    public var referencedEntity: String
    public var referencingEntity: String
    public var referencingAttribute: String

    /// Dataverse's names for the built-in relationships; others are named `<referenced>_<referencing>_<lookup>`.
    static let knownNames: [String: String] = [
        "account|contact|parentcustomerid": "contact_customer_accounts",
        "contact|contact|parentcustomerid": "contact_customer_contacts",
        "contact|account|primarycontactid": "account_primary_contact",
        "account|account|parentaccountid": "account_parent_account",
    ]

    /// Every one-to-many relationship of these tables.
    static func all(in tables: [EntityMetadata]) -> [RelationshipMetadata] {
        var result: [RelationshipMetadata] = []
        for table in tables {
            for attribute in table.attributes where attribute.type.isReference {
                guard !attribute.isReadOnly, attribute.logicalName != "ownerid" else { continue }
                for target in attribute.targets {
                    let key = "\(target)|\(table.logicalName)|\(attribute.logicalName)"
                    result.append(
                        RelationshipMetadata(
                            schemaName: knownNames[key] ?? "\(target)_\(table.logicalName)_\(attribute.logicalName)",
                            referencedEntity: target,
                            referencingEntity: table.logicalName,
                            referencingAttribute: attribute.logicalName
                        )
                    )
                }
            }
        }
        return result
    }
}

extension MetadataCatalog {
    /// The one-to-many relationship with this schema name.
    public func relationship(_ schemaName: String) -> RelationshipMetadata? {
        RelationshipMetadata.all(in: all).first { $0.schemaName == schemaName }
    }
}

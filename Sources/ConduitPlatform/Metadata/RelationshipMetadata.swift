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
    /// Every one-to-many relationship (one per lookup column and target table).
    public var allOneToMany: [RelationshipMetadata] { RelationshipMetadata.all(in: all) }

    /// The one-to-many relationship with this schema name.
    public func relationship(_ schemaName: String) -> RelationshipMetadata? {
        RelationshipMetadata.all(in: all).first { $0.schemaName == schemaName }
    }

    /// The table at the other end of a relationship (one-to-many or many-to-many) seen from `table`, and whether
    /// there can be many rows there; `nil` when no relationship of that name involves `table`.
    public func otherEnd(of schemaName: String, from table: String) -> (table: String, isCollection: Bool)? {
        if let relationship = manyToMany(schemaName) {
            if relationship.entity1LogicalName == table { return (relationship.entity2LogicalName, true) }
            if relationship.entity2LogicalName == table { return (relationship.entity1LogicalName, true) }
            return nil
        }
        guard let relationship = relationship(schemaName) else { return nil }
        if relationship.referencedEntity == table { return (relationship.referencingEntity, true) }
        if relationship.referencingEntity == table { return (relationship.referencedEntity, false) }
        return nil
    }
}

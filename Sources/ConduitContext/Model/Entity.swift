/// The SDK `Entity` contract: a table row or part of one.
///
/// Wire members, in order: `Attributes, EntityState, FormattedValues, Id, KeyAttributes, LogicalName,
/// RelatedEntities, RowVersion`.
public struct Entity: Hashable, Sendable {
    /// Column values by logical name (`AttributeCollection`).
    public var attributes: ParameterCollection
    /// `EntityState` (`Unchanged` 0, `Created` 1, `Changed` 2) or `nil`.
    public var entityState: EntityState?
    /// Display texts by column (`FormattedValueCollection`).
    public var formattedValues: FormattedValueCollection
    /// The row id (the empty GUID when not set).
    public var id: Guid
    /// Alternate key values (`KeyAttributeCollection`).
    public var keyAttributes: ParameterCollection
    /// The table logical name.
    public var logicalName: String?
    /// Related rows by relationship (`RelatedEntityCollection`).
    public var relatedEntities: [KeyValuePair<Relationship, EntityCollection>]
    /// The row version, or `nil`.
    public var rowVersion: String?
    /// Members this version does not know, kept for the round trip.
    public var extensionData: ExtensionData

    /// Creates an entity.
    public init(
        logicalName: String?,
        id: Guid = .empty,
        attributes: ParameterCollection = [],
        entityState: EntityState? = nil,
        formattedValues: FormattedValueCollection = [],
        keyAttributes: ParameterCollection = [],
        relatedEntities: [KeyValuePair<Relationship, EntityCollection>] = [],
        rowVersion: String? = nil,
        extensionData: ExtensionData = ExtensionData()
    ) {
        self.attributes = attributes
        self.entityState = entityState
        self.formattedValues = formattedValues
        self.id = id
        self.keyAttributes = keyAttributes
        self.logicalName = logicalName
        self.relatedEntities = relatedEntities
        self.rowVersion = rowVersion
        self.extensionData = extensionData
    }
}

/// The SDK `EntityState` enum, written as its number in JSON and its name in XML.
public struct EntityState: Hashable, Sendable, RawRepresentable {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// 0, `Unchanged`.
    public static let unchanged = EntityState(rawValue: 0)
    /// 1, `Created`.
    public static let created = EntityState(rawValue: 1)
    /// 2, `Changed`.
    public static let changed = EntityState(rawValue: 2)

    /// The XML member name, or `nil` for a number the SDK does not define.
    public var name: String? {
        switch rawValue {
        case 0: return "Unchanged"
        case 1: return "Created"
        case 2: return "Changed"
        default: return nil
        }
    }

    /// The value for an XML member name.
    public init?(name: String) {
        switch name {
        case "Unchanged": self = .unchanged
        case "Created": self = .created
        case "Changed": self = .changed
        default: return nil
        }
    }
}

/// The SDK `EntityReference` contract. Wire members: `Id, KeyAttributes, LogicalName, Name, RowVersion`.
public struct EntityReference: Hashable, Sendable {
    /// The row id.
    public var id: Guid
    /// Alternate key values.
    public var keyAttributes: ParameterCollection
    /// The table logical name.
    public var logicalName: String?
    /// The primary name, when known.
    public var name: String?
    /// The row version, or `nil`.
    public var rowVersion: String?
    /// Members this version does not know.
    public var extensionData: ExtensionData

    /// Creates a reference.
    public init(
        logicalName: String?,
        id: Guid,
        name: String? = nil,
        keyAttributes: ParameterCollection = [],
        rowVersion: String? = nil,
        extensionData: ExtensionData = ExtensionData()
    ) {
        self.id = id
        self.keyAttributes = keyAttributes
        self.logicalName = logicalName
        self.name = name
        self.rowVersion = rowVersion
        self.extensionData = extensionData
    }
}

/// The SDK `EntityCollection` contract. Wire members: `Entities, EntityName, MinActiveRowVersion, MoreRecords,
/// PagingCookie, TotalRecordCount, TotalRecordCountLimitExceeded`.
public struct EntityCollection: Hashable, Sendable {
    /// The rows.
    public var entities: [Entity]
    /// The table logical name.
    public var entityName: String?
    /// The minimum active row version (`-1` when unknown).
    public var minActiveRowVersion: String?
    /// Whether more rows can be paged.
    public var moreRecords: Bool
    /// The paging cookie.
    public var pagingCookie: String?
    /// The total count (`-1` when not asked).
    public var totalRecordCount: Int32
    /// Whether the count reached its limit.
    public var totalRecordCountLimitExceeded: Bool
    /// Members this version does not know.
    public var extensionData: ExtensionData

    /// Creates a collection.
    public init(
        entities: [Entity] = [],
        entityName: String? = nil,
        minActiveRowVersion: String? = "-1",
        moreRecords: Bool = false,
        pagingCookie: String? = nil,
        totalRecordCount: Int32 = -1,
        totalRecordCountLimitExceeded: Bool = false,
        extensionData: ExtensionData = ExtensionData()
    ) {
        self.entities = entities
        self.entityName = entityName
        self.minActiveRowVersion = minActiveRowVersion
        self.moreRecords = moreRecords
        self.pagingCookie = pagingCookie
        self.totalRecordCount = totalRecordCount
        self.totalRecordCountLimitExceeded = totalRecordCountLimitExceeded
        self.extensionData = extensionData
    }
}

/// The SDK `Relationship` contract, the key of `RelatedEntities`. Wire members: `PrimaryEntityRole, SchemaName`.
public struct Relationship: Hashable, Sendable {
    /// `EntityRole` (`Referencing` 0, `Referenced` 1) or `nil`.
    public var primaryEntityRole: Int32?
    /// The relationship schema name.
    public var schemaName: String?
    /// Members this version does not know.
    public var extensionData: ExtensionData

    /// Creates a relationship key.
    public init(schemaName: String?, primaryEntityRole: Int32? = nil, extensionData: ExtensionData = ExtensionData()) {
        self.primaryEntityRole = primaryEntityRole
        self.schemaName = schemaName
        self.extensionData = extensionData
    }
}

/// The SDK `OptionSetValue` contract (one `Value` member).
public struct OptionSetValue: Hashable, Sendable {
    /// The option value.
    public var value: Int32
    /// Members this version does not know.
    public var extensionData: ExtensionData

    /// Creates an option value.
    public init(_ value: Int32, extensionData: ExtensionData = ExtensionData()) {
        self.value = value
        self.extensionData = extensionData
    }
}

/// The SDK `Money` contract (one `Value` member, a decimal).
public struct Money: Hashable, Sendable {
    /// The amount.
    public var value: DotNetDecimal
    /// Members this version does not know.
    public var extensionData: ExtensionData

    /// Creates an amount.
    public init(_ value: DotNetDecimal, extensionData: ExtensionData = ExtensionData()) {
        self.value = value
        self.extensionData = extensionData
    }
}

/// The SDK `AliasedValue` contract. Wire members: `AttributeLogicalName, EntityLogicalName, Value`.
public struct AliasedValue: Hashable, Sendable {
    /// The column of the linked table.
    public var attributeLogicalName: String?
    /// The linked table.
    public var entityLogicalName: String?
    /// The value (polymorphic).
    public var value: ContextValue
    /// Members this version does not know.
    public var extensionData: ExtensionData

    /// Creates an aliased value.
    public init(
        entityLogicalName: String?,
        attributeLogicalName: String?,
        value: ContextValue,
        extensionData: ExtensionData = ExtensionData()
    ) {
        self.attributeLogicalName = attributeLogicalName
        self.entityLogicalName = entityLogicalName
        self.value = value
        self.extensionData = extensionData
    }
}

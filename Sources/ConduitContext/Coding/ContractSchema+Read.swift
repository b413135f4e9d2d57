/// The shape of each contract, read once for every format. Members may come in any order; unknown members are kept.
extension ContractReader {
    mutating func readContext() throws(ContextCodingError) -> RemoteExecutionContext {
        var c = RemoteExecutionContext()
        c.operationCreatedOn = DotNetDateTime(ticks: 0, kind: .unspecified)!
        c.secondaryEntityName = nil
        c.depth = 0
        c.isolationMode = 0
        c.mode = 0
        c.stage = 0
        while let name = try nextMember() {
            switch name {
            case "BusinessUnitId": c.businessUnitId = try readRequiredGuid(name)
            case "CorrelationId": c.correlationId = try readRequiredGuid(name)
            case "Depth": c.depth = try readInt32()
            case "InitiatingUserAgent":
                if let agent = try readString() { c.initiatingUserAgent = agent } else { keepNull(name, in: &c) }
            case "InitiatingUserAzureActiveDirectoryObjectId":
                if let id = try readGuid() {
                    c.initiatingUserAzureActiveDirectoryObjectId = id
                } else {
                    keepNull(name, in: &c)
                }
            case "InitiatingUserId": c.initiatingUserId = try readRequiredGuid(name)
            case "InputParameters": c.inputParameters = try readParameters()
            case "IsExecutingOffline": c.isExecutingOffline = try readBool()
            case "IsInTransaction": c.isInTransaction = try readBool()
            case "IsOfflinePlayback": c.isOfflinePlayback = try readBool()
            case "IsolationMode": c.isolationMode = try readInt32()
            case "MessageName": c.messageName = try readString()
            case "Mode": c.mode = try readInt32()
            case "OperationCreatedOn": c.operationCreatedOn = try readDateTime()
            case "OperationId": c.operationId = try readRequiredGuid(name)
            case "OrganizationId": c.organizationId = try readRequiredGuid(name)
            case "OrganizationName": c.organizationName = try readString()
            case "OutputParameters": c.outputParameters = try readParameters()
            case "OwningExtension": c.owningExtension = try readEntityReference()
            case "ParentContext":
                if try beginContract() {
                    c.parentContext = RemoteExecutionContext.Box(try readContext())
                }
            case "PostEntityImages": c.postEntityImages = try readImages()
            case "PreEntityImages": c.preEntityImages = try readImages()
            case "PrimaryEntityId": c.primaryEntityId = try readRequiredGuid(name)
            case "PrimaryEntityName": c.primaryEntityName = try readString()
            case "RequestId": c.requestId = try readGuid()
            case "SecondaryEntityName": c.secondaryEntityName = try readString()
            case "SharedVariables": c.sharedVariables = try readParameters()
            case "Stage": c.stage = try readInt32()
            case "UserAzureActiveDirectoryObjectId":
                if let id = try readGuid() {
                    c.userAzureActiveDirectoryObjectId = id
                } else {
                    keepNull(name, in: &c)
                }
            case "UserId": c.userId = try readRequiredGuid(name)
            default: c.extensionData.members.append(try readExtension())
            }
        }
        return c
    }

    /// An optional newer member present as null is kept as an unknown member, so it is written back as null.
    private func keepNull(_ name: String, in context: inout RemoteExecutionContext) {
        context.extensionData.members.append(
            ExtensionMember(name: name, namespace: XMLNamespaces.contracts, value: .null)
        )
    }

    /// Reads a collection whose items are `{key, value}` pairs, calling `readEntry` positioned on each pair.
    mutating func readPairs<Value>(
        _ readValue: (inout Self) throws(ContextCodingError) -> Value
    ) throws(ContextCodingError) -> [KeyValuePair<String, Value>] {
        var entries: [KeyValuePair<String, Value>] = []
        guard try beginCollection() else { return entries }
        while try nextItem() {
            guard try beginContract() else { throw error("a collection entry must not be null") }
            var key: String?
            var value: Value?
            while let name = try nextMember() {
                switch name {
                case "key", "Key":
                    key = try readString()
                case "value", "Value":
                    value = try readValue(&self)
                default:
                    throw error("unexpected member '\(name)' in a key/value entry (expected 'key' and 'value')")
                }
            }
            guard let key else { throw error("a key/value entry has no key") }
            guard let value else { throw error("the entry '\(key)' has no value") }
            entries.append(KeyValuePair(key: key, value: value))
        }
        return entries
    }

    mutating func readParameters() throws(ContextCodingError) -> ParameterCollection {
        KeyedCollection(try readPairs { (reader: inout Self) throws(ContextCodingError) in try reader.readValue() })
    }

    mutating func readFormattedValues() throws(ContextCodingError) -> FormattedValueCollection {
        KeyedCollection(
            try readPairs { (reader: inout Self) throws(ContextCodingError) in try reader.readString() ?? "" }
        )
    }

    mutating func readImages() throws(ContextCodingError) -> EntityImageCollection {
        KeyedCollection(
            try readPairs { (reader: inout Self) throws(ContextCodingError) -> Entity in
                guard let entity = try reader.readEntity() else {
                    throw reader.error("an entity image must not be null")
                }
                return entity
            }
        )
    }

    /// Reads the members of an `Entity` (the slot is a declared `Entity`).
    mutating func readEntity() throws(ContextCodingError) -> Entity? {
        guard try beginContract() else { return nil }
        return try readEntityMembers()
    }

    mutating func readEntityMembers() throws(ContextCodingError) -> Entity {
        var entity = Entity(logicalName: nil)
        while let name = try nextMember() {
            switch name {
            case "Attributes": entity.attributes = try readParameters()
            case "EntityState":
                entity.entityState = try readEnum(names: { EntityState(name: $0)?.rawValue }).map {
                    EntityState(rawValue: $0)
                }
            case "FormattedValues": entity.formattedValues = try readFormattedValues()
            case "Id": entity.id = try readGuid() ?? .empty
            case "KeyAttributes": entity.keyAttributes = try readParameters()
            case "LogicalName": entity.logicalName = try readString()
            case "RelatedEntities": entity.relatedEntities = try readRelatedEntities()
            case "RowVersion": entity.rowVersion = try readString()
            default: entity.extensionData.members.append(try readExtension())
            }
        }
        return entity
    }

    mutating func readRelatedEntities() throws(ContextCodingError) -> [KeyValuePair<Relationship, EntityCollection>] {
        var entries: [KeyValuePair<Relationship, EntityCollection>] = []
        guard try beginCollection() else { return entries }
        while try nextItem() {
            guard try beginContract() else { throw error("a related-entities entry must not be null") }
            var key: Relationship?
            var value: EntityCollection?
            while let name = try nextMember() {
                switch name {
                case "key", "Key": key = try readRelationship()
                case "value", "Value": value = try readEntityCollection()
                default: throw error("unexpected member '\(name)' in a related-entities entry")
                }
            }
            guard let key, let value else { throw error("a related-entities entry needs a key and a value") }
            entries.append(KeyValuePair(key: key, value: value))
        }
        return entries
    }

    mutating func readRelationship() throws(ContextCodingError) -> Relationship? {
        guard try beginContract() else { return nil }
        var relationship = Relationship(schemaName: nil)
        while let name = try nextMember() {
            switch name {
            case "PrimaryEntityRole":
                relationship.primaryEntityRole = try readEnum(names: { name in
                    name == "Referencing" ? 0 : name == "Referenced" ? 1 : nil
                })
            case "SchemaName": relationship.schemaName = try readString()
            default: relationship.extensionData.members.append(try readExtension())
            }
        }
        return relationship
    }

    mutating func readEntityReference() throws(ContextCodingError) -> EntityReference? {
        guard try beginContract() else { return nil }
        return try readEntityReferenceMembers()
    }

    mutating func readEntityReferenceMembers() throws(ContextCodingError) -> EntityReference {
        var reference = EntityReference(logicalName: nil, id: .empty)
        while let name = try nextMember() {
            switch name {
            case "Id": reference.id = try readGuid() ?? .empty
            case "KeyAttributes": reference.keyAttributes = try readParameters()
            case "LogicalName": reference.logicalName = try readString()
            case "Name": reference.name = try readString()
            case "RowVersion": reference.rowVersion = try readString()
            default: reference.extensionData.members.append(try readExtension())
            }
        }
        return reference
    }

    mutating func readEntityCollection() throws(ContextCodingError) -> EntityCollection? {
        guard try beginContract() else { return nil }
        return try readEntityCollectionMembers()
    }

    mutating func readEntityCollectionMembers() throws(ContextCodingError) -> EntityCollection {
        var collection = EntityCollection(minActiveRowVersion: nil, totalRecordCount: 0)
        while let name = try nextMember() {
            switch name {
            case "Entities":
                collection.entities = []
                if try beginCollection() {
                    while try nextItem() {
                        guard let entity = try readEntity() else { throw error("Entities must not hold null") }
                        collection.entities.append(entity)
                    }
                }
            case "EntityName": collection.entityName = try readString()
            case "MinActiveRowVersion": collection.minActiveRowVersion = try readString()
            case "MoreRecords": collection.moreRecords = try readBool()
            case "PagingCookie": collection.pagingCookie = try readString()
            case "TotalRecordCount": collection.totalRecordCount = try readInt32()
            case "TotalRecordCountLimitExceeded": collection.totalRecordCountLimitExceeded = try readBool()
            default: collection.extensionData.members.append(try readExtension())
            }
        }
        return collection
    }

    mutating func readOptionSetValueMembers() throws(ContextCodingError) -> OptionSetValue {
        var option = OptionSetValue(0)
        while let name = try nextMember() {
            if name == "Value" {
                option.value = try readInt32()
            } else {
                option.extensionData.members.append(try readExtension())
            }
        }
        return option
    }

    mutating func readMoneyMembers() throws(ContextCodingError) -> Money {
        var money = Money(.zero)
        while let name = try nextMember() {
            if name == "Value" {
                money.value = try readDecimal()
            } else {
                money.extensionData.members.append(try readExtension())
            }
        }
        return money
    }

    mutating func readAliasedValueMembers() throws(ContextCodingError) -> AliasedValue {
        var aliased = AliasedValue(entityLogicalName: nil, attributeLogicalName: nil, value: .null)
        while let name = try nextMember() {
            switch name {
            case "AttributeLogicalName": aliased.attributeLogicalName = try readString()
            case "EntityLogicalName": aliased.entityLogicalName = try readString()
            case "Value": aliased.value = try readValue()
            default: aliased.extensionData.members.append(try readExtension())
            }
        }
        return aliased
    }

    mutating func readStringPairMembers() throws(ContextCodingError) -> KeyValuePair<String, String> {
        var key: String?
        var value: String?
        while let name = try nextMember() {
            switch name {
            case "key", "Key": key = try readString()
            case "value", "Value": value = try readString()
            default: throw error("unexpected member '\(name)' in a KeyValuePair<string,string>")
            }
        }
        return KeyValuePair(key: key ?? "", value: value ?? "")
    }

    /// Reads the members of a known contract value once its type is known. Returns `nil` for unknown names.
    mutating func readKnownContract(_ type: ContractName) throws(ContextCodingError) -> ContextValue? {
        switch (type.name, type.namespace) {
        case ("Entity", XMLNamespaces.contracts): return .entity(try readEntityMembers())
        case ("EntityReference", XMLNamespaces.contracts): return .entityReference(try readEntityReferenceMembers())
        case ("OptionSetValue", XMLNamespaces.contracts): return .optionSetValue(try readOptionSetValueMembers())
        case ("Money", XMLNamespaces.contracts): return .money(try readMoneyMembers())
        case ("EntityCollection", XMLNamespaces.contracts):
            return .entityCollection(try readEntityCollectionMembers())
        case ("AliasedValue", XMLNamespaces.contracts): return .aliasedValue(try readAliasedValueMembers())
        case ("KeyValuePairOfstringstring", XMLNamespaces.collectionsGeneric):
            return .keyValuePair(try readStringPairMembers())
        default: return nil
        }
    }
}

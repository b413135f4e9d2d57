/// The shape of each contract, written once for every format.
extension ContractWriter {
    mutating func write(_ context: RemoteExecutionContext) {
        let ns = XMLNamespaces.contracts
        var ext = ExtensionCursor(context.extensionData)
        member("BusinessUnitId", after: &ext)
        writeGuid(context.businessUnitId, typeHint: false)
        member("CorrelationId", after: &ext)
        writeGuid(context.correlationId, typeHint: false)
        member("Depth", after: &ext)
        writeInt32(context.depth, typeHint: false)
        if let agent = context.initiatingUserAgent {
            member("InitiatingUserAgent", after: &ext)
            writeString(agent, typeHint: false)
        }
        if let objectId = context.initiatingUserAzureActiveDirectoryObjectId {
            member("InitiatingUserAzureActiveDirectoryObjectId", after: &ext)
            writeGuid(objectId, typeHint: false)
        }
        member("InitiatingUserId", after: &ext)
        writeGuid(context.initiatingUserId, typeHint: false)
        member("InputParameters", after: &ext)
        writeParameters(context.inputParameters)
        member("IsExecutingOffline", after: &ext)
        writeBool(context.isExecutingOffline, typeHint: false)
        member("IsInTransaction", after: &ext)
        writeBool(context.isInTransaction, typeHint: false)
        member("IsOfflinePlayback", after: &ext)
        writeBool(context.isOfflinePlayback, typeHint: false)
        member("IsolationMode", after: &ext)
        writeInt32(context.isolationMode, typeHint: false)
        member("MessageName", after: &ext)
        writeOptionalString(context.messageName)
        member("Mode", after: &ext)
        writeInt32(context.mode, typeHint: false)
        member("OperationCreatedOn", after: &ext)
        writeDateTime(context.operationCreatedOn, typeHint: false)
        member("OperationId", after: &ext)
        writeGuid(context.operationId, typeHint: false)
        member("OrganizationId", after: &ext)
        writeGuid(context.organizationId, typeHint: false)
        member("OrganizationName", after: &ext)
        writeOptionalString(context.organizationName)
        member("OutputParameters", after: &ext)
        writeParameters(context.outputParameters)
        member("OwningExtension", after: &ext)
        if let owner = context.owningExtension { write(owner, typeHint: false) } else { writeNull() }
        member("ParentContext", after: &ext)
        if let parent = context.parentContext?.context {
            beginContract(ContractNames.remoteExecutionContext, typeHint: false)
            write(parent)
            endContract()
        } else {
            writeNull()
        }
        member("PostEntityImages", after: &ext)
        writeImages(context.postEntityImages)
        member("PreEntityImages", after: &ext)
        writeImages(context.preEntityImages)
        member("PrimaryEntityId", after: &ext)
        writeGuid(context.primaryEntityId, typeHint: false)
        member("PrimaryEntityName", after: &ext)
        writeOptionalString(context.primaryEntityName)
        member("RequestId", after: &ext)
        if let requestId = context.requestId { writeGuid(requestId, typeHint: false) } else { writeNull() }
        member("SecondaryEntityName", after: &ext)
        writeOptionalString(context.secondaryEntityName)
        member("SharedVariables", after: &ext)
        writeParameters(context.sharedVariables)
        member("Stage", after: &ext)
        writeInt32(context.stage, typeHint: false)
        if let objectId = context.userAzureActiveDirectoryObjectId {
            member("UserAzureActiveDirectoryObjectId", after: &ext)
            writeGuid(objectId, typeHint: false)
        }
        member("UserId", after: &ext)
        writeGuid(context.userId, typeHint: false)
        ext.flushAll(namespace: ns, to: &self)
    }

    /// Names the next member of an SDK contract (contracts namespace), after writing the unknown members that sort
    /// before it.
    @inline(__always)
    mutating func member(_ name: String, after ext: inout ExtensionCursor) {
        ext.flush(before: name, namespace: XMLNamespaces.contracts, to: &self)
        member(name, namespace: XMLNamespaces.contracts)
    }

    mutating func writeOptionalString(_ value: String?) {
        if let value { writeString(value, typeHint: false) } else { writeNull() }
    }

    /// A `ParameterCollection`, `AttributeCollection` or `KeyAttributeCollection`.
    mutating func writeParameters(_ parameters: ParameterCollection) {
        beginCollection(nil, itemNamespace: XMLNamespaces.collectionsGeneric, typeHint: false)
        for entry in parameters.entries {
            item(ContractNames.parameterItem, namespace: XMLNamespaces.contracts)
            beginContract(ContractNames.keyValuePairOfStringAnyType, typeHint: false)
            member("key", namespace: XMLNamespaces.collectionsGeneric)
            writeString(entry.key, typeHint: false)
            member("value", namespace: XMLNamespaces.collectionsGeneric)
            writeValue(entry.value)
            endContract()
        }
        endCollection()
    }

    mutating func writeFormattedValues(_ values: FormattedValueCollection) {
        beginCollection(nil, itemNamespace: XMLNamespaces.collectionsGeneric, typeHint: false)
        for entry in values.entries {
            item(ContractNames.formattedValueItem, namespace: XMLNamespaces.contracts)
            writeStringPair(entry, typeHint: false)
        }
        endCollection()
    }

    mutating func writeStringPair(_ pair: KeyValuePair<String, String>, typeHint: Bool) {
        beginContract(ContractNames.keyValuePairOfStringString, typeHint: typeHint)
        member("key", namespace: XMLNamespaces.collectionsGeneric)
        writeString(pair.key, typeHint: false)
        member("value", namespace: XMLNamespaces.collectionsGeneric)
        writeString(pair.value, typeHint: false)
        endContract()
    }

    mutating func writeImages(_ images: EntityImageCollection) {
        beginCollection(nil, itemNamespace: XMLNamespaces.collectionsGeneric, typeHint: false)
        for entry in images.entries {
            item(ContractNames.entityImageItem, namespace: XMLNamespaces.contracts)
            beginContract(nil, typeHint: false)
            member("key", namespace: XMLNamespaces.collectionsGeneric)
            writeString(entry.key, typeHint: false)
            member("value", namespace: XMLNamespaces.collectionsGeneric)
            write(entry.value, typeHint: false)
            endContract()
        }
        endCollection()
    }

    mutating func write(_ entity: Entity, typeHint: Bool) {
        let ns = XMLNamespaces.contracts
        var ext = ExtensionCursor(entity.extensionData)
        beginContract(ContractNames.entity, typeHint: typeHint)
        member("Attributes", after: &ext)
        writeParameters(entity.attributes)
        member("EntityState", after: &ext)
        if let state = entity.entityState { writeEnum(state.rawValue, name: state.name) } else { writeNull() }
        member("FormattedValues", after: &ext)
        writeFormattedValues(entity.formattedValues)
        member("Id", after: &ext)
        writeGuid(entity.id, typeHint: false)
        member("KeyAttributes", after: &ext)
        writeParameters(entity.keyAttributes)
        member("LogicalName", after: &ext)
        writeOptionalString(entity.logicalName)
        member("RelatedEntities", after: &ext)
        writeRelatedEntities(entity.relatedEntities)
        member("RowVersion", after: &ext)
        writeOptionalString(entity.rowVersion)
        ext.flushAll(namespace: ns, to: &self)
        endContract()
    }

    mutating func writeRelatedEntities(_ related: [KeyValuePair<Relationship, EntityCollection>]) {
        beginCollection(nil, itemNamespace: XMLNamespaces.collectionsGeneric, typeHint: false)
        for entry in related {
            item(ContractNames.relatedEntityItem, namespace: XMLNamespaces.contracts)
            beginContract(nil, typeHint: false)
            member("key", namespace: XMLNamespaces.collectionsGeneric)
            write(entry.key)
            member("value", namespace: XMLNamespaces.collectionsGeneric)
            write(entry.value, typeHint: false)
            endContract()
        }
        endCollection()
    }

    mutating func write(_ relationship: Relationship) {
        let ns = XMLNamespaces.contracts
        var ext = ExtensionCursor(relationship.extensionData)
        beginContract(ContractNames.relationship, typeHint: false)
        member("PrimaryEntityRole", after: &ext)
        if let role = relationship.primaryEntityRole {
            writeEnum(role, name: role == 0 ? "Referencing" : role == 1 ? "Referenced" : nil)
        } else {
            writeNull()
        }
        member("SchemaName", after: &ext)
        writeOptionalString(relationship.schemaName)
        ext.flushAll(namespace: ns, to: &self)
        endContract()
    }

    mutating func write(_ reference: EntityReference, typeHint: Bool) {
        let ns = XMLNamespaces.contracts
        var ext = ExtensionCursor(reference.extensionData)
        beginContract(ContractNames.entityReference, typeHint: typeHint)
        member("Id", after: &ext)
        writeGuid(reference.id, typeHint: false)
        member("KeyAttributes", after: &ext)
        writeParameters(reference.keyAttributes)
        member("LogicalName", after: &ext)
        writeOptionalString(reference.logicalName)
        member("Name", after: &ext)
        writeOptionalString(reference.name)
        member("RowVersion", after: &ext)
        writeOptionalString(reference.rowVersion)
        ext.flushAll(namespace: ns, to: &self)
        endContract()
    }

    mutating func write(_ collection: EntityCollection, typeHint: Bool) {
        let ns = XMLNamespaces.contracts
        var ext = ExtensionCursor(collection.extensionData)
        beginContract(ContractNames.entityCollection, typeHint: typeHint)
        member("Entities", after: &ext)
        beginCollection(nil, itemNamespace: ns, typeHint: false)
        for entity in collection.entities {
            item("Entity", namespace: ns)
            write(entity, typeHint: false)
        }
        endCollection()
        member("EntityName", after: &ext)
        writeOptionalString(collection.entityName)
        member("MinActiveRowVersion", after: &ext)
        writeOptionalString(collection.minActiveRowVersion)
        member("MoreRecords", after: &ext)
        writeBool(collection.moreRecords, typeHint: false)
        member("PagingCookie", after: &ext)
        writeOptionalString(collection.pagingCookie)
        member("TotalRecordCount", after: &ext)
        writeInt32(collection.totalRecordCount, typeHint: false)
        member("TotalRecordCountLimitExceeded", after: &ext)
        writeBool(collection.totalRecordCountLimitExceeded, typeHint: false)
        ext.flushAll(namespace: ns, to: &self)
        endContract()
    }

    mutating func write(_ option: OptionSetValue, typeHint: Bool) {
        let ns = XMLNamespaces.contracts
        var ext = ExtensionCursor(option.extensionData)
        beginContract(ContractNames.optionSetValue, typeHint: typeHint)
        member("Value", after: &ext)
        writeInt32(option.value, typeHint: false)
        ext.flushAll(namespace: ns, to: &self)
        endContract()
    }

    mutating func write(_ money: Money, typeHint: Bool) {
        let ns = XMLNamespaces.contracts
        var ext = ExtensionCursor(money.extensionData)
        beginContract(ContractNames.money, typeHint: typeHint)
        member("Value", after: &ext)
        writeDecimal(money.value, typeHint: false)
        ext.flushAll(namespace: ns, to: &self)
        endContract()
    }

    mutating func write(_ aliased: AliasedValue, typeHint: Bool) {
        let ns = XMLNamespaces.contracts
        var ext = ExtensionCursor(aliased.extensionData)
        beginContract(ContractNames.aliasedValue, typeHint: typeHint)
        member("AttributeLogicalName", after: &ext)
        writeOptionalString(aliased.attributeLogicalName)
        member("EntityLogicalName", after: &ext)
        writeOptionalString(aliased.entityLogicalName)
        member("Value", after: &ext)
        writeValue(aliased.value)
        ext.flushAll(namespace: ns, to: &self)
        endContract()
    }

    /// A value in an `object`-typed slot.
    mutating func writeValue(_ value: ContextValue) {
        switch value {
        case .null: writeNull()
        case .string(let v): writeString(v, typeHint: true)
        case .boolean(let v): writeBool(v, typeHint: true)
        case .int(let v): writeInt32(v, typeHint: true)
        case .long(let v): writeInt64(v, typeHint: true)
        case .double(let v): writeDouble(v, typeHint: true)
        case .decimal(let v): writeDecimal(v, typeHint: true)
        case .guid(let v): writeGuid(v, typeHint: true)
        case .dateTime(let v): writeDateTime(v, typeHint: true)
        case .entity(let v): write(v, typeHint: true)
        case .entityReference(let v): write(v, typeHint: true)
        case .optionSetValue(let v): write(v, typeHint: true)
        case .money(let v): write(v, typeHint: true)
        case .entityCollection(let v): write(v, typeHint: true)
        case .aliasedValue(let v): write(v, typeHint: true)
        case .keyValuePair(let v): writeStringPair(v, typeHint: true)
        case .optionSetValueCollection(let options):
            beginCollection(
                ContractNames.optionSetValueCollection,
                itemNamespace: XMLNamespaces.contracts,
                typeHint: true
            )
            for option in options {
                item("OptionSetValue", namespace: XMLNamespaces.contracts)
                write(option, typeHint: false)
            }
            endCollection()
        case .entityReferenceCollection(let references):
            beginCollection(
                ContractNames.entityReferenceCollection,
                itemNamespace: XMLNamespaces.contracts,
                typeHint: true
            )
            for reference in references {
                item("EntityReference", namespace: XMLNamespaces.contracts)
                write(reference, typeHint: false)
            }
            endCollection()
        case .array(let array):
            let contract = array.itemType.contract
            beginCollection(contract.array, itemNamespace: contract.itemNamespace, typeHint: true)
            for element in array.items {
                item(contract.item, namespace: contract.itemNamespace)
                writeArrayItem(element, itemType: array.itemType)
            }
            endCollection()
        case .unknown(let unknown):
            writeUnknown(unknown)
        }
    }

    mutating func writeArrayItem(_ element: ContextValue, itemType: ContextArray.ItemType) {
        switch (itemType, element) {
        case (.entity, .entity(let entity)): write(entity, typeHint: false)
        case (.keyValuePair, .keyValuePair(let pair)): writeStringPair(pair, typeHint: false)
        case (.string, .string(let text)): writeString(text, typeHint: false)
        case (.guid, .guid(let guid)): writeGuid(guid, typeHint: false)
        case (.int, .int(let number)): writeInt32(number, typeHint: false)
        case (_, .null): writeNull()
        default: writeValue(element)
        }
    }

    mutating func writeUnknown(_ unknown: UnknownValue) {
        switch unknown.content {
        case .object(_, let members):
            beginContract(unknown.type, typeHint: unknown.type != nil)
            let ns = unknown.type?.namespace ?? XMLNamespaces.contracts
            for member in members { writeExtensionMember(member, defaultNamespace: ns) }
            endContract()
        case .string(let text):
            if let type = unknown.type {
                writeTypedText(text, type: type, jsonNumber: false)
            } else {
                writeString(text, typeHint: false)
            }
        case .number(let text):
            if let type = unknown.type {
                writeTypedText(text, type: type, jsonNumber: true)
            } else {
                writeRawNumber(text)
            }
        default:
            writeExtensionValue(unknown.content, namespace: unknown.type?.namespace ?? XMLNamespaces.contracts)
        }
    }
}

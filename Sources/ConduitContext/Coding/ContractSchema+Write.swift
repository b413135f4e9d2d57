/// The shape of each contract, written once for every format.
extension ContractWriter {
    mutating func write(_ context: RemoteExecutionContext) {
        let ns = XMLNamespaces.contracts
        var ext = ExtensionCursor(context.extensionData)
        func m(_ name: String, _ writer: inout Self, _ ext: inout ExtensionCursor) {
            ext.flush(before: name, namespace: ns, to: &writer)
            writer.member(name, namespace: ns)
        }
        m("BusinessUnitId", &self, &ext)
        writeGuid(context.businessUnitId, typeHint: false)
        m("CorrelationId", &self, &ext)
        writeGuid(context.correlationId, typeHint: false)
        m("Depth", &self, &ext)
        writeInt32(context.depth, typeHint: false)
        if let agent = context.initiatingUserAgent {
            m("InitiatingUserAgent", &self, &ext)
            writeString(agent, typeHint: false)
        }
        if let objectId = context.initiatingUserAzureActiveDirectoryObjectId {
            m("InitiatingUserAzureActiveDirectoryObjectId", &self, &ext)
            writeGuid(objectId, typeHint: false)
        }
        m("InitiatingUserId", &self, &ext)
        writeGuid(context.initiatingUserId, typeHint: false)
        m("InputParameters", &self, &ext)
        writeParameters(context.inputParameters)
        m("IsExecutingOffline", &self, &ext)
        writeBool(context.isExecutingOffline, typeHint: false)
        m("IsInTransaction", &self, &ext)
        writeBool(context.isInTransaction, typeHint: false)
        m("IsOfflinePlayback", &self, &ext)
        writeBool(context.isOfflinePlayback, typeHint: false)
        m("IsolationMode", &self, &ext)
        writeInt32(context.isolationMode, typeHint: false)
        m("MessageName", &self, &ext)
        writeOptionalString(context.messageName)
        m("Mode", &self, &ext)
        writeInt32(context.mode, typeHint: false)
        m("OperationCreatedOn", &self, &ext)
        writeDateTime(context.operationCreatedOn, typeHint: false)
        m("OperationId", &self, &ext)
        writeGuid(context.operationId, typeHint: false)
        m("OrganizationId", &self, &ext)
        writeGuid(context.organizationId, typeHint: false)
        m("OrganizationName", &self, &ext)
        writeOptionalString(context.organizationName)
        m("OutputParameters", &self, &ext)
        writeParameters(context.outputParameters)
        m("OwningExtension", &self, &ext)
        if let owner = context.owningExtension { write(owner, typeHint: false) } else { writeNull() }
        m("ParentContext", &self, &ext)
        if let parent = context.parentContext?.context {
            beginContract(ContractNames.remoteExecutionContext, typeHint: false)
            write(parent)
            endContract()
        } else {
            writeNull()
        }
        m("PostEntityImages", &self, &ext)
        writeImages(context.postEntityImages)
        m("PreEntityImages", &self, &ext)
        writeImages(context.preEntityImages)
        m("PrimaryEntityId", &self, &ext)
        writeGuid(context.primaryEntityId, typeHint: false)
        m("PrimaryEntityName", &self, &ext)
        writeOptionalString(context.primaryEntityName)
        m("RequestId", &self, &ext)
        if let requestId = context.requestId { writeGuid(requestId, typeHint: false) } else { writeNull() }
        m("SecondaryEntityName", &self, &ext)
        writeOptionalString(context.secondaryEntityName)
        m("SharedVariables", &self, &ext)
        writeParameters(context.sharedVariables)
        m("Stage", &self, &ext)
        writeInt32(context.stage, typeHint: false)
        if let objectId = context.userAzureActiveDirectoryObjectId {
            m("UserAzureActiveDirectoryObjectId", &self, &ext)
            writeGuid(objectId, typeHint: false)
        }
        m("UserId", &self, &ext)
        writeGuid(context.userId, typeHint: false)
        ext.flushAll(namespace: ns, to: &self)
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
        ext.flush(before: "Attributes", namespace: ns, to: &self)
        member("Attributes", namespace: ns)
        writeParameters(entity.attributes)
        ext.flush(before: "EntityState", namespace: ns, to: &self)
        member("EntityState", namespace: ns)
        if let state = entity.entityState { writeEnum(state.rawValue, name: state.name) } else { writeNull() }
        ext.flush(before: "FormattedValues", namespace: ns, to: &self)
        member("FormattedValues", namespace: ns)
        writeFormattedValues(entity.formattedValues)
        ext.flush(before: "Id", namespace: ns, to: &self)
        member("Id", namespace: ns)
        writeGuid(entity.id, typeHint: false)
        ext.flush(before: "KeyAttributes", namespace: ns, to: &self)
        member("KeyAttributes", namespace: ns)
        writeParameters(entity.keyAttributes)
        ext.flush(before: "LogicalName", namespace: ns, to: &self)
        member("LogicalName", namespace: ns)
        writeOptionalString(entity.logicalName)
        ext.flush(before: "RelatedEntities", namespace: ns, to: &self)
        member("RelatedEntities", namespace: ns)
        writeRelatedEntities(entity.relatedEntities)
        ext.flush(before: "RowVersion", namespace: ns, to: &self)
        member("RowVersion", namespace: ns)
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
        ext.flush(before: "PrimaryEntityRole", namespace: ns, to: &self)
        member("PrimaryEntityRole", namespace: ns)
        if let role = relationship.primaryEntityRole {
            writeEnum(role, name: role == 0 ? "Referencing" : role == 1 ? "Referenced" : nil)
        } else {
            writeNull()
        }
        ext.flush(before: "SchemaName", namespace: ns, to: &self)
        member("SchemaName", namespace: ns)
        writeOptionalString(relationship.schemaName)
        ext.flushAll(namespace: ns, to: &self)
        endContract()
    }

    mutating func write(_ reference: EntityReference, typeHint: Bool) {
        let ns = XMLNamespaces.contracts
        var ext = ExtensionCursor(reference.extensionData)
        beginContract(ContractNames.entityReference, typeHint: typeHint)
        ext.flush(before: "Id", namespace: ns, to: &self)
        member("Id", namespace: ns)
        writeGuid(reference.id, typeHint: false)
        ext.flush(before: "KeyAttributes", namespace: ns, to: &self)
        member("KeyAttributes", namespace: ns)
        writeParameters(reference.keyAttributes)
        ext.flush(before: "LogicalName", namespace: ns, to: &self)
        member("LogicalName", namespace: ns)
        writeOptionalString(reference.logicalName)
        ext.flush(before: "Name", namespace: ns, to: &self)
        member("Name", namespace: ns)
        writeOptionalString(reference.name)
        ext.flush(before: "RowVersion", namespace: ns, to: &self)
        member("RowVersion", namespace: ns)
        writeOptionalString(reference.rowVersion)
        ext.flushAll(namespace: ns, to: &self)
        endContract()
    }

    mutating func write(_ collection: EntityCollection, typeHint: Bool) {
        let ns = XMLNamespaces.contracts
        var ext = ExtensionCursor(collection.extensionData)
        beginContract(ContractNames.entityCollection, typeHint: typeHint)
        ext.flush(before: "Entities", namespace: ns, to: &self)
        member("Entities", namespace: ns)
        beginCollection(nil, itemNamespace: ns, typeHint: false)
        for entity in collection.entities {
            item("Entity", namespace: ns)
            write(entity, typeHint: false)
        }
        endCollection()
        ext.flush(before: "EntityName", namespace: ns, to: &self)
        member("EntityName", namespace: ns)
        writeOptionalString(collection.entityName)
        ext.flush(before: "MinActiveRowVersion", namespace: ns, to: &self)
        member("MinActiveRowVersion", namespace: ns)
        writeOptionalString(collection.minActiveRowVersion)
        ext.flush(before: "MoreRecords", namespace: ns, to: &self)
        member("MoreRecords", namespace: ns)
        writeBool(collection.moreRecords, typeHint: false)
        ext.flush(before: "PagingCookie", namespace: ns, to: &self)
        member("PagingCookie", namespace: ns)
        writeOptionalString(collection.pagingCookie)
        ext.flush(before: "TotalRecordCount", namespace: ns, to: &self)
        member("TotalRecordCount", namespace: ns)
        writeInt32(collection.totalRecordCount, typeHint: false)
        ext.flush(before: "TotalRecordCountLimitExceeded", namespace: ns, to: &self)
        member("TotalRecordCountLimitExceeded", namespace: ns)
        writeBool(collection.totalRecordCountLimitExceeded, typeHint: false)
        ext.flushAll(namespace: ns, to: &self)
        endContract()
    }

    mutating func write(_ option: OptionSetValue, typeHint: Bool) {
        let ns = XMLNamespaces.contracts
        var ext = ExtensionCursor(option.extensionData)
        beginContract(ContractNames.optionSetValue, typeHint: typeHint)
        ext.flush(before: "Value", namespace: ns, to: &self)
        member("Value", namespace: ns)
        writeInt32(option.value, typeHint: false)
        ext.flushAll(namespace: ns, to: &self)
        endContract()
    }

    mutating func write(_ money: Money, typeHint: Bool) {
        let ns = XMLNamespaces.contracts
        var ext = ExtensionCursor(money.extensionData)
        beginContract(ContractNames.money, typeHint: typeHint)
        ext.flush(before: "Value", namespace: ns, to: &self)
        member("Value", namespace: ns)
        writeDecimal(money.value, typeHint: false)
        ext.flushAll(namespace: ns, to: &self)
        endContract()
    }

    mutating func write(_ aliased: AliasedValue, typeHint: Bool) {
        let ns = XMLNamespaces.contracts
        var ext = ExtensionCursor(aliased.extensionData)
        beginContract(ContractNames.aliasedValue, typeHint: typeHint)
        ext.flush(before: "AttributeLogicalName", namespace: ns, to: &self)
        member("AttributeLogicalName", namespace: ns)
        writeOptionalString(aliased.attributeLogicalName)
        ext.flush(before: "EntityLogicalName", namespace: ns, to: &self)
        member("EntityLogicalName", namespace: ns)
        writeOptionalString(aliased.entityLogicalName)
        ext.flush(before: "Value", namespace: ns, to: &self)
        member("Value", namespace: ns)
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
            beginCollection(ContractNames.optionSetValueCollection, itemNamespace: XMLNamespaces.contracts, typeHint: true)
            for option in options {
                item("OptionSetValue", namespace: XMLNamespaces.contracts)
                write(option, typeHint: false)
            }
            endCollection()
        case .entityReferenceCollection(let references):
            beginCollection(
                ContractNames.entityReferenceCollection, itemNamespace: XMLNamespaces.contracts, typeHint: true)
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
            if let type = unknown.type { writeTypedText(text, type: type, jsonNumber: true) } else { writeRawNumber(text) }
        default:
            writeExtensionValue(unknown.content, namespace: unknown.type?.namespace ?? XMLNamespaces.contracts)
        }
    }
}

/// The data contract names Conduit writes and recognises.
enum ContractNames {
    static let contracts = XMLNamespaces.contracts
    static let generic = XMLNamespaces.collectionsGeneric

    static let remoteExecutionContext = ContractName(name: "RemoteExecutionContext", namespace: contracts)
    static let entity = ContractName(name: "Entity", namespace: contracts)
    static let entityReference = ContractName(name: "EntityReference", namespace: contracts)
    static let optionSetValue = ContractName(name: "OptionSetValue", namespace: contracts)
    static let money = ContractName(name: "Money", namespace: contracts)
    static let entityCollection = ContractName(name: "EntityCollection", namespace: contracts)
    static let aliasedValue = ContractName(name: "AliasedValue", namespace: contracts)
    static let optionSetValueCollection = ContractName(name: "OptionSetValueCollection", namespace: contracts)
    static let entityReferenceCollection = ContractName(name: "EntityReferenceCollection", namespace: contracts)
    static let relationship = ContractName(name: "Relationship", namespace: contracts)
    static let keyValuePairOfStringString = ContractName(name: "KeyValuePairOfstringstring", namespace: generic)
    static let keyValuePairOfStringAnyType = ContractName(name: "KeyValuePairOfstringanyType", namespace: generic)

    /// Item element names of the SDK collections (in the contracts namespace).
    static let parameterItem = "KeyValuePairOfstringanyType"
    static let formattedValueItem = "KeyValuePairOfstringstring"
    static let entityImageItem = "KeyValuePairOfstringEntitygUGIFE1S"
    static let relatedEntityItem = "KeyValuePairOfRelationshipEntityCollectionX_PsK4FkN"

    static let arrayOfAnyType = ContractName(name: "ArrayOfanyType", namespace: XMLNamespaces.serializationArrays)
    static let arrayOfEntity = ContractName(name: "ArrayOfEntity", namespace: contracts)
    static let arrayOfKeyValuePair = ContractName(name: "ArrayOfKeyValuePairOfstringstring", namespace: generic)
    static let arrayOfString = ContractName(name: "ArrayOfstring", namespace: XMLNamespaces.serializationArrays)
    static let arrayOfGuid = ContractName(name: "ArrayOfguid", namespace: XMLNamespaces.serializationArrays)
    static let arrayOfInt = ContractName(name: "ArrayOfint", namespace: XMLNamespaces.serializationArrays)
}

extension ContextArray.ItemType {
    /// The array's contract and its item element name and namespace.
    var contract: (array: ContractName, item: String, itemNamespace: String) {
        switch self {
        case .anyType: return (ContractNames.arrayOfAnyType, "anyType", XMLNamespaces.serializationArrays)
        case .entity: return (ContractNames.arrayOfEntity, "Entity", XMLNamespaces.contracts)
        case .keyValuePair:
            return (ContractNames.arrayOfKeyValuePair, "KeyValuePairOfstringstring", XMLNamespaces.collectionsGeneric)
        case .string: return (ContractNames.arrayOfString, "string", XMLNamespaces.serializationArrays)
        case .guid: return (ContractNames.arrayOfGuid, "guid", XMLNamespaces.serializationArrays)
        case .int: return (ContractNames.arrayOfInt, "int", XMLNamespaces.serializationArrays)
        }
    }

    /// The item type of an array contract name.
    init?(arrayContract name: ContractName) {
        switch (name.name, name.namespace) {
        case ("ArrayOfanyType", XMLNamespaces.serializationArrays): self = .anyType
        case ("ArrayOfEntity", XMLNamespaces.contracts): self = .entity
        case ("ArrayOfKeyValuePairOfstringstring", XMLNamespaces.collectionsGeneric): self = .keyValuePair
        case ("ArrayOfstring", XMLNamespaces.serializationArrays): self = .string
        case ("ArrayOfguid", XMLNamespaces.serializationArrays): self = .guid
        case ("ArrayOfint", XMLNamespaces.serializationArrays): self = .int
        default: return nil
        }
    }
}

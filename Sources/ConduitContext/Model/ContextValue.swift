/// A value in an `object`-typed slot of the execution context: an attribute value, a parameter value, a shared
/// variable, a key attribute value or an `AliasedValue`'s value.
///
/// JSON writes contract values with a leading `"__type"` and primitives bare; XML and binary write every value with
/// an `i:type`. JSON cannot tell a GUID from a string, so a GUID read from JSON is a ``string(_:)``, as it is for a
/// .NET listener reading JSON.
public indirect enum ContextValue: Hashable, Sendable {
    /// `null` / `i:nil="true"`.
    case null
    /// `string` (`xs:string`).
    case string(String)
    /// `bool` (`xs:boolean`).
    case boolean(Bool)
    /// `int` (`xs:int`).
    case int(Int32)
    /// `long` (`xs:long`).
    case long(Int64)
    /// `double` (`xs:double`).
    case double(Double)
    /// `decimal` (`xs:decimal`), exact.
    case decimal(DotNetDecimal)
    /// `Guid` (`ser:guid`).
    case guid(Guid)
    /// `DateTime` (`xs:dateTime`, JSON `\/Date(…)\/`).
    case dateTime(DotNetDateTime)
    /// `Entity`.
    case entity(Entity)
    /// `EntityReference`.
    case entityReference(EntityReference)
    /// `OptionSetValue`.
    case optionSetValue(OptionSetValue)
    /// `Money`.
    case money(Money)
    /// `EntityCollection`.
    case entityCollection(EntityCollection)
    /// `AliasedValue`.
    case aliasedValue(AliasedValue)
    /// `OptionSetValueCollection` (multi-select choices).
    case optionSetValueCollection([OptionSetValue])
    /// `EntityReferenceCollection`.
    case entityReferenceCollection([EntityReference])
    /// `KeyValuePair<string,string>` (JSON `KeyValuePairOfstringstring:#System.Collections.Generic`).
    case keyValuePair(KeyValuePair<String, String>)
    /// An array: `object[]` (`ArrayOfanyType`) or an array of one contract type (`ArrayOfEntity`, …).
    case array(ContextArray)
    /// A value of a type this version does not model, kept whole for the round trip.
    case unknown(UnknownValue)
}

extension ContextValue {
    /// A choice column's number: an `OptionSetValue`'s value, or a plain `int` (as clients send choices too).
    public var optionValue: Int32? {
        switch self {
        case .optionSetValue(let option): option.value
        case .int(let number): number
        default: nil
        }
    }
}

/// An array value: its item contract and items.
public struct ContextArray: Hashable, Sendable {
    /// What the array holds, which decides its XML type name and whether items carry type hints.
    public enum ItemType: Hashable, Sendable {
        /// `object[]` / `List<object>`: XML `ArrayOfanyType` with `anyType` items that each carry `i:type`;
        /// JSON items carry `__type`.
        case anyType
        /// `Entity[]`: XML `ArrayOfEntity` (contracts namespace).
        case entity
        /// `KeyValuePair<string,string>[]`: XML `ArrayOfKeyValuePairOfstringstring`.
        case keyValuePair
        /// `string[]`: XML `ArrayOfstring` (serialization arrays namespace).
        case string
        /// `Guid[]`: XML `ArrayOfguid`.
        case guid
        /// `int[]`: XML `ArrayOfint`.
        case int
    }

    /// The item contract.
    public var itemType: ItemType
    /// The items.
    public var items: [ContextValue]

    /// Creates an array.
    public init(itemType: ItemType, items: [ContextValue]) {
        self.itemType = itemType
        self.items = items
    }
}

/// A value whose type the decoder did not know: its contract name (when the wire gave one) and its content.
public struct UnknownValue: Hashable, Sendable {
    /// The `__type` / `i:type` contract, when present.
    public var type: ContractName?
    /// The content.
    public var content: ExtensionValue

    /// Creates an unknown value.
    public init(type: ContractName?, content: ExtensionValue) {
        self.type = type
        self.content = content
    }
}

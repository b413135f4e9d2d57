/// What the data-contract encoders (JSON, and XML for both text and binary) have in common: the contract shapes in
/// `ContractSchema+Write.swift` are written once against this protocol.
///
/// A value is written after ``member(_:namespace:)`` or ``item(_:namespace:)`` names its slot. `typeHint` is `true`
/// in `object`-typed slots: XML then writes `i:type` for every value, JSON writes `"__type"` for contract values.
protocol ContractWriter {
    /// Names the next member of the current contract.
    mutating func member(_ name: String, namespace: String)
    /// Names the next item of the current collection.
    mutating func item(_ name: String, namespace: String)

    mutating func writeNull()
    mutating func writeString(_ value: String, typeHint: Bool)
    mutating func writeBool(_ value: Bool, typeHint: Bool)
    mutating func writeInt32(_ value: Int32, typeHint: Bool)
    mutating func writeInt64(_ value: Int64, typeHint: Bool)
    mutating func writeDouble(_ value: Double, typeHint: Bool)
    mutating func writeDecimal(_ value: DotNetDecimal, typeHint: Bool)
    mutating func writeGuid(_ value: Guid, typeHint: Bool)
    mutating func writeDateTime(_ value: DotNetDateTime, typeHint: Bool)
    /// An enum: JSON writes the number, XML the member name.
    mutating func writeEnum(_ value: Int32, name: String?)
    /// A number kept as text (an unknown JSON number).
    mutating func writeRawNumber(_ text: String)
    /// A primitive of a type this version does not model, with its XML type (JSON: a number or a string).
    mutating func writeTypedText(_ text: String, type: ContractName, jsonNumber: Bool)

    /// Starts a contract value (`{` / element start). `type` is written as a hint when `typeHint` is `true`.
    mutating func beginContract(_ type: ContractName?, typeHint: Bool)
    mutating func endContract()
    /// Starts a collection (`[` / element start) whose items are contracts of `itemNamespace`.
    /// `type` is the collection's own contract, hinted in XML when `typeHint` is `true`.
    mutating func beginCollection(_ type: ContractName?, itemNamespace: String, typeHint: Bool)
    mutating func endCollection()
}

/// Writes a contract's unknown members in ordinal order among its known members.
struct ExtensionCursor {
    private let members: [ExtensionMember]
    private var next = 0

    init(_ data: ExtensionData) {
        self.members = data.members
    }

    /// Writes the unknown members that sort before `name`.
    @inline(__always)
    mutating func flush<W: ContractWriter>(before name: String, namespace: String, to writer: inout W) {
        guard next < members.count else { return }
        while next < members.count, members[next].name.utf8.lexicographicallyPrecedes(name.utf8) {
            writer.writeExtensionMember(members[next], defaultNamespace: namespace)
            next += 1
        }
    }

    /// Writes the unknown members left.
    mutating func flushAll<W: ContractWriter>(namespace: String, to writer: inout W) {
        while next < members.count {
            writer.writeExtensionMember(members[next], defaultNamespace: namespace)
            next += 1
        }
    }
}

extension ContractWriter {
    mutating func writeExtensionMember(_ member: ExtensionMember, defaultNamespace: String) {
        self.member(member.name, namespace: member.namespace ?? defaultNamespace)
        writeExtensionValue(member.value, namespace: member.namespace ?? defaultNamespace)
    }

    mutating func writeExtensionValue(_ value: ExtensionValue, namespace: String) {
        switch value {
        case .null:
            writeNull()
        case .string(let text):
            writeString(text, typeHint: false)
        case .number(let text):
            writeRawNumber(text)
        case .boolean(let flag):
            writeBool(flag, typeHint: false)
        case .typedText(let type, let text):
            writeTypedText(text, type: type, jsonNumber: false)
        case .object(let type, let members):
            beginContract(type, typeHint: type != nil)
            let memberNamespace = type?.namespace ?? namespace
            for member in members {
                writeExtensionMember(member, defaultNamespace: memberNamespace)
            }
            endContract()
        case .array(let items):
            beginCollection(nil, itemNamespace: namespace, typeHint: false)
            for item in items {
                self.item("anyType", namespace: namespace)
                writeExtensionValue(item, namespace: namespace)
            }
            endCollection()
        }
    }
}

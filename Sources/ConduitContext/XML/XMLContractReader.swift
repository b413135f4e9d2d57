/// Reads the `DataContractSerializer` infoset (from text XML or [MC-NBFX] records) into the model: namespaces are
/// resolved by URI, whatever the prefixes; `i:type` and `i:nil` are honoured; unknown members are kept.
struct XMLContractReader<Nodes: XMLNodeReader>: ContractReader {
    private var nodes: Nodes
    private var scopes = NamespaceScopes()
    private(set) var currentMemberName = ""
    /// The start element whose content is to be read next.
    private var slot = Slot()

    struct Slot {
        var name = ""
        var namespace = ""
        var type: ContractName?
        var isNil = false
    }

    init(nodes: Nodes) {
        self.nodes = nodes
    }

    func error(_ message: String) -> ContextCodingError {
        nodes.error(message)
    }

    mutating func readDocument() throws(ContextCodingError) -> RemoteExecutionContext {
        guard case .startElement(let prefix, let localName, let attributes) = try nextSignificant() else {
            throw error("the document has no root element")
        }
        try enter(prefix: prefix, localName: localName, attributes: attributes)
        guard slot.name == "RemoteExecutionContext", slot.namespace == XMLNamespaces.contracts else {
            throw error(
                "the root element is {\(slot.namespace)}\(slot.name), expected RemoteExecutionContext in \(XMLNamespaces.contracts)"
            )
        }
        guard try beginContract() else { throw error("the root element is nil") }
        let context = try readContext()
        guard case .endOfDocument = try nextSignificant() else { throw error("content after the root element") }
        return context
    }

    // MARK: - Nodes

    /// The next node that is not whitespace-only text.
    private mutating func nextSignificant() throws(ContextCodingError) -> XMLNode {
        while true {
            let node = try nodes.next()
            if case .text(.string(let text)) = node,
                text.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 })
            {
                continue
            }
            return node
        }
    }

    /// Opens the scope of a start element and makes it the slot.
    private mutating func enter(
        prefix: String,
        localName: String,
        attributes: [XMLAttribute]
    ) throws(ContextCodingError) {
        scopes.push()
        for attribute in attributes where attribute.isNamespaceDeclaration {
            let namespace = try plainText(attribute.value)
            scopes.bind(prefix: attribute.prefix.isEmpty ? "" : attribute.localName, to: namespace)
        }
        guard
            let namespace = prefix == "xml"
                ? XMLNamespaces.xml : scopes.namespace(for: prefix) ?? (prefix.isEmpty ? "" : nil)
        else { throw error("the prefix '\(prefix)' of <\(prefix):\(localName)> is not declared") }
        slot = Slot(name: localName, namespace: namespace)
        for attribute in attributes where !attribute.isNamespaceDeclaration && !attribute.prefix.isEmpty {
            guard scopes.namespace(for: attribute.prefix) == XMLNamespaces.schemaInstance else { continue }
            switch attribute.localName {
            case "type":
                let qualified = try plainText(attribute.value)
                let parts = qualified.split(separator: ":", maxSplits: 1)
                let typePrefix = parts.count == 2 ? String(parts[0]) : ""
                let typeName = String(parts.count == 2 ? parts[1] : parts[0])
                guard let typeNamespace = scopes.namespace(for: typePrefix) ?? (typePrefix.isEmpty ? "" : nil) else {
                    throw error("the prefix '\(typePrefix)' in i:type=\"\(qualified)\" is not declared")
                }
                slot.type = ContractName(name: typeName, namespace: typeNamespace)
            case "nil":
                let text = try plainText(attribute.value)
                slot.isNil = text == "true" || text == "1"
            default:
                break
            }
        }
    }

    private func plainText(_ value: XMLTextValue) throws(ContextCodingError) -> String {
        value.text(localOffsetMinutes: 0)
    }

    /// Reads the text content of the slot up to its end. Child elements are an error.
    private mutating func readContent() throws(ContextCodingError) -> [XMLTextValue] {
        var parts: [XMLTextValue] = []
        while true {
            switch try nodes.next() {
            case .text(let value): parts.append(value)
            case .endElement:
                scopes.pop()
                return parts
            case .startElement(let prefix, let localName, _):
                throw error(
                    "<\(slot.name)> must hold text, but holds the element <\(prefix.isEmpty ? "" : prefix + ":")\(localName)>"
                )
            case .endOfDocument:
                throw error("the document ends inside <\(slot.name)>")
            }
        }
    }

    /// The slot's content as one string.
    private mutating func readText() throws(ContextCodingError) -> String {
        let parts = try readContent()
        if parts.count == 1 { return parts[0].text(localOffsetMinutes: 0) }
        return parts.map { $0.text(localOffsetMinutes: 0) }.joined()
    }

    /// The slot's content as a single typed value when the binary format gave one.
    private mutating func readTyped() throws(ContextCodingError) -> XMLTextValue {
        let parts = try readContent()
        if parts.count == 1 { return parts[0] }
        return .string(parts.map { $0.text(localOffsetMinutes: 0) }.joined())
    }

    private mutating func skipNil() throws(ContextCodingError) {
        let parts = try readContent()
        guard parts.allSatisfy({ $0 == .string("") || $0.isWhitespace }) else {
            throw error("<\(slot.name)> has i:nil=\"true\" but also content")
        }
    }

    // MARK: - ContractReader

    mutating func beginContract() throws(ContextCodingError) -> Bool {
        if slot.isNil {
            try skipNil()
            return false
        }
        return true
    }

    mutating func nextMember() throws(ContextCodingError) -> String? {
        switch try nextSignificant() {
        case .startElement(let prefix, let localName, let attributes):
            try enter(prefix: prefix, localName: localName, attributes: attributes)
            currentMemberName = localName
            return localName
        case .endElement:
            scopes.pop()
            return nil
        case .text:
            throw error("unexpected text inside an element that holds members")
        case .endOfDocument:
            throw error("the document ends inside an element")
        }
    }

    mutating func beginCollection() throws(ContextCodingError) -> Bool {
        try beginContract()
    }

    mutating func nextItem() throws(ContextCodingError) -> Bool {
        try nextMember() != nil
    }

    mutating func readString() throws(ContextCodingError) -> String? {
        if slot.isNil {
            try skipNil()
            return nil
        }
        return try readText()
    }

    mutating func readBool() throws(ContextCodingError) -> Bool {
        let name = slot.name
        switch try readTyped() {
        case .bool(let value): return value
        case .int32(0): return false
        case .int32(1): return true
        case let other:
            switch other.text(localOffsetMinutes: 0).trimmingCharacters(in: " \t\r\n") {
            case "true", "1": return true
            case "false", "0": return false
            case let text: throw error("<\(name)> must be true or false, found \"\(text)\"")
            }
        }
    }

    mutating func readInt32() throws(ContextCodingError) -> Int32 {
        let name = slot.name
        let value = try readTyped()
        switch value {
        case .int32(let number): return number
        case .int64(let number):
            if let narrow = Int32(exactly: number) { return narrow }
        default:
            if let number = Int32(value.text(localOffsetMinutes: 0).trimmingCharacters(in: " \t\r\n")) { return number }
        }
        throw error("<\(name)> must be a 32-bit integer, found \"\(value.text(localOffsetMinutes: 0))\"")
    }

    private mutating func readInt64() throws(ContextCodingError) -> Int64 {
        let name = slot.name
        let value = try readTyped()
        switch value {
        case .int32(let number): return Int64(number)
        case .int64(let number): return number
        default:
            if let number = Int64(value.text(localOffsetMinutes: 0).trimmingCharacters(in: " \t\r\n")) { return number }
        }
        throw error("<\(name)> must be a 64-bit integer, found \"\(value.text(localOffsetMinutes: 0))\"")
    }

    private mutating func readDouble() throws(ContextCodingError) -> Double {
        let name = slot.name
        let value = try readTyped()
        switch value {
        case .double(let number): return number
        case .float(let number): return Double(number)
        case .int32(let number): return Double(number)
        case .int64(let number): return Double(number)
        default:
            let text = value.text(localOffsetMinutes: 0).trimmingCharacters(in: " \t\r\n")
            if let number = DotNetNumberFormat.parseXMLDouble(text) { return number }
            throw error("<\(name)> must be a double, found \"\(text)\"")
        }
    }

    mutating func readGuid() throws(ContextCodingError) -> Guid? {
        if slot.isNil {
            try skipNil()
            return nil
        }
        let name = slot.name
        let value = try readTyped()
        switch value {
        case .guid(let guid), .uniqueId(let guid): return guid
        default:
            let text = value.text(localOffsetMinutes: 0).trimmingCharacters(in: " \t\r\n")
            guard let guid = Guid(text) else { throw error("<\(name)> must be a GUID, found \"\(text)\"") }
            return guid
        }
    }

    mutating func readDateTime() throws(ContextCodingError) -> DotNetDateTime {
        let name = slot.name
        let value = try readTyped()
        if case .dateTime(let date) = value { return date }
        let text = value.text(localOffsetMinutes: 0).trimmingCharacters(in: " \t\r\n")
        guard let date = DotNetDateTime(xmlText: text) else {
            throw error("<\(name)> must be an xs:dateTime such as 2017-09-26T06:44:08Z, found \"\(text)\"")
        }
        return date
    }

    mutating func readDecimal() throws(ContextCodingError) -> DotNetDecimal {
        let name = slot.name
        let value = try readTyped()
        switch value {
        case .decimal(let number): return number
        case .int32(let number): return DotNetDecimal(Int64(number))
        case .int64(let number): return DotNetDecimal(number)
        default:
            let text = value.text(localOffsetMinutes: 0).trimmingCharacters(in: " \t\r\n")
            guard let number = DotNetDecimal(text) else {
                throw error("<\(name)> must be a decimal, found \"\(text)\"")
            }
            return number
        }
    }

    mutating func readEnum(names: (String) -> Int32?) throws(ContextCodingError) -> Int32? {
        if slot.isNil {
            try skipNil()
            return nil
        }
        let name = slot.name
        let text = try readText().trimmingCharacters(in: " \t\r\n")
        if let value = names(text) ?? Int32(text) { return value }
        throw error("<\(name)> has the unknown value \"\(text)\"")
    }

    mutating func readValue() throws(ContextCodingError) -> ContextValue {
        if slot.isNil {
            try skipNil()
            return .null
        }
        guard let type = slot.type else {
            // No i:type: text is a string, elements an untyped object.
            return try unknownValue(type: nil)
        }
        switch (type.namespace, type.name) {
        case (XMLNamespaces.schema, "string"): return .string(try readText())
        case (XMLNamespaces.schema, "boolean"): return .boolean(try readBool())
        case (XMLNamespaces.schema, "int"): return .int(try readInt32())
        case (XMLNamespaces.schema, "long"): return .long(try readInt64())
        case (XMLNamespaces.schema, "double"): return .double(try readDouble())
        case (XMLNamespaces.schema, "decimal"): return .decimal(try readDecimal())
        case (XMLNamespaces.schema, "dateTime"): return .dateTime(try readDateTime())
        case (XMLNamespaces.serialization, "guid"):
            guard let guid = try readGuid() else { return .null }
            return .guid(guid)
        case (XMLNamespaces.contracts, "OptionSetValueCollection"):
            var options: [OptionSetValue] = []
            while try nextItem() {
                guard try beginContract() else { throw error("OptionSetValueCollection must not hold nil") }
                options.append(try readOptionSetValueMembers())
            }
            return .optionSetValueCollection(options)
        case (XMLNamespaces.contracts, "EntityReferenceCollection"):
            var references: [EntityReference] = []
            while try nextItem() {
                guard let reference = try readEntityReference() else {
                    throw error("EntityReferenceCollection must not hold nil")
                }
                references.append(reference)
            }
            return .entityReferenceCollection(references)
        default:
            if let itemType = ContextArray.ItemType(arrayContract: type) {
                var items: [ContextValue] = []
                while try nextItem() { items.append(try readArrayItem(itemType)) }
                return .array(ContextArray(itemType: itemType, items: items))
            }
            if let known = try readKnownContract(type) { return known }
            return try unknownValue(type: type)
        }
    }

    private mutating func readArrayItem(_ itemType: ContextArray.ItemType) throws(ContextCodingError) -> ContextValue {
        if slot.isNil || slot.type != nil { return try readValue() }
        switch itemType {
        case .anyType: return try readValue()
        case .entity: return try readEntity().map { .entity($0) } ?? .null
        case .keyValuePair: return .keyValuePair(try readStringPairMembers())
        case .string: return try readString().map { .string($0) } ?? .null
        case .guid: return try readGuid().map { .guid($0) } ?? .null
        case .int: return .int(try readInt32())
        }
    }

    mutating func readExtension() throws(ContextCodingError) -> ExtensionMember {
        let name = slot.name
        let namespace = slot.namespace
        return ExtensionMember(name: name, namespace: namespace, value: try readExtensionContent())
    }

    /// A value of an unknown type, or without one.
    private mutating func unknownValue(type: ContractName?) throws(ContextCodingError) -> ContextValue {
        var content = try readExtensionContent()
        if let type, case .object(nil, let members) = content { content = .object(type: type, members: members) }
        if let type, case .typedText(_, let text) = content {
            let numeric =
                type.namespace == XMLNamespaces.schema
                && [
                    "short", "byte", "unsignedByte", "unsignedShort", "unsignedInt", "unsignedLong", "float", "integer",
                ]
                .contains(type.name)
            content = numeric ? .number(text) : .string(text)
        }
        return .unknown(UnknownValue(type: type, content: content))
    }

    /// Reads the slot's content whole: nil, text, or child elements.
    private mutating func readExtensionContent() throws(ContextCodingError) -> ExtensionValue {
        if slot.isNil {
            try skipNil()
            return .null
        }
        let type = slot.type
        var text: [XMLTextValue] = []
        var members: [ExtensionMember] = []
        while true {
            switch try nodes.next() {
            case .text(let value):
                text.append(value)
            case .startElement(let prefix, let localName, let attributes):
                try enter(prefix: prefix, localName: localName, attributes: attributes)
                members.append(
                    ExtensionMember(name: slot.name, namespace: slot.namespace, value: try readExtensionContent())
                )
            case .endElement:
                scopes.pop()
                if !members.isEmpty { return .object(type: type, members: members) }
                if type == nil, text.count == 1, let typed = ExtensionValue(binaryText: text[0]) { return typed }
                let joined = text.map { $0.text(localOffsetMinutes: 0) }.joined()
                guard let type else { return .string(joined) }
                if joined.isEmpty && type.namespace != XMLNamespaces.schema
                    && type.namespace != XMLNamespaces.serialization
                {
                    return .object(type: type, members: [])
                }
                return .typedText(type: type, text: joined)
            case .endOfDocument:
                throw error("the document ends inside <\(slot.name)>")
            }
        }
    }
}

extension ExtensionValue {
    /// A typed binary text record as the JSON-like value it was written from (`TrueText` → `true`, numbers as
    /// numbers), so an unknown member read from binary is written back with the same record.
    init?(binaryText value: XMLTextValue) {
        switch value {
        case .bool(let flag): self = .boolean(flag)
        case .int32, .int64, .uint64, .float, .double, .decimal: self = .number(value.text(localOffsetMinutes: 0))
        default: return nil
        }
    }
}

extension XMLTextValue {
    var isWhitespace: Bool {
        if case .string(let text) = self {
            return text.utf8.allSatisfy { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }
        }
        return false
    }
}

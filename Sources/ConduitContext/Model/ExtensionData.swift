/// A value the codecs met but do not model: an unknown member, or the body of an unknown `__type` / `i:type`.
///
/// This is Conduit's version of .NET's `IExtensibleDataObject`: what a decoder does not understand is kept here and
/// written back by the encoder of the same format, in its place, instead of failing or vanishing. Across formats
/// it is carried on a best-effort basis (JSON has no namespaces, XML has no number/string distinction).
public indirect enum ExtensionValue: Hashable, Sendable {
    /// JSON `null`, XML `i:nil="true"`.
    case null
    /// A string (JSON string, or XML text content).
    case string(String)
    /// A JSON number, as written.
    case number(String)
    /// A JSON `true`/`false`.
    case boolean(Bool)
    /// XML text with an `i:type` (a primitive of a type the decoder does not model).
    case typedText(type: ContractName, text: String)
    /// An object (JSON object, XML element with child elements), with its type name when one was given.
    case object(type: ContractName?, members: [ExtensionMember])
    /// A JSON array; in XML, the items of a collection element.
    case array([ExtensionValue])
}

/// A named member of an ``ExtensionValue/object(type:members:)`` or of a contract's ``ExtensionData``.
public struct ExtensionMember: Hashable, Sendable {
    /// The member (element) name.
    public var name: String
    /// The XML namespace of the element, when it came from XML.
    public var namespace: String?
    /// The XML `i:type` of the element, or JSON `__type`, when present.
    public var value: ExtensionValue

    /// Creates a member.
    public init(name: String, namespace: String? = nil, value: ExtensionValue) {
        self.name = name
        self.namespace = namespace
        self.value = value
    }
}

/// Unknown members of a data contract, kept for the round trip.
public struct ExtensionData: Hashable, Sendable {
    /// The members in the order they were read.
    public var members: [ExtensionMember]

    /// No members.
    public init(members: [ExtensionMember] = []) {
        self.members = members
    }

    /// `true` when there are no unknown members.
    public var isEmpty: Bool { members.isEmpty }
}

/// A data contract name: a local name and a namespace, as in `Entity:http://schemas.microsoft.com/xrm/2011/Contracts`.
public struct ContractName: Hashable, Sendable, CustomStringConvertible {
    /// The contract's local name, e.g. `Entity`.
    public var name: String
    /// The contract's namespace URI.
    public var namespace: String

    /// Creates a name.
    public init(name: String, namespace: String) {
        self.name = name
        self.namespace = namespace
    }

    /// The JSON `__type` form: `Name:Namespace`, with `http://schemas.datacontract.org/2004/07/X` shortened to `#X`.
    public var description: String { jsonTypeHint }

    /// The JSON `__type` form.
    public var jsonTypeHint: String {
        if namespace.hasPrefix(XMLNamespaces.dataContractPrefix) {
            return name + ":#" + namespace.dropFirst(XMLNamespaces.dataContractPrefix.count)
        }
        return namespace.isEmpty ? name : name + ":" + namespace
    }

    /// Parses a JSON `__type` value.
    public init(jsonTypeHint: String) {
        guard let colon = jsonTypeHint.firstIndex(of: ":") else {
            self.init(name: jsonTypeHint, namespace: "")
            return
        }
        let name = String(jsonTypeHint[..<colon])
        var namespace = String(jsonTypeHint[jsonTypeHint.index(after: colon)...])
        if namespace.hasPrefix("#") {
            namespace = XMLNamespaces.dataContractPrefix + namespace.dropFirst()
        }
        self.init(name: name, namespace: namespace)
    }
}

/// The XML namespaces of the DataContract formats.
public enum XMLNamespaces {
    /// `http://schemas.microsoft.com/xrm/2011/Contracts`, the SDK contracts.
    public static let contracts = "http://schemas.microsoft.com/xrm/2011/Contracts"
    /// `http://schemas.datacontract.org/2004/07/System.Collections.Generic`, `KeyValuePair` members.
    public static let collectionsGeneric = "http://schemas.datacontract.org/2004/07/System.Collections.Generic"
    /// `http://www.w3.org/2001/XMLSchema-instance` (`i:type`, `i:nil`).
    public static let schemaInstance = "http://www.w3.org/2001/XMLSchema-instance"
    /// `http://www.w3.org/2001/XMLSchema`, the primitive type names.
    public static let schema = "http://www.w3.org/2001/XMLSchema"
    /// `http://schemas.microsoft.com/2003/10/Serialization/`, `guid`, `char`, `duration`.
    public static let serialization = "http://schemas.microsoft.com/2003/10/Serialization/"
    /// `http://schemas.microsoft.com/2003/10/Serialization/Arrays`, `ArrayOfanyType` and primitive arrays.
    public static let serializationArrays = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
    /// The prefix .NET shortens to `#` in JSON type hints.
    public static let dataContractPrefix = "http://schemas.datacontract.org/2004/07/"
    /// `http://www.w3.org/2000/xmlns/`, the namespace of `xmlns` attributes.
    public static let xmlns = "http://www.w3.org/2000/xmlns/"
    /// `http://www.w3.org/XML/1998/namespace`, the `xml:` prefix.
    public static let xml = "http://www.w3.org/XML/1998/namespace"
}

/// A text value in the XML infoset, typed where the .NET binary format has a typed record for it.
///
/// The text XML writer formats every case as text; the binary writer picks the matching [MC-NBFX] text record.
/// The binary reader returns typed cases for typed records; the text reader returns ``string(_:)``.
enum XMLTextValue: Hashable, Sendable {
    case string(String)
    case bool(Bool)
    case int32(Int32)
    case int64(Int64)
    case uint64(UInt64)
    case float(Float)
    case double(Double)
    case decimal(DotNetDecimal)
    case guid(Guid)
    /// `UniqueIdText`: a GUID written as `urn:uuid:…`.
    case uniqueId(Guid)
    case dateTime(DotNetDateTime)
    /// `TimeSpanText`: ticks.
    case timeSpan(Int64)
    /// `Bytes*Text`: base64 in the text form.
    case bytes([UInt8])
    /// `QNameDictionaryText`-like qualified name `prefix:localName` (written as text `prefix:localName`).
    case qualifiedName(prefix: String, localName: String)

    /// The text form, as .NET's `XmlConvert` writes it.
    func text(localOffsetMinutes: Int) -> String {
        switch self {
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .int32(let v): return String(v)
        case .int64(let v): return String(v)
        case .uint64(let v): return String(v)
        case .float(let v): return DotNetNumberFormat.xml(Double(v), isFloat: true)
        case .double(let v): return DotNetNumberFormat.xml(v, isFloat: false)
        case .decimal(let v): return v.description
        case .guid(let g): return g.description
        case .uniqueId(let g): return "urn:uuid:" + g.description
        case .dateTime(let d): return d.xmlText(localOffsetMinutes: localOffsetMinutes)
        case .timeSpan(let ticks): return DotNetNumberFormat.duration(ticks: ticks)
        case .bytes(let bytes): return Base64.encode(bytes)
        case .qualifiedName(let prefix, let local): return prefix.isEmpty ? local : prefix + ":" + local
        }
    }
}

/// One attribute of a start element. `xmlns` declarations are attributes too: `xmlns="…"` has prefix "" and local
/// name `xmlns`; `xmlns:p="…"` has prefix `xmlns` and local name `p`.
struct XMLAttribute: Hashable, Sendable {
    var prefix: String
    var localName: String
    var value: XMLTextValue

    var isNamespaceDeclaration: Bool {
        prefix == "xmlns" || (prefix.isEmpty && localName == "xmlns")
    }
}

/// One node of the XML infoset stream.
enum XMLNode: Hashable, Sendable {
    case startElement(prefix: String, localName: String, attributes: [XMLAttribute])
    case text(XMLTextValue)
    case endElement
    case endOfDocument
}

/// Writes an XML infoset as text XML or as [MC-NBFX] records.
///
/// Calls come in document order: a start element, then its attributes and namespace declarations (in the order they
/// must appear), then text and child elements, then ``endElement()``. The writer closes the start tag itself.
protocol XMLNodeWriter {
    mutating func startElement(prefix: String, localName: String)
    mutating func attribute(prefix: String, localName: String, value: XMLTextValue)
    /// `xmlns="namespace"` when `prefix` is empty, else `xmlns:prefix="namespace"`.
    mutating func namespaceDeclaration(prefix: String, namespace: String)
    mutating func text(_ value: XMLTextValue)
    mutating func endElement()
    /// The bytes written so far.
    var bytes: [UInt8] { get }
}

/// Reads an XML infoset from text XML or [MC-NBFX] records. Comments, processing instructions and the XML
/// declaration are skipped; adjacent text is returned as one or more ``XMLNode/text(_:)`` nodes.
protocol XMLNodeReader {
    mutating func next() throws(ContextCodingError) -> XMLNode
    /// The byte offset of the node last returned, for error messages.
    var offset: Int { get }
    /// Builds an error at the current position.
    func error(_ message: String) -> ContextCodingError
}

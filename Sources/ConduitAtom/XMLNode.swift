/// One element of a parsed XML document, with its namespaces resolved.
struct XMLNode: Sendable {
    /// An attribute of an element; `xmlns` declarations are not kept as attributes.
    struct Attribute: Sendable {
        var localName: String
        /// The namespace of a prefixed attribute; unprefixed attributes have none.
        var namespace: String?
        var value: String
    }

    var localName: String
    var namespace: String?
    var attributes: [Attribute]
    var children: [XMLNode]
    /// The concatenated character data directly inside this element.
    var text: String
    /// The prefix-to-URI bindings in scope; the default namespace is under the empty prefix.
    var namespaces: [String: String]

    /// The first child element with this local name.
    func child(_ name: String) -> XMLNode? {
        children.first { $0.localName == name }
    }

    /// All child elements with this local name.
    func children(_ name: String) -> [XMLNode] {
        children.filter { $0.localName == name }
    }

    /// The value of the attribute with this local name and namespace.
    func attribute(_ name: String, namespace: String? = nil) -> String? {
        attributes.first { $0.localName == name && $0.namespace == namespace }?.value
    }

    /// The `xsi:type` attribute, whatever prefix it was written with.
    var schemaType: String? {
        attribute("type", namespace: ServiceBusXMLNamespace.schemaInstance)
    }

    /// Splits a qualified value such as `d6p1:string` and resolves its prefix in this element's scope.
    func resolveQualifiedValue(_ value: String) -> (namespace: String?, localName: String) {
        let trimmed = value.trimmingXMLWhitespace()
        guard let colon = trimmed.firstIndex(of: ":") else {
            return (namespaces[""], trimmed)
        }
        let prefix = String(trimmed[..<colon])
        return (namespaces[prefix], String(trimmed[trimmed.index(after: colon)...]))
    }
}

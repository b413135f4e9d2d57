/// Writes the `DataContractSerializer` infoset the way .NET's `XmlDictionaryWriter` (text or binary) lays it out:
/// the root declares the contracts namespace as default and `i` for XML Schema instance; each collection declares
/// its items' namespace unless it is in scope; undeclared namespaces get the first single-letter prefix not bound at
/// that point; ordinary attributes come before namespace declarations.
struct XMLContractWriter<Nodes: XMLNodeWriter>: ContractWriter {
    var nodes: Nodes
    let options: ContextEncodingOptions
    private var scopes = NamespaceScopes()
    private var pendingName = ""
    private var pendingNamespace = ""
    private var isRoot = false

    init(nodes: Nodes, options: ContextEncodingOptions) {
        self.nodes = nodes
        self.options = options
    }

    mutating func writeDocument(_ context: RemoteExecutionContext) {
        pendingName = "RemoteExecutionContext"
        pendingNamespace = XMLNamespaces.contracts
        isRoot = true
        beginContract(nil, typeHint: false)
        write(context)
        endContract()
    }

    // MARK: - Element starts

    private struct TypeAttribute {
        var name: String
        var namespace: String
    }

    /// Starts the pending element with its `i:type` / `i:nil` attributes and the declarations they need.
    private mutating func startPending(type: TypeAttribute?, isNil: Bool, declaring extra: String? = nil) {
        scopes.push()
        var declarations: [(prefix: String, namespace: String)] = []
        if isRoot {
            isRoot = false
            scopes.bind(prefix: "", to: pendingNamespace)
            scopes.bind(prefix: "i", to: XMLNamespaces.schemaInstance)
            declarations.append(("", pendingNamespace))
            declarations.append(("i", XMLNamespaces.schemaInstance))
        }
        let prefix = resolve(pendingNamespace, into: &declarations)
        var typeValue: (prefix: String, name: String)?
        if let type {
            typeValue = (resolve(type.namespace, into: &declarations), type.name)
        }
        if let extra { _ = resolve(extra, into: &declarations) }
        var instancePrefix = ""
        if typeValue != nil || isNil { instancePrefix = resolve(XMLNamespaces.schemaInstance, into: &declarations) }
        nodes.startElement(prefix: prefix, localName: pendingName)
        if let typeValue {
            nodes.attribute(
                prefix: instancePrefix,
                localName: "type",
                value: .qualifiedName(prefix: typeValue.prefix, localName: typeValue.name)
            )
        }
        if isNil { nodes.attribute(prefix: instancePrefix, localName: "nil", value: .bool(true)) }
        for declaration in declarations {
            nodes.namespaceDeclaration(prefix: declaration.prefix, namespace: declaration.namespace)
        }
    }

    /// The prefix bound to `namespace`, binding the first free single letter (declared on this element) if none is.
    private mutating func resolve(
        _ namespace: String,
        into declarations: inout [(prefix: String, namespace: String)]
    ) -> String {
        if let prefix = scopes.prefix(for: namespace) { return prefix }
        let prefix = scopes.firstFreeLetter()
        scopes.bind(prefix: prefix, to: namespace)
        declarations.append((prefix, namespace))
        return prefix
    }

    private mutating func end() {
        nodes.endElement()
        scopes.pop()
    }

    private mutating func simple(_ value: XMLTextValue, typeHint: Bool, xsdType: String, namespace: String) {
        startPending(type: typeHint ? TypeAttribute(name: xsdType, namespace: namespace) : nil, isNil: false)
        nodes.text(value)
        end()
    }

    // MARK: - ContractWriter

    mutating func member(_ name: String, namespace: String) {
        pendingName = name
        pendingNamespace = namespace
    }

    mutating func item(_ name: String, namespace: String) {
        pendingName = name
        pendingNamespace = namespace
    }

    mutating func writeNull() {
        startPending(type: nil, isNil: true)
        end()
    }

    mutating func writeString(_ value: String, typeHint: Bool) {
        startPending(
            type: typeHint ? TypeAttribute(name: "string", namespace: XMLNamespaces.schema) : nil,
            isNil: false
        )
        if !value.isEmpty { nodes.text(.string(value)) }
        end()
    }

    mutating func writeBool(_ value: Bool, typeHint: Bool) {
        simple(.bool(value), typeHint: typeHint, xsdType: "boolean", namespace: XMLNamespaces.schema)
    }

    mutating func writeInt32(_ value: Int32, typeHint: Bool) {
        simple(.int32(value), typeHint: typeHint, xsdType: "int", namespace: XMLNamespaces.schema)
    }

    mutating func writeInt64(_ value: Int64, typeHint: Bool) {
        simple(.int64(value), typeHint: typeHint, xsdType: "long", namespace: XMLNamespaces.schema)
    }

    mutating func writeDouble(_ value: Double, typeHint: Bool) {
        simple(.double(value), typeHint: typeHint, xsdType: "double", namespace: XMLNamespaces.schema)
    }

    mutating func writeDecimal(_ value: DotNetDecimal, typeHint: Bool) {
        simple(.decimal(value), typeHint: typeHint, xsdType: "decimal", namespace: XMLNamespaces.schema)
    }

    mutating func writeGuid(_ value: Guid, typeHint: Bool) {
        simple(.guid(value), typeHint: typeHint, xsdType: "guid", namespace: XMLNamespaces.serialization)
    }

    mutating func writeDateTime(_ value: DotNetDateTime, typeHint: Bool) {
        var value = value
        if case .local(nil) = value.kind {
            value.kind = .local(offsetMinutes: options.localOffsetMinutes(utcTicks: value.ticks))
        }
        simple(.dateTime(value), typeHint: typeHint, xsdType: "dateTime", namespace: XMLNamespaces.schema)
    }

    mutating func writeEnum(_ value: Int32, name: String?) {
        startPending(type: nil, isNil: false)
        nodes.text(.string(name ?? String(value)))
        end()
    }

    mutating func writeRawNumber(_ text: String) {
        startPending(type: nil, isNil: false)
        nodes.text(.string(text))
        end()
    }

    mutating func writeTypedText(_ text: String, type: ContractName, jsonNumber: Bool) {
        startPending(type: TypeAttribute(name: type.name, namespace: type.namespace), isNil: false)
        if !text.isEmpty { nodes.text(.string(text)) }
        end()
    }

    mutating func beginContract(_ type: ContractName?, typeHint: Bool) {
        let attribute = typeHint ? type.map { TypeAttribute(name: $0.name, namespace: $0.namespace) } : nil
        startPending(type: attribute, isNil: false)
    }

    mutating func endContract() {
        end()
    }

    mutating func beginCollection(_ type: ContractName?, itemNamespace: String, typeHint: Bool) {
        let attribute = typeHint ? type.map { TypeAttribute(name: $0.name, namespace: $0.namespace) } : nil
        startPending(type: attribute, isNil: false, declaring: itemNamespace)
    }

    mutating func endCollection() {
        end()
    }
}

/// Namespace bindings in scope, element by element.
struct NamespaceScopes {
    private var bindings: [(prefix: String, namespace: String)] = []
    private var marks: [Int] = []

    mutating func push() { marks.append(bindings.count) }

    mutating func pop() {
        guard let mark = marks.popLast() else { return }
        bindings.removeSubrange(mark...)
    }

    mutating func bind(prefix: String, to namespace: String) {
        bindings.append((prefix, namespace))
    }

    /// The innermost prefix bound to `namespace` that is not shadowed.
    func prefix(for namespace: String) -> String? {
        for index in bindings.indices.reversed() where bindings[index].namespace == namespace {
            let prefix = bindings[index].prefix
            if self.namespace(for: prefix) == namespace { return prefix }
        }
        return nil
    }

    /// The namespace bound to `prefix`, innermost first.
    func namespace(for prefix: String) -> String? {
        for index in bindings.indices.reversed() where bindings[index].prefix == prefix {
            return bindings[index].namespace
        }
        return nil
    }

    /// The first letter `a`…`z` not bound in scope (then `d1p1`-style names, which real documents never reach).
    func firstFreeLetter() -> String {
        for scalar in UInt8(ascii: "a")...UInt8(ascii: "z") {
            let letter = String(Character(Unicode.Scalar(scalar)))
            if namespace(for: letter) == nil { return letter }
        }
        var counter = 1
        while namespace(for: "p\(counter)") != nil { counter += 1 }
        return "p\(counter)"
    }
}

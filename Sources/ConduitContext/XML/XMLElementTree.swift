/// A small XML document read as a tree of elements, with the reader the text XML format uses (no DTDs, so no entity
/// expansion; start and end tags must match): for settings documents such as a webhook's `authvalue`.
///
/// ```swift
/// let tree = try XMLElementTree.parse(#"<settings><setting name="a" value="1"/></settings>"#)
/// tree.children.first?.attributes   // [name="a", value="1"]
/// ```
public struct XMLElementTree: Hashable, Sendable {
    /// An attribute: its local name (without a prefix) and value. Namespace declarations are left out.
    public struct Attribute: Hashable, Sendable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The element's local name (without a prefix).
    public var name: String
    /// Its attributes, in document order.
    public var attributes: [Attribute]
    /// Its child elements, in document order.
    public var children: [XMLElementTree]
    /// The text directly inside it.
    public var text: String

    public init(name: String, attributes: [Attribute] = [], children: [XMLElementTree] = [], text: String = "") {
        self.name = name
        self.attributes = attributes
        self.children = children
        self.text = text
    }

    /// The value of the attribute `name`, if there is one.
    public func attribute(_ name: String) -> String? {
        attributes.first { $0.name == name }?.value
    }

    /// Reads the document `text`: its root element.
    /// - Throws: ``ContextCodingError`` for text that is not one well-formed element (with the line and column).
    public static func parse(
        _ text: String,
        limits: DecodingLimits = .default
    ) throws(ContextCodingError) -> XMLElementTree {
        let bytes = Array(text.utf8)
        guard bytes.count <= limits.maximumSize else {
            throw ContextCodingError(
                format: .xml,
                message: "the XML is \(bytes.count) bytes, more than the \(limits.maximumSize) accepted"
            )
        }
        let result = bytes.withUnsafeBytes { input -> Result<XMLElementTree, ContextCodingError> in
            do throws(ContextCodingError) {
                return .success(try read(XMLTextReader(input: input, limits: limits)))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    private static func read(_ start: XMLTextReader) throws(ContextCodingError) -> XMLElementTree {
        var reader = start
        var open: [XMLElementTree] = []
        var root: XMLElementTree?
        while true {
            switch try reader.next() {
            case .startElement(_, let localName, let attributes):
                let kept = attributes.filter { !$0.isNamespaceDeclaration }.map {
                    Attribute(name: $0.localName, value: $0.value.text(localOffsetMinutes: 0))
                }
                open.append(XMLElementTree(name: localName, attributes: kept))
            case .text(let value):
                if !open.isEmpty { open[open.count - 1].text += value.text(localOffsetMinutes: 0) }
            case .endElement:
                guard let element = open.popLast() else { throw reader.error("an end tag without its start tag") }
                if open.isEmpty {
                    root = element
                } else {
                    open[open.count - 1].children.append(element)
                }
            case .endOfDocument:
                guard let root else { throw reader.error("the input has no root element") }
                return root
            }
        }
    }
}

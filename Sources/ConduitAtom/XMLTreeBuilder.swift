import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Builds an ``XMLNode`` tree with `XMLParser`, resolving namespaces itself and enforcing size limits.
///
/// The parser runs without namespace processing so that `xmlns` declarations arrive as attributes and every
/// prefix, including those of attributes such as `p5:type`, is resolved here against the declarations in scope.
final class XMLTreeBuilder: NSObject, XMLParserDelegate {
    private let maxDepth: Int
    private let maxElements: Int
    private var stack: [XMLNode] = []
    private var root: XMLNode?
    private var elementCount = 0
    private var failure: ManagementCodecError?

    private init(maxDepth: Int, maxElements: Int) {
        self.maxDepth = maxDepth
        self.maxElements = maxElements
    }

    /// Parses a whole document into its root element.
    static func parse(_ data: Data, maxDepth: Int, maxElements: Int) throws(ManagementCodecError) -> XMLNode {
        if let construct = forbiddenConstruct(in: data) {
            throw ManagementCodecError(
                kind: .forbiddenConstruct,
                message: "XML \(construct) declarations are not allowed in management requests."
            )
        }
        if let offset = invalidUTF8Offset(in: data) {
            throw ManagementCodecError(
                kind: .malformedXML,
                message: "Malformed XML: the body is not valid UTF-8 (at byte offset \(offset))."
            )
        }
        let builder = XMLTreeBuilder(maxDepth: maxDepth, maxElements: maxElements)
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = false
        parser.shouldReportNamespacePrefixes = false
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        let succeeded = parser.parse()
        if let failure = builder.failure {
            throw failure
        }
        if !succeeded || parser.parserError != nil {
            throw builder.malformed(parser: parser, code: (parser.parserError as? NSError)?.code)
        }
        guard let root = builder.root else {
            throw ManagementCodecError(kind: .malformedXML, message: "Malformed XML: the document has no root element.")
        }
        return root
    }

    /// The offset of the first byte that is not valid UTF-8, if any.
    ///
    /// FoundationXML traps on element or attribute names that are not valid UTF-8, so such bodies never reach
    /// it. Management bodies are UTF-8 in every client (a UTF-8 byte order mark is allowed).
    private static func invalidUTF8Offset(in data: Data) -> Int? {
        let bytes = [UInt8](data)
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            let length: Int
            var lowest: UInt8 = 0x80
            var highest: UInt8 = 0xBF
            switch lead {
            case 0x00...0x7F:
                index += 1
                continue
            case 0xC2...0xDF: length = 2
            case 0xE0: (length, lowest) = (3, 0xA0)
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: (length, highest) = (3, 0x9F)
            case 0xF0: (length, lowest) = (4, 0x90)
            case 0xF1...0xF3: length = 4
            case 0xF4: (length, highest) = (4, 0x8F)
            default: return index
            }
            guard index + length <= bytes.count else {
                return index
            }
            for position in index + 1..<index + length {
                let byte = bytes[position]
                let (low, high) = position == index + 1 ? (lowest, highest) : (UInt8(0x80), UInt8(0xBF))
                guard byte >= low, byte <= high else {
                    return index
                }
            }
            index += length
        }
        return nil
    }

    /// Names a DTD construct in the body; such bodies are refused before parsing (entity expansion attacks).
    private static func forbiddenConstruct(in data: Data) -> String? {
        for marker in ["<!DOCTYPE", "<!ENTITY"] where data.range(of: Data(marker.utf8)) != nil {
            return marker == "<!DOCTYPE" ? "document type (<!DOCTYPE>)" : "entity (<!ENTITY>)"
        }
        return nil
    }

    func parser(
        _ parser: XMLParser,
        didStartElement elementName: String,
        namespaceURI: String?,
        qualifiedName qName: String?,
        attributes attributeDict: [String: String] = [:]
    ) {
        guard failure == nil else {
            return
        }
        elementCount += 1
        if stack.count >= maxDepth {
            fail(
                parser,
                ManagementCodecError(
                    kind: .nestingTooDeep,
                    element: elementName.truncatedForMessage(),
                    message: "XML nesting exceeds the limit of \(maxDepth) levels at element "
                        + "'\(elementName.truncatedForMessage())'."
                )
            )
            return
        }
        if elementCount > maxElements {
            fail(
                parser,
                ManagementCodecError(
                    kind: .tooManyElements,
                    message: "The body has more than the allowed \(maxElements) XML elements."
                )
            )
            return
        }
        var scope = stack.last?.namespaces ?? ["xml": ServiceBusXMLNamespace.xml]
        for (name, value) in attributeDict {
            if name == "xmlns" {
                scope[""] = value
            } else if name.hasPrefix("xmlns:") {
                scope[String(name.dropFirst(6))] = value
            }
        }
        let (prefix, localName) = Self.split(elementName)
        var node = XMLNode(
            localName: localName,
            namespace: scope[prefix ?? ""],
            attributes: [],
            children: [],
            text: "",
            namespaces: scope
        )
        if let prefix, scope[prefix] == nil {
            fail(parser, undeclaredPrefix(prefix, in: elementName))
            return
        }
        for (name, value) in attributeDict.sorted(by: { $0.key < $1.key })
        where name != "xmlns" && !name.hasPrefix("xmlns:") {
            let (attributePrefix, attributeName) = Self.split(name)
            var namespace: String?
            if let attributePrefix {
                guard let resolved = scope[attributePrefix] else {
                    fail(parser, undeclaredPrefix(attributePrefix, in: elementName))
                    return
                }
                namespace = resolved
            }
            node.attributes.append(XMLNode.Attribute(localName: attributeName, namespace: namespace, value: value))
        }
        stack.append(node)
    }

    func parser(
        _ parser: XMLParser,
        didEndElement elementName: String,
        namespaceURI: String?,
        qualifiedName qName: String?
    ) {
        guard failure == nil, let node = stack.popLast() else {
            return
        }
        if stack.isEmpty {
            root = node
        } else {
            stack[stack.count - 1].children.append(node)
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard failure == nil, !stack.isEmpty else {
            return
        }
        stack[stack.count - 1].text += string
    }

    func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
        guard failure == nil, !stack.isEmpty else {
            return
        }
        stack[stack.count - 1].text += String(decoding: CDATABlock, as: UTF8.self)
    }

    func parser(_ parser: XMLParser, parseErrorOccurred parseError: any Error) {
        guard failure == nil else {
            return
        }
        failure = malformed(parser: parser, code: (parseError as NSError).code)
    }

    func parser(_ parser: XMLParser, validationErrorOccurred validationError: any Error) {
        self.parser(parser, parseErrorOccurred: validationError)
    }

    private func fail(_ parser: XMLParser, _ error: ManagementCodecError) {
        failure = error
        parser.abortParsing()
    }

    private func undeclaredPrefix(_ prefix: String, in elementName: String) -> ManagementCodecError {
        let element = elementName.truncatedForMessage()
        return ManagementCodecError(
            kind: .malformedXML,
            element: element,
            message:
                "Malformed XML: the namespace prefix '\(prefix.truncatedForMessage())' used in '\(element)' is not "
                + "declared."
        )
    }

    private func malformed(parser: XMLParser, code: Int?) -> ManagementCodecError {
        var detail = ""
        if let code {
            detail = ": \(Self.errorName(code)) (XMLParser error \(code))"
        }
        return ManagementCodecError(
            kind: .malformedXML,
            message: "Malformed XML at line \(parser.lineNumber), column \(parser.columnNumber)\(detail)."
        )
    }

    /// Describes a libxml2 error number, which is what FoundationXML reports as the error code.
    private static func errorName(_ code: Int) -> String {
        switch code {
        case 4: "the document is empty or does not start with an element"
        case 5: "the document ends too early or has content after its root element"
        case 6, 7, 8: "invalid character reference"
        case 9: "a character XML does not allow"
        case 23: "an entity reference lacks its ';'"
        case 26: "undeclared entity"
        case 31, 32, 81: "unsupported or invalid encoding"
        case 38: "'<' in an attribute value"
        case 39, 40, 41: "malformed attribute"
        case 42: "an attribute appears twice"
        case 45: "unterminated comment"
        case 63: "unterminated CDATA section"
        case 65: "whitespace expected"
        case 68: "a name is expected"
        case 73: "'>' expected"
        case 76: "a closing tag does not match its opening tag"
        case 77: "unfinished tag"
        case 201: "a namespace prefix is not declared"
        case 200...299: "namespace error"
        case 512: "parsing aborted"
        default: "not well-formed"
        }
    }

    private static func split(_ name: String) -> (prefix: String?, localName: String) {
        guard let colon = name.firstIndex(of: ":") else {
            return (nil, name)
        }
        return (String(name[..<colon]), String(name[name.index(after: colon)...]))
    }
}

/// Reads text XML (UTF-8) as infoset nodes: elements, attributes, text with entity and character references,
/// CDATA. The declaration, comments and processing instructions are skipped; a DOCTYPE is refused (no DTDs, so no
/// entity expansion attacks). Start and end tags must match.
struct XMLTextReader: XMLNodeReader {
    private let input: UnsafeRawBufferPointer
    private var index = 0
    private(set) var offset = 0
    private var open: [(prefix: String, localName: String)] = []
    private var pendingEnd = false
    private var sawRoot = false
    private let limits: DecodingLimits

    init(input: UnsafeRawBufferPointer, limits: DecodingLimits) {
        self.input = input
        self.limits = limits
        if input.count >= 3, input[0] == 0xEF, input[1] == 0xBB, input[2] == 0xBF { index = 3 }
    }

    func error(_ message: String) -> ContextCodingError {
        error(message, at: offset)
    }

    private func error(_ message: String, at position: Int) -> ContextCodingError {
        let place = ContextCodingError.locate(position, in: input)
        return ContextCodingError(
            format: .xml,
            offset: position,
            line: place.line,
            column: place.column,
            message: message
        )
    }

    mutating func next() throws(ContextCodingError) -> XMLNode {
        if pendingEnd {
            pendingEnd = false
            open.removeLast()
            return .endElement
        }
        while true {
            offset = index
            guard index < input.count else {
                if let unclosed = open.last {
                    throw error("the input ends before </\(qualified(unclosed.prefix, unclosed.localName))>")
                }
                guard sawRoot else { throw error("the input has no root element") }
                return .endOfDocument
            }
            if input[index] != UInt8(ascii: "<") {
                let text = try readText()
                if open.isEmpty {
                    guard text.utf8.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else {
                        throw error("text outside the root element")
                    }
                    continue
                }
                return .text(.string(text))
            }
            if startsWith("<?") {
                try skip(past: "?>", what: "processing instruction")
                continue
            }
            if startsWith("<!--") {
                try skip(past: "-->", what: "comment")
                continue
            }
            if startsWith("<![CDATA[") {
                guard !open.isEmpty else { throw error("CDATA outside the root element") }
                index += 9
                let start = index
                try skip(past: "]]>", what: "CDATA section")
                let content = UnsafeRawBufferPointer(rebasing: input[start..<(index - 3)])
                guard let text = String(validating: content, as: UTF8.self) else {
                    throw error("the CDATA section is not valid UTF-8", at: start)
                }
                return .text(.string(text))
            }
            if startsWith("<!") {
                throw error("DOCTYPE and other declarations are not accepted")
            }
            if startsWith("</") {
                index += 2
                let (prefix, localName) = try readQualifiedName()
                skipWhitespace()
                guard index < input.count, input[index] == UInt8(ascii: ">") else {
                    throw error("expected '>' to close the end tag")
                }
                index += 1
                guard let top = open.last else { throw error("an end tag without a start tag", at: offset) }
                guard top.prefix == prefix, top.localName == localName else {
                    throw error(
                        "</\(qualified(prefix, localName))> does not match <\(qualified(top.prefix, top.localName))>",
                        at: offset
                    )
                }
                open.removeLast()
                return .endElement
            }
            return try readStartTag()
        }
    }

    private mutating func readStartTag() throws(ContextCodingError) -> XMLNode {
        if open.isEmpty && sawRoot { throw error("a second root element") }
        index += 1
        let (prefix, localName) = try readQualifiedName()
        var attributes: [XMLAttribute] = []
        var seen = Set<String>()
        while true {
            let hadSpace = skipWhitespace()
            guard index < input.count else { throw error("the input ends inside a start tag") }
            if input[index] == UInt8(ascii: ">") {
                index += 1
                break
            }
            if input[index] == UInt8(ascii: "/") {
                guard index + 1 < input.count, input[index + 1] == UInt8(ascii: ">") else {
                    throw error("expected '/>'")
                }
                index += 2
                pendingEnd = true
                break
            }
            guard hadSpace else { throw error("expected whitespace between attributes") }
            let attributeStart = index
            let (attributePrefix, attributeName) = try readQualifiedName()
            skipWhitespace()
            guard index < input.count, input[index] == UInt8(ascii: "=") else {
                throw error("expected '=' after the attribute name")
            }
            index += 1
            skipWhitespace()
            guard index < input.count, input[index] == UInt8(ascii: "\"") || input[index] == UInt8(ascii: "'") else {
                throw error("an attribute value must be quoted")
            }
            let quote = input[index]
            index += 1
            let value = try readText(until: quote)
            index += 1
            guard seen.insert(attributePrefix + ":" + attributeName).inserted else {
                throw error(
                    "the attribute \(qualified(attributePrefix, attributeName)) appears twice",
                    at: attributeStart
                )
            }
            attributes.append(XMLAttribute(prefix: attributePrefix, localName: attributeName, value: .string(value)))
        }
        open.append((prefix, localName))
        guard open.count <= limits.maximumDepth else {
            throw error("elements nested deeper than \(limits.maximumDepth) levels")
        }
        sawRoot = true
        return .startElement(prefix: prefix, localName: localName, attributes: attributes)
    }

    private func qualified(_ prefix: String, _ localName: String) -> String {
        prefix.isEmpty ? localName : prefix + ":" + localName
    }

    private func startsWith(_ literal: StaticString) -> Bool {
        literal.withUTF8Buffer { expected in
            index + expected.count <= input.count
                && (0..<expected.count).allSatisfy { input[index + $0] == expected[$0] }
        }
    }

    private mutating func skip(past terminator: StaticString, what: String) throws(ContextCodingError) {
        let start = index
        while index < input.count {
            if startsWith(terminator) {
                index += terminator.utf8CodeUnitCount
                return
            }
            index += 1
        }
        throw error("the \(what) is not closed", at: start)
    }

    @discardableResult
    private mutating func skipWhitespace() -> Bool {
        let start = index
        while index < input.count,
            input[index] == 0x20 || input[index] == 0x0A || input[index] == 0x0D
                || input[index] == 0x09
        {
            index += 1
        }
        return index > start
    }

    private mutating func readQualifiedName() throws(ContextCodingError) -> (String, String) {
        let start = index
        var colon: Int?
        while index < input.count {
            let byte = input[index]
            let isNameByte =
                byte >= 0x80 || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
            guard isNameByte else { break }
            if byte == UInt8(ascii: ":") {
                guard colon == nil else { throw error("a name with two colons") }
                colon = index
            }
            index += 1
        }
        guard index > start else { throw error("expected a name", at: start) }
        let first = input[start]
        guard
            first >= 0x80 || first == UInt8(ascii: "_")
                || (first | 0x20 >= UInt8(ascii: "a") && first | 0x20 <= UInt8(ascii: "z"))
        else { throw error("a name cannot start with '\(Character(Unicode.Scalar(first)))'", at: start) }
        func text(_ from: Int, _ to: Int) throws(ContextCodingError) -> String {
            guard let string = String(validating: UnsafeRawBufferPointer(rebasing: input[from..<to]), as: UTF8.self)
            else { throw error("a name is not valid UTF-8", at: from) }
            return string
        }
        if let colon {
            guard colon > start, colon + 1 < index else {
                throw error("a name has an empty prefix or local part", at: start)
            }
            return (try text(start, colon), try text(colon + 1, index))
        }
        return ("", try text(start, index))
    }

    /// Reads character data up to `<` (or to `quote` in an attribute), resolving references.
    private mutating func readText(until quote: UInt8? = nil) throws(ContextCodingError) -> String {
        let start = index
        var bytes: [UInt8] = []
        var runStart = index
        while index < input.count {
            let byte = input[index]
            if let quote, byte == quote { break }
            if quote == nil, byte == UInt8(ascii: "<") { break }
            if quote != nil, byte == UInt8(ascii: "<") { throw error("'<' inside an attribute value") }
            if byte == 0 { throw error("a NUL byte in the text: this is not XML text") }
            if byte == UInt8(ascii: "&") {
                appendRaw(runStart, index, into: &bytes, inAttribute: quote != nil)
                try readReference(into: &bytes)
                runStart = index
                continue
            }
            index += 1
        }
        if quote != nil, index >= input.count { throw error("an attribute value is not closed", at: start) }
        appendRaw(runStart, index, into: &bytes, inAttribute: quote != nil)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw error("the text is not valid UTF-8", at: start)
        }
        return text
    }

    /// Appends literal characters with XML's end-of-line handling (CR LF and lone CR become LF) and, in attribute
    /// values, whitespace normalization (tab, CR, LF become a space). Characters from references are not touched.
    private func appendRaw(_ from: Int, _ to: Int, into bytes: inout [UInt8], inAttribute: Bool) {
        var position = from
        while position < to {
            var byte = input[position]
            if byte == 0x0D {
                if position + 1 < to, input[position + 1] == 0x0A { position += 1 }
                byte = 0x0A
            }
            if inAttribute, byte == 0x0A || byte == 0x09 { byte = 0x20 }
            bytes.append(byte)
            position += 1
        }
    }

    private mutating func readReference(into bytes: inout [UInt8]) throws(ContextCodingError) {
        let start = index
        index += 1
        var nameEnd = index
        while nameEnd < input.count, nameEnd - index < 10, input[nameEnd] != UInt8(ascii: ";") { nameEnd += 1 }
        guard nameEnd < input.count, input[nameEnd] == UInt8(ascii: ";") else {
            throw error("'&' must start a reference such as &amp; or &#xD;", at: start)
        }
        let name = String(decoding: UnsafeRawBufferPointer(rebasing: input[index..<nameEnd]), as: UTF8.self)
        index = nameEnd + 1
        switch name {
        case "lt": bytes.append(UInt8(ascii: "<"))
        case "gt": bytes.append(UInt8(ascii: ">"))
        case "amp": bytes.append(UInt8(ascii: "&"))
        case "quot": bytes.append(UInt8(ascii: "\""))
        case "apos": bytes.append(UInt8(ascii: "'"))
        default:
            var value: UInt32?
            if name.hasPrefix("#x") {
                value = UInt32(name.dropFirst(2), radix: 16)
            } else if name.hasPrefix("#") {
                value = UInt32(name.dropFirst(), radix: 10)
            }
            // &#x0; is accepted: .NET's writer emits it for U+0000, so a round trip needs it back.
            guard let value, let scalar = Unicode.Scalar(value) else {
                throw error("unknown reference &\(name);", at: start)
            }
            bytes.append(contentsOf: Array(String(Character(scalar)).utf8))
        }
    }
}

/// Writes text XML the way .NET's `XmlDictionaryWriter.CreateTextWriter` does: UTF-8, no declaration, `<a/>` for
/// empty elements, `&lt; &gt; &amp;` in text (`"` kept), `&quot;` in attributes, control characters as `&#xD;`.
struct XMLTextWriter: XMLNodeWriter {
    private(set) var bytes: [UInt8] = []
    private var names: [(prefix: String, localName: String)] = []
    private var startTagOpen = false
    /// Offset used to write local dates that carry no offset.
    var localOffsetMinutes = 0

    init(capacity: Int = 16384) {
        bytes.reserveCapacity(capacity)
    }

    private mutating func closeStartTag() {
        if startTagOpen {
            bytes.append(UInt8(ascii: ">"))
            startTagOpen = false
        }
    }

    mutating func startElement(prefix: String, localName: String) {
        closeStartTag()
        bytes.append(UInt8(ascii: "<"))
        appendName(prefix: prefix, localName: localName)
        names.append((prefix, localName))
        startTagOpen = true
    }

    mutating func attribute(prefix: String, localName: String, value: XMLTextValue) {
        bytes.append(UInt8(ascii: " "))
        appendName(prefix: prefix, localName: localName)
        bytes.append(contentsOf: [UInt8(ascii: "="), UInt8(ascii: "\"")])
        appendEscaped(value.text(localOffsetMinutes: localOffsetMinutes), inAttribute: true)
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func namespaceDeclaration(prefix: String, namespace: String) {
        bytes.append(contentsOf: Array(" xmlns".utf8))
        if !prefix.isEmpty {
            bytes.append(UInt8(ascii: ":"))
            bytes.append(contentsOf: prefix.utf8)
        }
        bytes.append(contentsOf: [UInt8(ascii: "="), UInt8(ascii: "\"")])
        appendEscaped(namespace, inAttribute: true)
        bytes.append(UInt8(ascii: "\""))
    }

    mutating func text(_ value: XMLTextValue) {
        closeStartTag()
        switch value {
        case .string(let text): appendEscaped(text, inAttribute: false)
        default: appendEscaped(value.text(localOffsetMinutes: localOffsetMinutes), inAttribute: false)
        }
    }

    mutating func endElement() {
        guard let name = names.popLast() else { return }
        if startTagOpen {
            bytes.append(contentsOf: [UInt8(ascii: "/"), UInt8(ascii: ">")])
            startTagOpen = false
            return
        }
        bytes.append(contentsOf: [UInt8(ascii: "<"), UInt8(ascii: "/")])
        appendName(prefix: name.prefix, localName: name.localName)
        bytes.append(UInt8(ascii: ">"))
    }

    private mutating func appendName(prefix: String, localName: String) {
        if !prefix.isEmpty {
            bytes.append(contentsOf: prefix.utf8)
            bytes.append(UInt8(ascii: ":"))
        }
        bytes.append(contentsOf: localName.utf8)
    }

    private mutating func appendEscaped(_ text: String, inAttribute: Bool) {
        var text = text
        text.withUTF8 { utf8 in
            var runStart = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                let replacement: StaticString?
                switch byte {
                case UInt8(ascii: "<"): replacement = "&lt;"
                case UInt8(ascii: ">"): replacement = "&gt;"
                case UInt8(ascii: "&"): replacement = "&amp;"
                case UInt8(ascii: "\""): replacement = inAttribute ? "&quot;" : nil
                case 0x0A where !inAttribute, 0x09 where !inAttribute: replacement = nil
                case 0..<0x20: replacement = ""
                case 0xEF where index + 2 < utf8.count && utf8[index + 1] == 0xBF && utf8[index + 2] >= 0xBE:
                    // U+FFFE and U+FFFF are written as character references.
                    if runStart < index {
                        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                    }
                    bytes.append(contentsOf: Array((utf8[index + 2] == 0xBE ? "&#xFFFE;" : "&#xFFFF;").utf8))
                    runStart = index + 3
                    continue
                default: replacement = nil
                }
                guard let replacement else { continue }
                if runStart < index { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index])) }
                if replacement.utf8CodeUnitCount == 0 {
                    bytes.append(contentsOf: Array("&#x\(String(byte, radix: 16, uppercase: true));".utf8))
                } else {
                    replacement.withUTF8Buffer { bytes.append(contentsOf: $0) }
                }
                runStart = index + 1
            }
            if runStart < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...])) }
        }
    }
}

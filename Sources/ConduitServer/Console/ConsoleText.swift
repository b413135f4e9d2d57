import ConduitContext
import Foundation

/// Times and texts as the console shows them.
enum ConsoleText {
    /// A .NET tick count (UTC) as ISO 8601 with milliseconds.
    static func iso(_ ticks: Int64?) -> String? {
        guard let ticks, let time = DotNetDateTime(ticks: ticks, kind: .utc) else { return nil }
        return iso(milliseconds: time.unixMilliseconds)
    }

    /// Unix milliseconds as ISO 8601 with milliseconds.
    static func iso(milliseconds: Int64) -> String {
        // Whole seconds through the formatter, the milliseconds by integer arithmetic (no rounding).
        let (seconds, remainder) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        let whole = remainder < 0 ? seconds - 1 : seconds
        let fraction = remainder < 0 ? remainder + 1000 : remainder
        let text = Date(timeIntervalSince1970: Double(whole)).formatted(.iso8601)
        let digits = String(fraction)
        return text.dropLast() + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }

    /// An ISO 8601 time (with or without fractional seconds, `Z` or an offset) as .NET ticks (UTC), or `nil`; a time
    /// without a zone is refused. Read as the Web API reads dates (`xs:dateTime`).
    static func ticks(_ text: String) -> Int64? {
        guard let time = DotNetDateTime(xmlText: text) else { return nil }
        if case .unspecified = time.kind { return nil }
        return time.ticks
    }

    /// JSON text indented by two spaces; strings (and numbers) are kept as they are written.
    static func prettyJSON(_ text: String) -> String {
        var out = ""
        var depth = 0
        var inString = false
        var escaped = false
        func newline() { out += "\n" + String(repeating: "  ", count: depth) }
        for character in text {
            if inString {
                out.append(character)
                if escaped {
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    inString = false
                }
                continue
            }
            switch character {
            case "\"":
                inString = true
                out.append(character)
            case "{", "[":
                out.append(character)
                depth += 1
                newline()
            case "}", "]":
                depth = max(0, depth - 1)
                newline()
                out.append(character)
            case ",":
                out.append(character)
                newline()
            case ":": out += ": "
            case " ", "\n", "\r", "\t": continue
            default: out.append(character)
            }
        }
        // Empty objects and arrays on one line.
        return out.replacingOccurrences(of: #"\{\s+\}"#, with: "{}", options: .regularExpression)
            .replacingOccurrences(of: #"\[\s+\]"#, with: "[]", options: .regularExpression)
    }

    /// XML text with one element per line, indented by two spaces; an element holding only text stays on one line.
    static func prettyXML(_ text: String) -> String {
        var lines: [String] = []
        var depth = 0
        var index = text.startIndex
        var pendingOpen: String?
        func flush() {
            if let open = pendingOpen {
                lines.append(String(repeating: "  ", count: depth - 1) + open)
                pendingOpen = nil
            }
        }
        while index < text.endIndex {
            if text[index] == "<" {
                let end = text[index...].firstIndex(of: ">") ?? text.index(before: text.endIndex)
                let tag = String(text[index...end])
                index = text.index(after: end)
                if tag.hasPrefix("<?") || tag.hasPrefix("<!") {
                    flush()
                    lines.append(String(repeating: "  ", count: depth) + tag)
                } else if tag.hasPrefix("</") {
                    depth -= 1
                    if let open = pendingOpen {
                        lines.append(String(repeating: "  ", count: depth) + open + tag)
                        pendingOpen = nil
                    } else {
                        lines.append(String(repeating: "  ", count: max(0, depth)) + tag)
                    }
                } else if tag.hasSuffix("/>") {
                    flush()
                    lines.append(String(repeating: "  ", count: depth) + tag)
                } else {
                    flush()
                    pendingOpen = tag
                    depth += 1
                }
            } else {
                let end = text[index...].firstIndex(of: "<") ?? text.endIndex
                let content = String(text[index..<end])
                index = end
                if pendingOpen != nil {
                    // Text of a leaf element: kept with its tags on one line.
                    pendingOpen! += content
                } else if !content.allSatisfy(\.isWhitespace) {
                    lines.append(String(repeating: "  ", count: depth) + content)
                }
            }
        }
        flush()
        return lines.joined(separator: "\n")
    }
}

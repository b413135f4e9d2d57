import Foundation

/// Builds XML text by appending, escaping all character data and attribute values.
struct XMLWriter {
    private(set) var output = ""

    /// Appends `<name attr="v">`.
    mutating func open(_ name: String, _ attributes: [(String, String)] = []) {
        output += "<" + name
        appendAttributes(attributes)
        output += ">"
    }

    /// Appends `</name>`.
    mutating func close(_ name: String) {
        output += "</" + name + ">"
    }

    /// Appends `<name attr="v"/>`.
    mutating func empty(_ name: String, _ attributes: [(String, String)] = []) {
        output += "<" + name
        appendAttributes(attributes)
        output += "/>"
    }

    /// Appends `<name attr="v">text</name>`.
    mutating func leaf(_ name: String, _ text: String, _ attributes: [(String, String)] = []) {
        open(name, attributes)
        output += Self.escape(text, inAttribute: false)
        close(name)
    }

    /// Appends a leaf whose text is a boolean, as `true` / `false`.
    mutating func leaf(_ name: String, _ value: Bool) {
        leaf(name, value ? "true" : "false")
    }

    /// Appends a leaf whose text is an integer.
    mutating func leaf(_ name: String, _ value: Int) {
        leaf(name, String(value))
    }

    /// Appends a leaf whose text is a duration in Azure's format.
    mutating func leaf(_ name: String, _ value: ISO8601Duration) {
        leaf(name, value.description)
    }

    /// Appends a leaf whose text is a time in Azure's format.
    mutating func leaf(_ name: String, _ value: Date) {
        leaf(name, ManagementDate.format(value))
    }

    /// Appends a leaf only when the value is present.
    mutating func optionalLeaf(_ name: String, _ value: String?) {
        if let value {
            leaf(name, value)
        }
    }

    /// Appends a time leaf only when the value is present.
    mutating func optionalLeaf(_ name: String, _ value: Date?) {
        if let value {
            leaf(name, value)
        }
    }

    private mutating func appendAttributes(_ attributes: [(String, String)]) {
        for (name, value) in attributes {
            output += " " + name + "=\"" + Self.escape(value, inAttribute: true) + "\""
        }
    }

    /// Escapes text for XML 1.0. Markup characters become entity references, CR and (in attributes) TAB and LF
    /// become character references so they survive normalization, and characters XML 1.0 cannot carry at all
    /// (most C0 controls, unpaired surrogates cannot occur in Swift strings) become U+FFFD.
    static func escape(_ text: String, inAttribute: Bool) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"" where inAttribute: result += "&quot;"
            case "'" where inAttribute: result += "&apos;"
            case "\r": result += "&#xD;"
            case "\n" where inAttribute: result += "&#xA;"
            case "\t" where inAttribute: result += "&#x9;"
            case "\n", "\t": result.unicodeScalars.append(scalar)
            case "\u{0}"..."\u{1F}", "\u{FFFE}", "\u{FFFF}": result += "\u{FFFD}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

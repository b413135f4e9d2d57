import ConduitContext
import Foundation

/// The name–value pairs of a webhook's `authvalue` for authtype 5 (HttpHeader: one header each) and 6
/// (HttpQueryString: one query parameter each), written as Dataverse stores them:
///
/// ```xml
/// <settings><setting name="x-api-key" value="secret"/><setting name="tenant" value="contoso"/></settings>
/// ```
///
/// Read with Dataverse's rules (reference §5.1): one `settings` element; at least one child; every child a `setting`
/// (any case) with exactly the two attributes `name` and `value`, neither blank; both trimmed. A refusal starts with
/// Dataverse's own text.
public struct WebhookSettings: Hashable, Sendable {
    /// One pair.
    public struct Setting: Hashable, Sendable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The pairs, in document order.
    public var settings: [Setting]

    public init(settings: [Setting]) {
        self.settings = settings
    }

    /// Reads an `authvalue`.
    /// - Throws: ``ServiceEndpointError`` saying which rule the text breaks.
    public init(parsing text: String) throws(ServiceEndpointError) {
        let root: XMLElementTree
        do {
            root = try XMLElementTree.parse(text, limits: DecodingLimits(maximumDepth: 8, maximumSize: 64 * 1024))
        } catch {
            throw ServiceEndpointError(
                "'settings' node is expected for authValue: it is not XML (\(error.message)); write <settings><setting name=\"…\" value=\"…\"/></settings>."
            )
        }
        guard root.name == "settings" else {
            throw ServiceEndpointError(
                "'settings' node is expected for authValue, not '\(root.name)': write <settings><setting name=\"…\" value=\"…\"/></settings>."
            )
        }
        guard !root.children.isEmpty else {
            throw ServiceEndpointError("Atleast one 'setting' node is expected in authValue's 'settings' node.")
        }
        var settings: [Setting] = []
        for (index, child) in root.children.enumerated() {
            let name = child.attribute("name")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            let value = child.attribute("value")?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            guard child.name.lowercased() == "setting", child.attributes.count == 2, child.children.isEmpty,
                !name.isEmpty, !value.isEmpty
            else {
                throw ServiceEndpointError(
                    "Invalid 'setting' node found in authValue (node \(index + 1), '\(child.name)'): each must be a 'setting' with exactly the attributes name and value, neither blank."
                )
            }
            settings.append(Setting(name: name, value: value))
        }
        self.settings = settings
    }

    /// The pairs as Dataverse stores them: `<settings><setting name="…" value="…"/>…</settings>`.
    public var xml: String {
        let items = settings.map { "<setting name=\"\(Self.escape($0.name))\" value=\"\(Self.escape($0.value))\"/>" }
        return "<settings>\(items.joined())</settings>"
    }

    private static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&apos;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Checks that each pair can be an HTTP header (authtype 5): a token name and a value without line breaks.
    /// - Throws: ``ServiceEndpointError`` naming the first pair that cannot.
    public func checkHeaders() throws(ServiceEndpointError) {
        for setting in settings {
            guard setting.name.utf8.allSatisfy(Self.isTokenCharacter) else {
                throw ServiceEndpointError(
                    "The webhook's authValue holds an invalid http header name '\(setting.name)': use letters, digits and !#$%&'*+-.^_`|~ only."
                )
            }
            guard !setting.value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) else {
                throw ServiceEndpointError(
                    "The webhook's authValue holds an invalid value for the http header '\(setting.name)': it may not hold line breaks."
                )
            }
        }
    }

    /// RFC 9110 `tchar`.
    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}

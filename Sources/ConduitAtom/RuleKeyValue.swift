/// A named ``RuleValue``: one `KeyValueOfstringanyType` of a correlation filter's `Properties` or of the
/// `Parameters` of a SQL filter or action.
public struct RuleKeyValue: Sendable, Hashable {
    /// The property or parameter name (SQL parameters start with `@`).
    public var key: String
    /// The typed value.
    public var value: RuleValue

    /// Creates a key/value pair.
    public init(key: String, value: RuleValue) {
        self.key = key
        self.value = value
    }

    /// Reads the `KeyValueOfstringanyType` children of a `Properties` or `Parameters` element, in order.
    static func decodeList(_ node: XMLNode, reader: FieldReader) throws(ManagementCodecError) -> [RuleKeyValue] {
        let fields = reader.nested(node)
        var pairs: [RuleKeyValue] = []
        for item in node.children where item.localName == "KeyValueOfstringanyType" {
            let itemPath = fields.path(item)
            guard let key = item.child("Key") else {
                throw .missing(itemPath + "/Key")
            }
            guard let value = item.child("Value") else {
                throw .missing(itemPath + "/Value")
            }
            pairs.append(RuleKeyValue(key: key.text, value: try RuleValue(decoding: value, path: itemPath + "/Value")))
        }
        return pairs
    }

    /// Writes a `Properties` or `Parameters` element with its pairs.
    static func writeList(_ name: String, _ pairs: [RuleKeyValue], to writer: inout XMLWriter) {
        guard !pairs.isEmpty else {
            writer.empty(name)
            return
        }
        writer.open(name)
        for pair in pairs {
            writer.open("KeyValueOfstringanyType")
            writer.leaf("Key", pair.key)
            pair.value.write(to: &writer)
            writer.close("KeyValueOfstringanyType")
        }
        writer.close(name)
    }
}

import Foundation

/// An entry of an entity's `AuthorizationRules`: a shared access key with its rights.
///
/// Wire shape (element order as Azure writes it):
/// `<AuthorizationRule i:type="SharedAccessAuthorizationRule"><ClaimType>SharedAccessKey</ClaimType>`
/// `<ClaimValue>None</ClaimValue><Rights><AccessRights>Listen</AccessRights></Rights><CreatedTime>…`
/// `<ModifiedTime>…<KeyName>…</KeyName><PrimaryKey>…</PrimaryKey><SecondaryKey>…</SecondaryKey>`
/// `</AuthorizationRule>`; `CreatedTime` and `ModifiedTime` are written only when known.
public struct AuthorizationRule: Sendable, Hashable {
    /// The `i:type` of the rule; the SDKs only know `SharedAccessAuthorizationRule`.
    public var type = "SharedAccessAuthorizationRule"
    /// The claim type, `SharedAccessKey` for SAS rules.
    public var claimType = "SharedAccessKey"
    /// The claim value, `None` for SAS rules.
    public var claimValue = "None"
    /// The granted rights.
    public var rights: [AccessRight]
    /// When the rule was created, if known.
    public var createdTime: Date?
    /// When the rule was last changed, if known.
    public var modifiedTime: Date?
    /// The name of the key, used as `skn` in SAS tokens.
    public var keyName: String
    /// The primary key (base64, 44 characters for SDK-generated keys).
    public var primaryKey: String?
    /// The secondary key.
    public var secondaryKey: String?

    /// Creates a SAS authorization rule.
    public init(keyName: String, rights: [AccessRight], primaryKey: String? = nil, secondaryKey: String? = nil) {
        self.keyName = keyName
        self.rights = rights
        self.primaryKey = primaryKey
        self.secondaryKey = secondaryKey
    }

    init(decoding node: XMLNode, reader: FieldReader) throws(ManagementCodecError) {
        let fields = reader.nested(node)
        self.init(keyName: "", rights: [])
        type = node.schemaType ?? type
        var sawKeyName = false
        for child in node.children {
            switch child.localName {
            case "ClaimType": claimType = fields.string(child)
            case "ClaimValue": claimValue = fields.string(child)
            case "Rights": rights = try Self.decodeRights(child, reader: fields)
            case "CreatedTime": createdTime = try fields.date(child)
            case "ModifiedTime": modifiedTime = try fields.date(child)
            case "KeyName":
                keyName = fields.string(child)
                sawKeyName = true
            case "PrimaryKey": primaryKey = fields.optionalString(child)
            case "SecondaryKey": secondaryKey = fields.optionalString(child)
            default: continue
            }
        }
        guard sawKeyName, !keyName.trimmingXMLWhitespace().isEmpty else {
            throw .missing(fields.parent + "/KeyName")
        }
    }

    private static func decodeRights(_ node: XMLNode, reader: FieldReader) throws(ManagementCodecError) -> [AccessRight]
    {
        let fields = reader.nested(node)
        var rights: [AccessRight] = []
        for child in node.children where child.localName == "AccessRights" {
            let text = child.text.trimmingXMLWhitespace()
            guard let right = AccessRight.allCases.first(where: { $0.rawValue.lowercased() == text.lowercased() })
            else {
                throw .invalidValue(child.text, at: fields.path(child), expected: "one of Manage, Send, Listen")
            }
            rights.append(right)
        }
        return rights
    }

    func write(to writer: inout XMLWriter) {
        writer.open("AuthorizationRule", [("i:type", type)])
        writer.leaf("ClaimType", claimType)
        writer.leaf("ClaimValue", claimValue)
        writer.open("Rights")
        for right in rights {
            writer.leaf("AccessRights", right.rawValue)
        }
        writer.close("Rights")
        writer.optionalLeaf("CreatedTime", createdTime)
        writer.optionalLeaf("ModifiedTime", modifiedTime)
        writer.leaf("KeyName", keyName)
        writer.optionalLeaf("PrimaryKey", primaryKey)
        writer.optionalLeaf("SecondaryKey", secondaryKey)
        writer.close("AuthorizationRule")
    }

    /// Reads an `AuthorizationRules` list.
    static func decodeList(_ node: XMLNode, reader: FieldReader) throws(ManagementCodecError) -> [AuthorizationRule] {
        let fields = reader.nested(node)
        var rules: [AuthorizationRule] = []
        for child in node.children where child.localName == "AuthorizationRule" {
            rules.append(try AuthorizationRule(decoding: child, reader: fields))
        }
        return rules
    }

    /// Writes an `AuthorizationRules` list (empty lists are written too, as Azure does).
    static func writeList(_ rules: [AuthorizationRule], to writer: inout XMLWriter) {
        writer.open("AuthorizationRules")
        for rule in rules {
            rule.write(to: &writer)
        }
        writer.close("AuthorizationRules")
    }
}

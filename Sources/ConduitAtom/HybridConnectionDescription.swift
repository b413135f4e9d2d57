import Foundation

/// A relay hybrid connection as the classic management API describes it (`HybridConnectionDescription`,
/// `PUT /{name}`; `GET /$Resources/HybridConnections` lists them).
public struct HybridConnectionDescription: Sendable, Hashable {
    /// Whether senders need a SAS token with Send (Azure's default: `true`).
    public var requiresClientAuthorization = true
    /// Free text for the owner.
    public var userMetadata: String?
    /// Listeners connected now (responses only).
    public var listenerCount = 0
    public var createdAt: Date?
    public var updatedAt: Date?

    public init() {}
}

extension HybridConnectionDescription {
    static let elementName = "HybridConnectionDescription"

    init(decoding node: XMLNode) throws(ManagementCodecError) {
        self.init()
        let fields = FieldReader(parent: Self.elementName)
        for child in node.children {
            switch child.localName {
            case "RequiresClientAuthorization": requiresClientAuthorization = try fields.bool(child)
            case "UserMetadata": userMetadata = fields.optionalString(child)
            case "ListenerCount": listenerCount = try fields.int(child, in: 0...Int.max)
            case "CreatedAt": createdAt = try fields.date(child)
            case "UpdatedAt": updatedAt = try fields.date(child)
            default: continue
            }
        }
    }

    func write(to writer: inout XMLWriter, mode: DescriptionEncodingMode) {
        writer.open(Self.elementName, ServiceBusXMLNamespace.descriptionRootAttributes)
        if mode == .response {
            writer.optionalLeaf("CreatedAt", createdAt)
            writer.optionalLeaf("UpdatedAt", updatedAt)
            writer.leaf("ListenerCount", listenerCount)
        }
        writer.leaf("RequiresClientAuthorization", requiresClientAuthorization)
        writer.optionalLeaf("UserMetadata", userMetadata)
        writer.close(Self.elementName)
    }
}

import Foundation

/// The namespace metadata returned by `GET /$namespaceinfo`: the `NamespaceInfo` element.
///
/// Children in Azure's (alphabetical) order: `Alias`, `CreatedTime`, `MessagingSKU`, `MessagingUnits`,
/// `ModifiedTime`, `Name`, `NamespaceType`.
public struct NamespaceInfo: Sendable, Hashable {
    /// The geo-disaster-recovery alias, if any.
    public var alias: String?
    /// When the namespace was created.
    public var createdTime: Date?
    /// The tier: `Basic`, `Standard` or `Premium`. Default `Standard`.
    public var messagingSKU = "Standard"
    /// The messaging units of a premium namespace.
    public var messagingUnits: Int?
    /// When the namespace was last changed.
    public var modifiedTime: Date?
    /// The namespace name (the first label of its host name on Azure).
    public var name: String
    /// What the namespace holds: `Messaging` for Service Bus. Default `Messaging`.
    public var namespaceType = "Messaging"

    /// Creates namespace metadata.
    public init(name: String, createdTime: Date? = nil, modifiedTime: Date? = nil) {
        self.name = name
        self.createdTime = createdTime
        self.modifiedTime = modifiedTime
    }

    /// The name of the content element.
    static let elementName = "NamespaceInfo"

    init(decoding node: XMLNode) throws(ManagementCodecError) {
        self.init(name: "")
        let fields = FieldReader(parent: Self.elementName)
        for child in node.children {
            switch child.localName {
            case "Alias": alias = fields.optionalString(child)
            case "CreatedTime": createdTime = try fields.date(child)
            case "MessagingSKU": messagingSKU = fields.string(child)
            case "MessagingUnits": messagingUnits = try fields.int(child)
            case "ModifiedTime": modifiedTime = try fields.date(child)
            case "Name": name = fields.string(child)
            case "NamespaceType": namespaceType = fields.string(child)
            default: continue
            }
        }
    }

    func write(to writer: inout XMLWriter) {
        writer.open(Self.elementName, ServiceBusXMLNamespace.descriptionRootAttributes)
        writer.optionalLeaf("Alias", alias)
        writer.optionalLeaf("CreatedTime", createdTime)
        writer.leaf("MessagingSKU", messagingSKU)
        if let messagingUnits {
            writer.leaf("MessagingUnits", messagingUnits)
        }
        writer.optionalLeaf("ModifiedTime", modifiedTime)
        writer.leaf("Name", name)
        writer.leaf("NamespaceType", namespaceType)
        writer.close(Self.elementName)
    }
}

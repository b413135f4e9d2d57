import Foundation

/// An event hub as the classic Service Bus management API describes it (`EventHubDescription`, `PUT /{hub}`).
public struct EventHubDescription: Sendable, Hashable {
    /// Days an event is kept (Azure's default: 1; any whole number of days here, limits come from configuration).
    public var messageRetentionInDays = 1
    /// The number of partitions (default 4).
    public var partitionCount = 4
    /// The partitions' ids, `0` to `PartitionCount - 1` (responses only).
    public var partitionIds: [String] = []
    public var status = EntityStatus.active
    public var createdAt: Date?
    public var updatedAt: Date?

    public init() {}
}

extension EventHubDescription {
    static let elementName = "EventHubDescription"

    init(decoding node: XMLNode) throws(ManagementCodecError) {
        self.init()
        let fields = FieldReader(parent: Self.elementName)
        for child in node.children {
            switch child.localName {
            case "MessageRetentionInDays": messageRetentionInDays = try fields.int(child, in: 1...Int.max)
            case "PartitionCount": partitionCount = try fields.int(child, in: 1...Int.max)
            case "Status": status = try fields.status(child)
            case "CreatedAt": createdAt = try fields.date(child)
            case "UpdatedAt": updatedAt = try fields.date(child)
            default: continue
            }
        }
    }

    func write(to writer: inout XMLWriter, mode: DescriptionEncodingMode) {
        writer.open(Self.elementName, ServiceBusXMLNamespace.descriptionRootAttributes)
        writer.leaf("MessageRetentionInDays", messageRetentionInDays)
        if mode == .response {
            writer.optionalLeaf("CreatedAt", createdAt)
            writer.optionalLeaf("UpdatedAt", updatedAt)
        }
        writer.leaf("PartitionCount", partitionCount)
        if mode == .response {
            writer.open("PartitionIds", [("xmlns:d2p1", "http://schemas.microsoft.com/2003/10/Serialization/Arrays")])
            for id in partitionIds { writer.leaf("d2p1:string", id) }
            writer.close("PartitionIds")
        }
        writer.leaf("Status", status.rawValue)
        writer.close(Self.elementName)
    }
}

/// The read-only `CountDetails` of a queue, topic or subscription.
///
/// Azure writes the children in the `http://schemas.microsoft.com/netservices/2011/06/servicebus` namespace
/// with the prefix `d2p1`, in the order of the properties below.
public struct MessageCountDetails: Sendable, Hashable {
    /// Messages available for receiving.
    public var activeMessageCount = 0
    /// Messages in the dead-letter sub-queue.
    public var deadLetterMessageCount = 0
    /// Messages scheduled for later.
    public var scheduledMessageCount = 0
    /// Messages waiting to be forwarded.
    public var transferMessageCount = 0
    /// Messages that failed forwarding and were dead-lettered.
    public var transferDeadLetterMessageCount = 0

    /// Creates counts, all zero unless given.
    public init(
        activeMessageCount: Int = 0,
        deadLetterMessageCount: Int = 0,
        scheduledMessageCount: Int = 0,
        transferMessageCount: Int = 0,
        transferDeadLetterMessageCount: Int = 0
    ) {
        self.activeMessageCount = activeMessageCount
        self.deadLetterMessageCount = deadLetterMessageCount
        self.scheduledMessageCount = scheduledMessageCount
        self.transferMessageCount = transferMessageCount
        self.transferDeadLetterMessageCount = transferDeadLetterMessageCount
    }

    init(decoding node: XMLNode, reader: FieldReader) throws(ManagementCodecError) {
        let fields = reader.nested(node)
        for child in node.children {
            switch child.localName {
            case "ActiveMessageCount": activeMessageCount = try fields.int(child)
            case "DeadLetterMessageCount": deadLetterMessageCount = try fields.int(child)
            case "ScheduledMessageCount": scheduledMessageCount = try fields.int(child)
            case "TransferMessageCount": transferMessageCount = try fields.int(child)
            case "TransferDeadLetterMessageCount": transferDeadLetterMessageCount = try fields.int(child)
            default: continue
            }
        }
    }

    func write(to writer: inout XMLWriter) {
        writer.open("CountDetails", [("xmlns:d2p1", ServiceBusXMLNamespace.messageCounts)])
        writer.leaf("d2p1:ActiveMessageCount", activeMessageCount)
        writer.leaf("d2p1:DeadLetterMessageCount", deadLetterMessageCount)
        writer.leaf("d2p1:ScheduledMessageCount", scheduledMessageCount)
        writer.leaf("d2p1:TransferMessageCount", transferMessageCount)
        writer.leaf("d2p1:TransferDeadLetterMessageCount", transferDeadLetterMessageCount)
        writer.close("CountDetails")
    }
}

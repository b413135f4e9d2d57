extension QueueDescription {
    /// The name of the content element.
    static let elementName = "QueueDescription"

    /// Reads a `QueueDescription` element; elements may come in any order, unknown ones are ignored.
    init(decoding node: XMLNode) throws(ManagementCodecError) {
        self.init()
        let fields = FieldReader(parent: Self.elementName)
        for child in node.children {
            switch child.localName {
            case "LockDuration": lockDuration = try fields.duration(child)
            case "MaxSizeInMegabytes": maxSizeInMegabytes = try fields.int(child, in: 1...Int.max)
            case "RequiresDuplicateDetection": requiresDuplicateDetection = try fields.bool(child)
            case "RequiresSession": requiresSession = try fields.bool(child)
            case "DefaultMessageTimeToLive": defaultMessageTimeToLive = try fields.duration(child)
            case "DeadLetteringOnMessageExpiration": deadLetteringOnMessageExpiration = try fields.bool(child)
            case "DuplicateDetectionHistoryTimeWindow": duplicateDetectionHistoryTimeWindow = try fields.duration(child)
            case "MaxDeliveryCount": maxDeliveryCount = try fields.int32(child, minimum: 1)
            case "EnableBatchedOperations": enableBatchedOperations = try fields.bool(child)
            case "SizeInBytes": sizeInBytes = try fields.int(child)
            case "MessageCount": messageCount = try fields.int(child)
            case "IsAnonymousAccessible": isAnonymousAccessible = try fields.bool(child)
            case "AuthorizationRules": authorizationRules = try AuthorizationRule.decodeList(child, reader: fields)
            case "Status": status = try fields.status(child)
            case "CreatedAt": createdAt = try fields.date(child)
            case "UpdatedAt": updatedAt = try fields.date(child)
            case "AccessedAt": accessedAt = try fields.date(child)
            case "UserMetadata": userMetadata = fields.string(child)
            case "SupportOrdering": supportOrdering = try fields.bool(child)
            case "CountDetails": countDetails = try MessageCountDetails(decoding: child, reader: fields)
            case "AutoDeleteOnIdle": autoDeleteOnIdle = try fields.duration(child)
            case "EnablePartitioning": enablePartitioning = try fields.bool(child)
            case "EntityAvailabilityStatus": entityAvailabilityStatus = try fields.availability(child)
            case "EnableExpress": enableExpress = try fields.bool(child)
            case "ForwardTo": forwardTo = fields.optionalString(child)
            case "ForwardDeadLetteredMessagesTo": forwardDeadLetteredMessagesTo = fields.optionalString(child)
            case "MaxMessageSizeInKilobytes": maxMessageSizeInKilobytes = try fields.int(child, in: 1...Int.max)
            default: continue
            }
        }
    }

    /// Writes the `QueueDescription` element in the order Azure returns its children.
    func write(to writer: inout XMLWriter, mode: DescriptionEncodingMode) {
        let response = mode == .response
        writer.open(Self.elementName, ServiceBusXMLNamespace.descriptionRootAttributes)
        writer.leaf("LockDuration", lockDuration)
        writer.leaf("MaxSizeInMegabytes", maxSizeInMegabytes)
        writer.leaf("RequiresDuplicateDetection", requiresDuplicateDetection)
        writer.leaf("RequiresSession", requiresSession)
        writer.leaf("DefaultMessageTimeToLive", defaultMessageTimeToLive)
        writer.leaf("DeadLetteringOnMessageExpiration", deadLetteringOnMessageExpiration)
        writer.leaf("DuplicateDetectionHistoryTimeWindow", duplicateDetectionHistoryTimeWindow)
        writer.leaf("MaxDeliveryCount", maxDeliveryCount)
        writer.leaf("EnableBatchedOperations", enableBatchedOperations)
        if response {
            writer.leaf("SizeInBytes", sizeInBytes ?? 0)
            writer.leaf("MessageCount", messageCount ?? 0)
        }
        writer.leaf("IsAnonymousAccessible", isAnonymousAccessible)
        AuthorizationRule.writeList(authorizationRules, to: &writer)
        writer.leaf("Status", status.rawValue)
        if response {
            writer.optionalLeaf("CreatedAt", createdAt)
            writer.optionalLeaf("UpdatedAt", updatedAt)
            if accessedAt != nil || countDetails != nil {
                writer.leaf("AccessedAt", accessedAt ?? ManagementDate.minValue)
            }
        }
        writer.optionalLeaf("UserMetadata", userMetadata)
        writer.leaf("SupportOrdering", supportOrdering)
        if response {
            countDetails?.write(to: &writer)
        }
        writer.leaf("AutoDeleteOnIdle", autoDeleteOnIdle)
        writer.leaf("EnablePartitioning", enablePartitioning)
        if response {
            writer.leaf("EntityAvailabilityStatus", entityAvailabilityStatus.rawValue)
        }
        writer.leaf("EnableExpress", enableExpress)
        writer.optionalLeaf("ForwardTo", forwardTo)
        writer.optionalLeaf("ForwardDeadLetteredMessagesTo", forwardDeadLetteredMessagesTo)
        writer.leaf("MaxMessageSizeInKilobytes", maxMessageSizeInKilobytes)
        writer.close(Self.elementName)
    }
}

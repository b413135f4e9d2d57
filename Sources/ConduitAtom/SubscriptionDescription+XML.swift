extension SubscriptionDescription {
    /// The name of the content element.
    static let elementName = "SubscriptionDescription"

    /// Reads a `SubscriptionDescription` element; elements may come in any order, unknown ones are ignored.
    init(decoding node: XMLNode) throws(ManagementCodecError) {
        self.init()
        let fields = FieldReader(parent: Self.elementName)
        for child in node.children {
            switch child.localName {
            case "LockDuration": lockDuration = try fields.duration(child)
            case "RequiresSession": requiresSession = try fields.bool(child)
            case "DefaultMessageTimeToLive": defaultMessageTimeToLive = try fields.duration(child)
            case "DeadLetteringOnMessageExpiration": deadLetteringOnMessageExpiration = try fields.bool(child)
            case "DeadLetteringOnFilterEvaluationExceptions":
                deadLetteringOnFilterEvaluationExceptions = try fields.bool(child)
            case "DefaultRuleDescription": defaultRule = try RuleDescription(decoding: child, path: fields.path(child))
            case "MessageCount": messageCount = try fields.int(child)
            case "MaxDeliveryCount": maxDeliveryCount = try fields.int32(child, minimum: 1)
            case "EnableBatchedOperations": enableBatchedOperations = try fields.bool(child)
            case "Status": status = try fields.status(child)
            case "ForwardTo": forwardTo = fields.optionalString(child)
            case "CreatedAt": createdAt = try fields.date(child)
            case "UpdatedAt": updatedAt = try fields.date(child)
            case "AccessedAt": accessedAt = try fields.date(child)
            case "UserMetadata": userMetadata = fields.string(child)
            case "CountDetails": countDetails = try MessageCountDetails(decoding: child, reader: fields)
            case "ForwardDeadLetteredMessagesTo": forwardDeadLetteredMessagesTo = fields.optionalString(child)
            case "AutoDeleteOnIdle": autoDeleteOnIdle = try fields.duration(child)
            case "EntityAvailabilityStatus": entityAvailabilityStatus = try fields.availability(child)
            default: continue
            }
        }
    }

    /// Writes the `SubscriptionDescription` element in the order Azure returns its children.
    func write(to writer: inout XMLWriter, mode: DescriptionEncodingMode) {
        let response = mode == .response
        writer.open(Self.elementName, ServiceBusXMLNamespace.descriptionRootAttributes)
        writer.leaf("LockDuration", lockDuration)
        writer.leaf("RequiresSession", requiresSession)
        writer.leaf("DefaultMessageTimeToLive", defaultMessageTimeToLive)
        writer.leaf("DeadLetteringOnMessageExpiration", deadLetteringOnMessageExpiration)
        writer.leaf("DeadLetteringOnFilterEvaluationExceptions", deadLetteringOnFilterEvaluationExceptions)
        if response {
            writer.leaf("MessageCount", messageCount ?? 0)
        } else if let defaultRule {
            defaultRule.write(to: &writer, mode: .request, elementName: "DefaultRuleDescription")
        }
        writer.leaf("MaxDeliveryCount", maxDeliveryCount)
        writer.leaf("EnableBatchedOperations", enableBatchedOperations)
        writer.leaf("Status", status.rawValue)
        writer.optionalLeaf("ForwardTo", forwardTo)
        if response {
            writer.optionalLeaf("CreatedAt", createdAt)
            writer.optionalLeaf("UpdatedAt", updatedAt)
            writer.leaf("AccessedAt", accessedAt ?? ManagementDate.minValue)
        }
        writer.optionalLeaf("UserMetadata", userMetadata)
        if response {
            countDetails?.write(to: &writer)
        }
        writer.optionalLeaf("ForwardDeadLetteredMessagesTo", forwardDeadLetteredMessagesTo)
        writer.leaf("AutoDeleteOnIdle", autoDeleteOnIdle)
        if response {
            writer.leaf("EntityAvailabilityStatus", entityAvailabilityStatus.rawValue)
            writer.leaf("IsClientAffine", false)
        }
        writer.close(Self.elementName)
    }
}

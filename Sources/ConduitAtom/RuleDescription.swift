import Foundation

/// A subscription rule: the `RuleDescription` element (or a subscription's `DefaultRuleDescription`).
///
/// Children in Azure's order: `Filter`, `Action`, `CreatedAt` (read-only), `Name`. A body without `Filter`
/// gets ``RuleFilter/trueFilter`` and one without `Action` gets ``RuleAction/empty``, as on Azure.
public struct RuleDescription: Sendable, Hashable {
    /// Which messages the rule selects. Default ``RuleFilter/trueFilter``.
    public var filter = RuleFilter.trueFilter
    /// How selected messages are changed. Default ``RuleAction/empty``.
    public var action = RuleAction.empty
    /// Read-only: when the rule was created.
    public var createdAt: Date?
    /// The `Name` in the body, if any. Responses write the name of the resource instead (see
    /// ``ManagementEncoder/ruleEntry(_:topicName:subscriptionName:name:published:updated:)``).
    public var name: String?

    /// A rule with Azure's defaults: a true filter and an empty action.
    public init(filter: RuleFilter = .trueFilter, action: RuleAction = .empty, name: String? = nil) {
        self.filter = filter
        self.action = action
        self.name = name
    }

    /// The name of the content element.
    static let elementName = "RuleDescription"

    /// Reads a `RuleDescription` or `DefaultRuleDescription` element found at `path`.
    init(decoding node: XMLNode, path: String) throws(ManagementCodecError) {
        self.init()
        let fields = FieldReader(parent: path)
        for child in node.children {
            switch child.localName {
            case "Filter": filter = try RuleFilter(decoding: child, reader: fields)
            case "Action": action = try RuleAction(decoding: child, reader: fields)
            case "CreatedAt": createdAt = try fields.date(child)
            case "Name": name = fields.string(child)
            default: continue
            }
        }
    }

    /// Writes the rule under `elementName`; `resourceName` replaces ``name`` when given.
    func write(
        to writer: inout XMLWriter,
        mode: DescriptionEncodingMode,
        elementName: String = RuleDescription.elementName,
        resourceName: String? = nil
    ) {
        let isRoot = elementName == Self.elementName
        writer.open(elementName, isRoot ? ServiceBusXMLNamespace.descriptionRootAttributes : [])
        filter.write(to: &writer)
        action.write(to: &writer)
        if mode == .response {
            writer.optionalLeaf("CreatedAt", createdAt)
        }
        writer.optionalLeaf("Name", resourceName ?? name)
        writer.close(elementName)
    }
}

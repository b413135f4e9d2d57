/// The action of a rule, chosen on the wire by the `i:type` attribute of `<Action>`.
public enum RuleAction: Sendable, Hashable {
    /// `EmptyRuleAction`: the message is not changed (Azure's default).
    case empty
    /// `SqlRuleAction`: a SQL statement changes the message.
    case sql(SqlRuleAction)

    /// The `i:type` name, e.g. `EmptyRuleAction`.
    public var typeName: String {
        switch self {
        case .empty: "EmptyRuleAction"
        case .sql: "SqlRuleAction"
        }
    }

    init(decoding node: XMLNode, reader: FieldReader) throws(ManagementCodecError) {
        let fields = reader.nested(node)
        guard let type = node.schemaType else {
            throw ManagementCodecError(
                kind: .missingElement,
                element: fields.parent,
                message: "Missing attribute i:type on \(fields.parent): expected EmptyRuleAction or SqlRuleAction."
            )
        }
        switch node.resolveQualifiedValue(type).localName {
        case "EmptyRuleAction": self = .empty
        case "SqlRuleAction": self = .sql(try SqlRuleAction(decodingSql: node, reader: fields))
        default:
            throw .invalidValue(type, at: fields.parent + "/@i:type", expected: "EmptyRuleAction or SqlRuleAction")
        }
    }

    /// Writes `<Action i:type="…">`; an empty action is `<Action i:type="EmptyRuleAction"/>` as Azure writes it.
    func write(to writer: inout XMLWriter) {
        switch self {
        case .empty:
            writer.empty("Action", [("i:type", typeName)])
        case .sql(let action):
            writer.open("Action", [("i:type", typeName)])
            action.writeSql(to: &writer)
            writer.close("Action")
        }
    }
}

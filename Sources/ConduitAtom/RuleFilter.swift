/// The filter of a rule, chosen on the wire by the `i:type` attribute of `<Filter>`.
public enum RuleFilter: Sendable, Hashable {
    /// `SqlFilter`: a SQL condition.
    case sql(SqlRuleFilter)
    /// `CorrelationFilter`: equality on system and application properties.
    case correlation(CorrelationRuleFilter)
    /// `TrueFilter`: matches every message (`1=1`); the filter of the `$Default` rule.
    case trueFilter
    /// `FalseFilter`: matches no message (`1=0`).
    case falseFilter

    /// The `i:type` name, e.g. `SqlFilter`.
    public var typeName: String {
        switch self {
        case .sql: "SqlFilter"
        case .correlation: "CorrelationFilter"
        case .trueFilter: "TrueFilter"
        case .falseFilter: "FalseFilter"
        }
    }

    init(decoding node: XMLNode, reader: FieldReader) throws(ManagementCodecError) {
        let fields = reader.nested(node)
        guard let type = node.schemaType else {
            throw ManagementCodecError(
                kind: .missingElement,
                element: fields.parent,
                message: "Missing attribute i:type on \(fields.parent): expected SqlFilter, CorrelationFilter, "
                    + "TrueFilter or FalseFilter."
            )
        }
        switch node.resolveQualifiedValue(type).localName {
        case "SqlFilter": self = .sql(try SqlRuleFilter(decodingSql: node, reader: fields))
        case "CorrelationFilter": self = .correlation(try CorrelationRuleFilter(decoding: node, reader: fields))
        case "TrueFilter": self = .trueFilter
        case "FalseFilter": self = .falseFilter
        default:
            throw .invalidValue(
                type,
                at: fields.parent + "/@i:type",
                expected: "SqlFilter, CorrelationFilter, TrueFilter or FalseFilter"
            )
        }
    }

    /// Writes `<Filter i:type="…">` as Azure returns it.
    func write(to writer: inout XMLWriter) {
        writer.open("Filter", [("i:type", typeName)])
        switch self {
        case .sql(let filter):
            filter.writeSql(to: &writer)
        case .correlation(let filter):
            filter.write(to: &writer)
        case .trueFilter:
            writer.leaf("SqlExpression", "1=1")
            writer.leaf("CompatibilityLevel", 20)
        case .falseFilter:
            writer.leaf("SqlExpression", "1=0")
            writer.leaf("CompatibilityLevel", 20)
        }
        writer.close("Filter")
    }
}

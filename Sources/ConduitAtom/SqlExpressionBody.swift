/// The shared wire shape of a SQL filter and a SQL action:
/// `<SqlExpression>…</SqlExpression><CompatibilityLevel>20</CompatibilityLevel><Parameters>…</Parameters>`
/// `<RequiresPreprocessing>true</RequiresPreprocessing>`.
protocol SqlExpressionBody {
    var sqlExpression: String { get set }
    var compatibilityLevel: Int { get set }
    var parameters: [RuleKeyValue] { get set }
    var requiresPreprocessing: Bool { get set }

    init(sqlExpression: String)
}

extension SqlExpressionBody {
    /// Reads the children of a `Filter` or `Action` element; `SqlExpression` must be present and not blank.
    init(decodingSql node: XMLNode, reader: FieldReader) throws(ManagementCodecError) {
        guard let expression = node.child("SqlExpression"),
            !expression.text.trimmingXMLWhitespace().isEmpty
        else {
            throw .missing(reader.parent + "/SqlExpression")
        }
        self.init(sqlExpression: expression.text)
        for child in node.children {
            switch child.localName {
            case "CompatibilityLevel": compatibilityLevel = try reader.int(child)
            case "Parameters": parameters = try RuleKeyValue.decodeList(child, reader: reader)
            case "RequiresPreprocessing": requiresPreprocessing = try reader.bool(child)
            default: continue
            }
        }
    }

    /// Writes the children in Azure's order; `Parameters` only when there are some.
    func writeSql(to writer: inout XMLWriter) {
        writer.leaf("SqlExpression", sqlExpression)
        writer.leaf("CompatibilityLevel", compatibilityLevel)
        if !parameters.isEmpty {
            RuleKeyValue.writeList("Parameters", parameters, to: &writer)
        }
        writer.leaf("RequiresPreprocessing", requiresPreprocessing)
    }
}

import ConduitContext
import ConduitPlatform
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `EntityDefinitions`: list tables, read one, create a custom table, add a custom column — the subset of the
/// Dataverse metadata API that run-time customization needs.
struct EntityDefinitionsEndpoint {
    let platform: Platform

    func handle(_ request: Request, path: String, base: String) async throws -> Response {
        var request = request
        switch (request.method, path) {
        case (.get, "EntityDefinitions"):
            let items = platform.metadata.all.map { JSONWriter.object(summary($0)) }
            return WebAPIController.json(
                .ok,
                JSONWriter.object([
                    ("@odata.context", JSONWriter.quoted(base + "$metadata#EntityDefinitions")),
                    ("value", "[" + items.joined(separator: ",") + "]"),
                ])
            )
        case (.get, _):
            let table = try self.table(in: path)
            var members = summary(table)
            let attributes = table.attributes.map { attribute in
                JSONWriter.object([
                    ("LogicalName", JSONWriter.quoted(attribute.logicalName)),
                    ("AttributeType", JSONWriter.quoted(Self.typeName(attribute.type))),
                    ("IsCustomAttribute", attribute.isCustom ? "true" : "false"),
                    ("IsPrimaryId", attribute.isPrimaryId ? "true" : "false"),
                    ("IsPrimaryName", attribute.isPrimaryName ? "true" : "false"),
                ])
            }
            members.append(("Attributes", "[" + attributes.joined(separator: ",") + "]"))
            return WebAPIController.json(.ok, JSONWriter.object(members))
        case (.post, "EntityDefinitions"):
            let body = try JSONParser.parse(Array(try await request.collectBody(upTo: 1 << 20).readableBytesView))
            let table = try Self.table(from: body)
            try await platform.createTable(table)
            return created(base + "EntityDefinitions(LogicalName='\(table.logicalName)')")
        case (.post, _) where path.hasSuffix("/Attributes"):
            let table = try self.table(in: String(path.dropLast("/Attributes".count)))
            let body = try JSONParser.parse(Array(try await request.collectBody(upTo: 1 << 20).readableBytesView))
            let attribute = try Self.attribute(from: body, isPrimaryName: false)
            try await platform.addColumn(attribute, to: table.logicalName)
            return created(
                base
                    + "EntityDefinitions(LogicalName='\(table.logicalName)')/Attributes(LogicalName='\(attribute.logicalName)')"
            )
        default:
            throw WebAPIError(
                status: .methodNotAllowed,
                code: "0x80060888",
                message: "\(request.method) is not supported on '\(path)'."
            )
        }
    }

    private func created(_ location: String) -> Response {
        var headers = HTTPFields()
        headers[HTTPField.Name("OData-EntityId")!] = location
        headers[HTTPField.Name("OData-Version")!] = "4.0"
        return Response(status: .noContent, headers: headers)
    }

    private func summary(_ table: EntityMetadata) -> [(String, String)] {
        [
            ("LogicalName", JSONWriter.quoted(table.logicalName)),
            ("EntitySetName", JSONWriter.quoted(table.entitySetName)),
            ("PrimaryIdAttribute", JSONWriter.quoted(table.primaryIdAttribute)),
            ("PrimaryNameAttribute", JSONWriter.quoted(table.primaryNameAttribute)),
            ("OwnershipType", JSONWriter.quoted(table.ownership.rawValue)),
            ("IsCustomEntity", table.isCustom ? "true" : "false"),
        ]
    }

    /// `EntityDefinitions(LogicalName='x')`.
    private func table(in path: String) throws(WebAPIError) -> EntityMetadata {
        let prefix = "EntityDefinitions(LogicalName='"
        guard path.hasPrefix(prefix), path.hasSuffix("')") else {
            throw .notFound("Address a table as EntityDefinitions(LogicalName='name').")
        }
        let name = String(path.dropFirst(prefix.count).dropLast(2))
        guard let table = platform.metadata.entity(name) else {
            throw .notFound("The table '\(name)' does not exist.")
        }
        return table
    }

    static func label(_ value: JSONValue?) -> String? {
        guard case .array(let labels)? = value?["LocalizedLabels"], case .string(let text)? = labels.first?["Label"]
        else {
            return nil
        }
        return text
    }

    static func table(from body: JSONValue) throws(WebAPIError) -> EntityMetadata {
        guard case .string(let schemaName)? = body["SchemaName"] else {
            throw .badRequest("A table definition needs a SchemaName (for example \"new_Project\").")
        }
        let logicalName = schemaName.lowercased()
        var setName = logicalName + "s"
        if case .string(let given)? = body["EntitySetName"] { setName = given }
        var attributes: [AttributeMetadata] = []
        if case .array(let items)? = body["Attributes"] {
            for item in items {
                var isPrimary = false
                if case .bool(true)? = item["IsPrimaryName"] { isPrimary = true }
                attributes.append(try attribute(from: item, isPrimaryName: isPrimary))
            }
        }
        guard let primary = attributes.first(where: \.isPrimaryName) else {
            throw .badRequest("A table definition needs one string attribute with \"IsPrimaryName\": true.")
        }
        var ownership = OwnershipType.userOwned
        if case .string("OrganizationOwned")? = body["OwnershipType"] { ownership = .organizationOwned }
        return EntityMetadata(
            logicalName: logicalName,
            entitySetName: setName,
            displayName: label(body["DisplayName"]),
            primaryNameAttribute: primary.logicalName,
            primaryNameMaxLength: primary.maxLength ?? 100,
            ownership: ownership,
            isCustom: true,
            columns: attributes.filter { !$0.isPrimaryName }
        )
    }

    static func attribute(from body: JSONValue, isPrimaryName: Bool) throws(WebAPIError) -> AttributeMetadata {
        guard case .string(let schemaName)? = body["SchemaName"] else {
            throw .badRequest("An attribute definition needs a SchemaName (for example \"new_Budget\").")
        }
        var typeText = ""
        if case .string(let text)? = body["AttributeType"] { typeText = text }
        if typeText.isEmpty, case .string(let odataType)? = body["@odata.type"] {
            typeText = odataType.replacingOccurrences(of: "Microsoft.Dynamics.CRM.", with: "")
                .replacingOccurrences(of: "AttributeMetadata", with: "")
        }
        guard let type = Self.type(typeText) else {
            throw .badRequest(
                "'\(typeText)' is not an attribute type Conduit supports (String, Memo, Integer, BigInt, Decimal, Double, Money, Boolean, DateTime, Uniqueidentifier, Picklist, MultiSelectPicklist, Lookup)."
            )
        }
        var maxLength: Int?
        if case .number(let text)? = body["MaxLength"] { maxLength = Int(text) }
        var options: [OptionMetadata] = []
        if case .array(let items)? = body["OptionSet"]?["Options"] {
            for item in items {
                guard case .number(let text)? = item["Value"], let value = Int32(text) else { continue }
                options.append(OptionMetadata(value, label(item["Label"]) ?? text))
            }
        }
        var targets: [String] = []
        if case .array(let items)? = body["Targets"] {
            targets = items.compactMap { if case .string(let text) = $0 { text } else { nil } }
        }
        return AttributeMetadata(
            schemaName.lowercased(),
            type,
            displayName: label(body["DisplayName"]),
            maxLength: maxLength,
            targets: targets,
            options: options,
            isPrimaryName: isPrimaryName,
            isCustom: true
        )
    }

    static func type(_ name: String) -> AttributeType? {
        switch name.lowercased() {
        case "string": return .string
        case "memo": return .memo
        case "integer": return .integer
        case "bigint": return .bigint
        case "decimal": return .decimal
        case "double": return .double
        case "money": return .money
        case "boolean": return .boolean
        case "datetime": return .datetime
        case "uniqueidentifier": return .uniqueidentifier
        case "picklist": return .picklist
        case "multiselectpicklist": return .multiselectpicklist
        case "lookup": return .lookup
        default: return nil
        }
    }

    static func typeName(_ type: AttributeType) -> String {
        switch type {
        case .uniqueidentifier: return "Uniqueidentifier"
        case .string: return "String"
        case .memo: return "Memo"
        case .integer: return "Integer"
        case .bigint: return "BigInt"
        case .decimal: return "Decimal"
        case .double: return "Double"
        case .money: return "Money"
        case .boolean: return "Boolean"
        case .datetime: return "DateTime"
        case .lookup: return "Lookup"
        case .owner: return "Owner"
        case .customer: return "Customer"
        case .picklist: return "Picklist"
        case .state: return "State"
        case .status: return "Status"
        case .multiselectpicklist: return "Virtual"
        }
    }
}

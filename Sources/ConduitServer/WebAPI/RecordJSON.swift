import ConduitContext
import ConduitPlatform
import Foundation

/// Rows as the Web API writes and reads them: columns by logical name, lookups as `_name_value`, set with
/// `name@odata.bind`, `@odata.etag` from `versionnumber`.
struct RecordJSON {
    let metadata: MetadataCatalog

    /// The JSON text of a value of a column.
    static func json(_ value: ContextValue, attribute: AttributeMetadata) -> String {
        switch value {
        case .null: return "null"
        case .string(let text): return JSONWriter.quoted(text)
        case .boolean(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .long(let number): return String(number)
        case .double(let number): return number.isFinite ? String(number) : "null"
        case .decimal(let number): return number.description
        case .money(let money): return money.value.description
        case .guid(let guid): return JSONWriter.quoted(guid.description)
        case .dateTime(var date):
            date.ticks -= date.ticks % 10_000_000  // the Web API writes whole seconds
            return JSONWriter.quoted(date.xmlText(localOffsetMinutes: 0))
        case .optionSetValue(let option): return String(option.value)
        case .optionSetValueCollection(let options):
            return JSONWriter.quoted(options.map { String($0.value) }.joined(separator: ","))
        case .entityReference(let reference): return JSONWriter.quoted(reference.id.description)
        default: return "null"
        }
    }

    /// The members of a row, `@odata.etag` first, for the selected columns (all when `select` is `nil`).
    func members(of entity: Entity, table: EntityMetadata, select: [String]?, annotations: Bool) -> [(String, String)] {
        var members: [(String, String)] = []
        if let version = entity.rowVersion { members.append(("@odata.etag", JSONWriter.quoted("W/\"\(version)\""))) }
        let columns = select.map { names in names.compactMap { Self.attributeName(for: $0, table: table) } }
        for attribute in table.attributes {
            if let columns, !columns.contains(attribute.logicalName), !attribute.isPrimaryId { continue }
            let value = attribute.isPrimaryId ? .guid(entity.id) : (entity.attributes[attribute.logicalName] ?? .null)
            if attribute.type.isReference {
                let name = "_\(attribute.logicalName)_value"
                if annotations, case .entityReference(let reference) = value {
                    members.append(
                        (
                            "\(name)@Microsoft.Dynamics.CRM.lookuplogicalname",
                            JSONWriter.quoted(reference.logicalName ?? "")
                        )
                    )
                }
                members.append((name, Self.json(value, attribute: attribute)))
            } else {
                if annotations, let formatted = entity.formattedValues[attribute.logicalName] {
                    members.append(
                        (
                            "\(attribute.logicalName)@OData.Community.Display.V1.FormattedValue",
                            JSONWriter.quoted(formatted)
                        )
                    )
                }
                members.append((attribute.logicalName, Self.json(value, attribute: attribute)))
            }
        }
        return members
    }

    /// The column a Web API property names: `name`, or `_name_value` for a lookup.
    static func attributeName(for property: String, table: EntityMetadata) -> String? {
        if property.hasPrefix("_"), property.hasSuffix("_value") {
            let name = String(property.dropFirst().dropLast(6))
            return table.attribute(name)?.type.isReference == true ? name : nil
        }
        return table.attribute(property) != nil ? property : nil
    }

    /// A row from a request body.
    func entity(from body: JSONValue, table: EntityMetadata) throws(WebAPIError) -> Entity {
        guard case .object(let members) = body else {
            throw .badRequest("The request body must be a JSON object with the columns of the \(table.logicalName).")
        }
        var entity = Entity(logicalName: table.logicalName)
        for (key, value) in members {
            if key.hasSuffix("@odata.bind") {
                let property = String(key.dropLast("@odata.bind".count))
                let (attribute, target) = try lookup(property, table: table)
                if case .null = value {
                    entity.attributes[attribute.logicalName] = .null
                    continue
                }
                guard case .string(let path) = value, let reference = reference(path) else {
                    throw .badRequest(
                        "'\(key)' must be a path such as \"/contacts(00000000-0000-0000-0000-000000000000)\"."
                    )
                }
                if let target, reference.logicalName != target {
                    throw .badRequest("'\(key)' must refer to a \(target), not a \(reference.logicalName ?? "?").")
                }
                entity.attributes[attribute.logicalName] = .entityReference(reference)
                continue
            }
            if key.hasPrefix("@") || key.contains("@") { continue }  // annotations (@odata.type, @odata.etag, …)
            guard let attribute = table.attribute(key) else {
                throw .badRequest(
                    "Could not find a property named '\(key)' on type 'Microsoft.Dynamics.CRM.\(table.logicalName)'."
                )
            }
            entity.attributes[attribute.logicalName] = try Self.value(value, for: attribute, table: table)
        }
        return entity
    }

    /// The lookup a navigation property sets: `primarycontactid`, or `parentcustomerid_account` for a polymorphic one.
    private func lookup(_ property: String, table: EntityMetadata) throws(WebAPIError) -> (AttributeMetadata, String?) {
        if let attribute = table.attribute(property), attribute.type.isReference {
            return (attribute, attribute.targets.count == 1 ? attribute.targets[0] : nil)
        }
        if let underscore = property.lastIndex(of: "_") {
            let name = String(property[..<underscore])
            let target = String(property[property.index(after: underscore)...])
            if let attribute = table.attribute(name), attribute.type.isReference, attribute.targets.contains(target) {
                return (attribute, target)
            }
        }
        throw .badRequest(
            "Could not find a navigation property named '\(property)' on type 'Microsoft.Dynamics.CRM.\(table.logicalName)'."
        )
    }

    /// `/contacts(guid)`, `contacts(guid)` or a full URL to a row.
    func reference(_ path: String) -> EntityReference? {
        var text = Substring(path)
        if let range = text.range(of: "/api/data/v9.2/") { text = text[range.upperBound...] }
        while text.hasPrefix("/") { text = text.dropFirst() }
        guard let open = text.firstIndex(of: "("), text.hasSuffix(")") else { return nil }
        let set = String(text[..<open])
        let key = text[text.index(after: open)..<text.index(before: text.endIndex)]
        guard let table = metadata.entity(entitySetName: set), let id = Guid(key) else { return nil }
        return EntityReference(logicalName: table.logicalName, id: id)
    }

    /// A column's value from JSON, checked against its type.
    static func value(
        _ json: JSONValue,
        for attribute: AttributeMetadata,
        table: EntityMetadata
    ) throws(WebAPIError) -> ContextValue {
        let name = attribute.logicalName
        func wrong(_ expected: String) -> WebAPIError {
            .badRequest(
                "Cannot convert \(json.kindName) to the type of '\(name)' on '\(table.logicalName)' (\(expected)).",
                code: "0x80040203"
            )
        }
        if case .null = json { return .null }
        switch attribute.type {
        case .string, .memo:
            guard case .string(let text) = json else { throw wrong("a string") }
            return .string(text)
        case .uniqueidentifier:
            guard case .string(let text) = json, let guid = Guid(text) else { throw wrong("a GUID string") }
            return .guid(guid)
        case .integer:
            guard case .number(let text) = json, let number = Int32(text) else {
                throw wrong("a whole number from -2147483648 to 2147483647")
            }
            return .int(number)
        case .bigint:
            guard case .number(let text) = json, let number = Int64(text) else { throw wrong("a whole number") }
            return .long(number)
        case .decimal, .money:
            guard case .number(let text) = json, let number = DotNetDecimal(text) else {
                throw wrong("a decimal number")
            }
            return attribute.type == .money ? .money(Money(number)) : .decimal(number)
        case .double:
            guard case .number(let text) = json, let number = Double(text) else { throw wrong("a number") }
            return .double(number)
        case .boolean:
            guard case .bool(let flag) = json else { throw wrong("true or false") }
            return .boolean(flag)
        case .datetime:
            guard case .string(let text) = json else { throw wrong("a date such as 2024-01-31T10:00:00Z") }
            if var date = DotNetDateTime(xmlText: text) {
                if case .unspecified = date.kind { date.kind = .utc }
                if case .local = date.kind { date.kind = .utc }
                return .dateTime(date)
            }
            if text.count == 10, let date = DotNetDateTime(xmlText: text + "T00:00:00Z") { return .dateTime(date) }
            throw wrong("a date such as 2024-01-31T10:00:00Z")
        case .picklist, .state, .status:
            guard case .number(let text) = json, let number = Int32(text) else {
                throw wrong("a choice value (a whole number)")
            }
            return .optionSetValue(OptionSetValue(number))
        case .multiselectpicklist:
            guard case .string(let text) = json else { throw wrong("choice values such as \"1,2\"") }
            let values = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            var options: [OptionSetValue] = []
            for value in values {
                guard let number = Int32(value) else { throw wrong("choice values such as \"1,2\"") }
                options.append(OptionSetValue(number))
            }
            return .optionSetValueCollection(options)
        case .lookup, .owner, .customer:
            throw .badRequest("Set the lookup '\(name)' with \"\(name)@odata.bind\": \"/<collection>(<id>)\".")
        }
    }
}

import ConduitContext
import ConduitStore
import Foundation
import SQLKit

/// How each column type is kept in SQL, the same way on SQLite and PostgreSQL:
///
/// | type | SQL |
/// |---|---|
/// | uniqueidentifier | TEXT, lower-case "D" form |
/// | string, memo | TEXT |
/// | integer, picklist, state, status | INTEGER |
/// | bigint | BIGINT |
/// | decimal, money | TEXT, exact .NET text (compared as numbers with a cast) |
/// | double | DOUBLE PRECISION / REAL |
/// | boolean | BOOLEAN / INTEGER 0-1 |
/// | datetime | BIGINT: .NET ticks (100 ns since 0001-01-01), UTC |
/// | lookup, owner, customer | TEXT id, plus `<column>__type` TEXT with the target table |
/// | multiselectpicklist | TEXT, comma-separated values, as Dataverse stores them |
enum ColumnStorage {
    /// The SQL column definitions of a column.
    static func definitions(_ attribute: AttributeMetadata, flavor: SQLFlavor) -> [(name: String, type: String)] {
        let name = attribute.logicalName
        switch attribute.type {
        case .uniqueidentifier, .string, .memo, .decimal, .money, .multiselectpicklist:
            return [(name, "TEXT")]
        case .integer, .picklist, .state, .status:
            return [(name, "INTEGER")]
        case .bigint, .datetime:
            return [(name, "BIGINT")]
        case .double:
            return [(name, flavor == .postgres ? "DOUBLE PRECISION" : "REAL")]
        case .boolean:
            return [(name, flavor == .postgres ? "BOOLEAN" : "INTEGER")]
        case .lookup, .owner, .customer:
            return [(name, "TEXT"), (typeColumn(name), "TEXT")]
        }
    }

    /// The column holding a reference's target table.
    static func typeColumn(_ name: String) -> String { name + "__type" }

    /// The SQL values of a column's value, after checking its type. `nil` clears the column.
    static func encode(
        _ value: ContextValue,
        for attribute: AttributeMetadata,
        table: String
    ) throws(PlatformError) -> [(column: String, value: any SQLExpression)] {
        let name = attribute.logicalName
        func wrong(_ expected: String) -> PlatformError {
            PlatformError(
                .invalidArgument,
                "The value of '\(name)' on '\(table)' must be \(expected), not \(ColumnStorage.describe(value))."
            )
        }
        if case .null = value {
            if attribute.type.isReference { return [(name, SQLLiteral.null), (typeColumn(name), SQLLiteral.null)] }
            return [(name, SQLLiteral.null)]
        }
        switch attribute.type {
        case .uniqueidentifier:
            switch value {
            case .guid(let guid): return [(name, SQLBind(guid.description))]
            case .string(let text):
                guard let guid = Guid(text) else { throw wrong("a GUID") }
                return [(name, SQLBind(guid.description))]
            default: throw wrong("a GUID")
            }
        case .string, .memo:
            guard case .string(let text) = value else { throw wrong("a string") }
            if let maxLength = attribute.maxLength, text.count > maxLength {
                throw PlatformError(
                    .invalidArgument,
                    "The value of '\(name)' on '\(table)' is \(text.count) characters, above its maximum length of \(maxLength)."
                )
            }
            return [(name, SQLBind(text))]
        case .integer:
            switch value {
            case .int(let number): return [(name, SQLBind(Int64(number)))]
            case .long(let number) where Int32(exactly: number) != nil: return [(name, SQLBind(number))]
            default: throw wrong("a whole number from -2147483648 to 2147483647")
            }
        case .bigint:
            switch value {
            case .int(let number): return [(name, SQLBind(Int64(number)))]
            case .long(let number): return [(name, SQLBind(number))]
            default: throw wrong("a whole number")
            }
        case .decimal:
            switch value {
            case .decimal(let number): return [(name, SQLBind(number.description))]
            case .int(let number): return [(name, SQLBind(String(number)))]
            case .long(let number): return [(name, SQLBind(String(number)))]
            default: throw wrong("a decimal number")
            }
        case .money:
            switch value {
            case .money(let money): return [(name, SQLBind(money.value.description))]
            case .decimal(let number): return [(name, SQLBind(number.description))]
            case .int(let number): return [(name, SQLBind(String(number)))]
            case .long(let number): return [(name, SQLBind(String(number)))]
            default: throw wrong("an amount of money")
            }
        case .double:
            switch value {
            case .double(let number): return [(name, SQLBind(number))]
            case .int(let number): return [(name, SQLBind(Double(number)))]
            case .long(let number): return [(name, SQLBind(Double(number)))]
            case .decimal(let number):
                guard let double = Double(number.description) else { throw wrong("a number") }
                return [(name, SQLBind(double))]
            default: throw wrong("a number")
            }
        case .boolean:
            guard case .boolean(let flag) = value else { throw wrong("true or false") }
            return [(name, SQLBind(flag))]
        case .datetime:
            guard case .dateTime(let date) = value else { throw wrong("a date and time") }
            return [(name, SQLBind(utcTicks(date)))]
        case .lookup, .owner, .customer:
            guard case .entityReference(let reference) = value else { throw wrong("a reference to a row") }
            let target = reference.logicalName ?? attribute.targets.first ?? ""
            guard attribute.targets.isEmpty || attribute.targets.contains(target) else {
                throw PlatformError(
                    .invalidArgument,
                    "'\(name)' on '\(table)' can refer to \(attribute.targets.joined(separator: " or ")), not '\(target)'."
                )
            }
            return [(name, SQLBind(reference.id.description)), (typeColumn(name), SQLBind(target))]
        case .picklist, .state, .status:
            let number: Int32
            switch value {
            case .optionSetValue(let option): number = option.value
            case .int(let value): number = value
            default: throw wrong("a choice (OptionSetValue)")
            }
            guard attribute.options.isEmpty || attribute.options.contains(where: { $0.value == number }) else {
                let valid = attribute.options.map { String($0.value) }.joined(separator: ", ")
                throw PlatformError(
                    .invalidArgument,
                    "\(number) is not a valid value for '\(name)' on '\(table)' (valid: \(valid))."
                )
            }
            return [(name, SQLBind(Int64(number)))]
        case .multiselectpicklist:
            guard case .optionSetValueCollection(let options) = value else { throw wrong("a set of choices") }
            for option in options
            where !attribute.options.isEmpty && !attribute.options.contains(where: { $0.value == option.value }) {
                throw PlatformError(
                    .invalidArgument,
                    "\(option.value) is not a valid value for '\(name)' on '\(table)'."
                )
            }
            return [(name, SQLBind(options.map { String($0.value) }.joined(separator: ",")))]
        }
    }

    /// Reads a column's value from a row; `.null` when empty.
    static func decode(_ attribute: AttributeMetadata, from row: any SQLRow) throws -> ContextValue {
        let name = attribute.logicalName
        if try row.decodeNil(column: name) { return .null }
        switch attribute.type {
        case .uniqueidentifier:
            let text = try row.decode(column: name, as: String.self)
            return Guid(text).map { .guid($0) } ?? .string(text)
        case .string, .memo:
            return .string(try row.decode(column: name, as: String.self))
        case .integer:
            return .int(Int32(truncatingIfNeeded: try row.decode(column: name, as: Int64.self)))
        case .bigint:
            return .long(try row.decode(column: name, as: Int64.self))
        case .decimal:
            let text = try row.decode(column: name, as: String.self)
            return DotNetDecimal(text).map { .decimal($0) } ?? .string(text)
        case .money:
            let text = try row.decode(column: name, as: String.self)
            return DotNetDecimal(text).map { .money(Money($0)) } ?? .string(text)
        case .double:
            return .double(try row.decode(column: name, as: Double.self))
        case .boolean:
            return .boolean(try row.decode(column: name, as: Bool.self))
        case .datetime:
            let ticks = try row.decode(column: name, as: Int64.self)
            return DotNetDateTime(ticks: ticks, kind: .utc).map { .dateTime($0) } ?? .null
        case .lookup, .owner, .customer:
            let id = try row.decode(column: name, as: String.self)
            let target =
                try row.decodeNil(column: typeColumn(name))
                ? attribute.targets.first : try row.decode(column: typeColumn(name), as: String.self)
            guard let guid = Guid(id) else { return .null }
            return .entityReference(EntityReference(logicalName: target, id: guid))
        case .picklist, .state, .status:
            return .optionSetValue(
                OptionSetValue(Int32(truncatingIfNeeded: try row.decode(column: name, as: Int64.self)))
            )
        case .multiselectpicklist:
            let text = try row.decode(column: name, as: String.self)
            return .optionSetValueCollection(
                text.split(separator: ",").compactMap { Int32($0) }.map { OptionSetValue($0) }
            )
        }
    }

    /// The value as reading the column back would give it (after `encode` accepted it), so a row can be known
    /// without reading it back.
    static func normalize(_ value: ContextValue, for attribute: AttributeMetadata) -> ContextValue {
        switch (attribute.type, value) {
        case (_, .null): return .null
        case (.uniqueidentifier, .string(let text)): return Guid(text).map { .guid($0) } ?? value
        case (.integer, .long(let number)): return .int(Int32(truncatingIfNeeded: number))
        case (.bigint, .int(let number)): return .long(Int64(number))
        case (.decimal, .int(let number)): return .decimal(DotNetDecimal(Int64(number)))
        case (.decimal, .long(let number)): return .decimal(DotNetDecimal(number))
        case (.money, .decimal(let number)): return .money(Money(number))
        case (.money, .int(let number)): return .money(Money(DotNetDecimal(Int64(number))))
        case (.money, .long(let number)): return .money(Money(DotNetDecimal(number)))
        case (.money, .money(let money)): return .money(Money(money.value))
        case (.double, .int(let number)): return .double(Double(number))
        case (.double, .long(let number)): return .double(Double(number))
        case (.double, .decimal(let number)): return Double(number.description).map { .double($0) } ?? value
        case (.datetime, .dateTime(let date)):
            return DotNetDateTime(ticks: utcTicks(date), kind: .utc).map { .dateTime($0) } ?? value
        case (.lookup, .entityReference(let reference)), (.owner, .entityReference(let reference)),
            (.customer, .entityReference(let reference)):
            return .entityReference(
                EntityReference(logicalName: reference.logicalName ?? attribute.targets.first, id: reference.id)
            )
        case (.picklist, .int(let number)), (.state, .int(let number)), (.status, .int(let number)):
            return .optionSetValue(OptionSetValue(number))
        case (.picklist, .optionSetValue(let option)), (.state, .optionSetValue(let option)),
            (.status, .optionSetValue(let option)):
            return .optionSetValue(OptionSetValue(option.value))
        case (.multiselectpicklist, .optionSetValueCollection(let options)):
            return .optionSetValueCollection(options.map { OptionSetValue($0.value) })
        default: return value
        }
    }

    /// A row as it stands after writing `changes` over `row` (`row` may be empty for a new one), in column order,
    /// empty columns left out, as `RecordStore.fetch` returns it.
    static func row(id: Guid, table: EntityMetadata, current: Entity?, changes: ParameterCollection) -> Entity {
        var result = Entity(logicalName: table.logicalName, id: id)
        for attribute in table.attributes {
            let value: ContextValue?
            if attribute.isPrimaryId {
                value = .guid(id)
            } else if let changed = changes[attribute.logicalName] {
                value = normalize(changed, for: attribute)
            } else {
                value = current?.attributes[attribute.logicalName]
            }
            guard let value else { continue }
            if case .null = value { continue }
            result.attributes.append(key: attribute.logicalName, value: value)
        }
        return result
    }

    /// UTC ticks of a date (local dates by their instant; unspecified ones taken as UTC).
    static func utcTicks(_ date: DotNetDateTime) -> Int64 {
        date.ticks
    }

    /// A short description of a value for error messages.
    static func describe(_ value: ContextValue) -> String {
        switch value {
        case .null: return "null"
        case .string(let text): return "the string \"\(text.prefix(40))\""
        case .boolean(let flag): return "\(flag)"
        case .int(let number): return "the number \(number)"
        case .long(let number): return "the number \(number)"
        case .double(let number): return "the number \(number)"
        case .decimal(let number): return "the number \(number)"
        case .guid(let guid): return "the GUID \(guid)"
        case .dateTime(let date): return "the date \(date)"
        case .entity: return "an entity"
        case .entityReference: return "a reference"
        case .optionSetValue(let option): return "the choice \(option.value)"
        case .money(let money): return "the amount \(money.value)"
        case .entityCollection: return "an entity collection"
        case .aliasedValue: return "an aliased value"
        case .optionSetValueCollection: return "a set of choices"
        case .entityReferenceCollection: return "a set of references"
        case .keyValuePair: return "a key/value pair"
        case .array: return "an array"
        case .unknown: return "a value of an unknown type"
        }
    }
}

import ConduitContext
import ConduitStore
import Foundation
import SQLKit

/// Turns a `FilterExpression` into a SQL `WHERE` clause. Text compares case-insensitively, as Dataverse's collation
/// does; decimal and money compare as numbers.
struct ConditionTranslator {
    let entity: EntityMetadata
    let flavor: SQLFlavor

    func attribute(_ name: String) throws(PlatformError) -> AttributeMetadata {
        guard let attribute = entity.attribute(name) else {
            throw PlatformError(
                .attributeDoesNotExist,
                "The table '\(entity.logicalName)' has no column named '\(name)'."
            )
        }
        return attribute
    }

    /// The expression a column sorts and compares by.
    func sortKey(_ attribute: AttributeMetadata) -> SQLStatement {
        shaped(SQLIdentifier(attribute.logicalName), as: attribute)
    }

    /// An expression compared as the column's type compares: decimals as numbers, text without case.
    private func shaped(_ expression: any SQLExpression, as attribute: AttributeMetadata) -> SQLStatement {
        var statement = SQLStatement()
        switch attribute.type {
        case .decimal, .money:
            statement.append("CAST(")
            statement.expression(expression)
            statement.append(flavor == .postgres ? " AS NUMERIC)" : " AS REAL)")
        case .string, .memo:
            statement.append("lower(")
            statement.expression(expression)
            statement.append(")")
        default:
            statement.expression(expression)
        }
        return statement
    }

    /// `nil` for an empty filter.
    func translate(_ filter: FilterExpression) throws -> SQLStatement? {
        var parts: [SQLStatement] = []
        for condition in filter.conditions { parts.append(try translate(condition)) }
        for child in filter.filters { if let part = try translate(child) { parts.append(part) } }
        guard !parts.isEmpty else { return nil }
        var statement = SQLStatement(filter.isNegated ? "NOT (" : "(")
        for (index, part) in parts.enumerated() {
            if index > 0 { statement.append(filter.filterOperator == .and ? " AND " : " OR ") }
            statement.append(part)
        }
        statement.append(")")
        return statement
    }

    private func translate(_ condition: ConditionExpression) throws -> SQLStatement {
        let attribute = try attribute(condition.attributeName)
        var statement = SQLStatement()
        switch condition.conditionOperator {
        case .null, .notNull:
            statement.identifier(attribute.logicalName)
            statement.append(condition.conditionOperator == .null ? " IS NULL" : " IS NOT NULL")
            return statement
        case .beginsWith, .endsWith, .contains:
            guard case .string(let text)? = condition.values.first, attribute.type == .string || attribute.type == .memo
            else {
                throw PlatformError(
                    .queryInvalid,
                    "\(condition.conditionOperator.rawValue) needs a text column and a text value ('\(attribute.logicalName)')."
                )
            }
            let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_")
            let pattern: String
            switch condition.conditionOperator {
            case .beginsWith: pattern = escaped + "%"
            case .endsWith: pattern = "%" + escaped
            default: pattern = "%" + escaped + "%"
            }
            statement.append("lower(")
            statement.identifier(attribute.logicalName)
            statement.append(") LIKE lower(")
            statement.bind(pattern)
            statement.append(") ESCAPE '\\'")
            return statement
        case .in:
            // No values: nothing matches (and `IN ()` is not SQL everywhere).
            guard !condition.values.isEmpty else { return SQLStatement("1 = 0") }
            statement.append(sortKey(attribute))
            statement.append(" IN (")
            for (index, value) in condition.values.enumerated() {
                if index > 0 { statement.append(", ") }
                statement.append(try operand(value, attribute))
            }
            statement.append(")")
            return statement
        case .equal, .notEqual, .greaterThan, .greaterEqual, .lessThan, .lessEqual:
            guard let value = condition.values.first else {
                throw PlatformError(.queryInvalid, "The condition on '\(attribute.logicalName)' has no value.")
            }
            if case .null = value {
                statement.identifier(attribute.logicalName)
                statement.append(condition.conditionOperator == .notEqual ? " IS NOT NULL" : " IS NULL")
                return statement
            }
            let symbol: String
            switch condition.conditionOperator {
            case .equal: symbol = " = "
            case .notEqual: symbol = " <> "
            case .greaterThan: symbol = " > "
            case .greaterEqual: symbol = " >= "
            case .lessThan: symbol = " < "
            default: symbol = " <= "
            }
            statement.append(sortKey(attribute))
            statement.append(symbol)
            statement.append(try operand(value, attribute))
            if condition.conditionOperator == .notEqual {
                // SQL's <> is unknown for NULL; Dataverse's ne matches empty columns.
                var withNull = SQLStatement("(")
                withNull.append(statement)
                withNull.append(" OR ")
                withNull.identifier(attribute.logicalName)
                withNull.append(" IS NULL)")
                return withNull
            }
            return statement
        }
    }

    /// A bound value, shaped like the column's sort key.
    private func operand(_ value: ContextValue, _ attribute: AttributeMetadata) throws -> SQLStatement {
        let encoded = try ColumnStorage.encode(value, for: attribute, table: entity.logicalName)
        guard let first = encoded.first else { return SQLStatement() }
        return shaped(first.value, as: attribute)
    }
}

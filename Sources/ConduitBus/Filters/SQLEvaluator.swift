import Foundation

/// Evaluates parsed expressions against one message, with the three-valued logic of the documentation:
/// a condition is true, false or unknown (`nil`); a missing user property, a null value and anything computed
/// from them is unknown; `AND` and `OR` follow the SQL truth tables.
struct SQLEvaluator {
    let message: FilteredMessage

    /// The truth of a condition: `nil` is unknown. This and ``value(_:)`` are small dispatchers, as nesting
    /// puts them on the stack once per level.
    func predicate(_ node: SQLNode) throws(FilterError) -> Bool? {
        switch node {
        case .and(let operands): try all(operands)
        case .or(let operands): try any(operands)
        case .not(let operand): try predicate(operand).map { !$0 }
        case .comparison(let operation, let left, let right, let offset):
            try PropertyValue.compare(value(left), operation, value(right), offset: offset)
        case .isNull(let operand, let negated): try value(operand).isNull != negated
        case .exists(let reference): message.contains(reference)
        case .inList(let operand, let items, let negated, let offset):
            try inList(operand, items, offset: offset).map { $0 != negated }
        case .like(let operand, let pattern, let escape, let negated, let offset):
            try like(operand, pattern: pattern, escape: escape, offset: offset).map { $0 != negated }
        case .literal, .property, .newID, .propertyFunction, .unary, .arithmetic:
            throw Self.misplaced("a condition", "a value")
        }
    }

    /// The value of an expression: ``PropertyValue/null`` for unknown.
    func value(_ node: SQLNode) throws(FilterError) -> PropertyValue {
        switch node {
        case .literal(let value): value
        case .property(let reference): message.value(of: reference) ?? .null
        case .newID: .uuid(UUID())
        case .propertyFunction(let argument, let offset): try propertyFunction(argument, offset: offset)
        case .unary(let operation, let operand, let offset): try value(operand).applying(operation, offset: offset)
        case .arithmetic(let first, let steps): try arithmetic(first, steps)
        case .comparison, .and, .or, .not, .isNull, .inList, .like, .exists:
            throw Self.misplaced("a value", "a condition")
        }
    }

    /// `AND`: false if any operand is false, else unknown if any is unknown, else true.
    private func all(_ operands: [SQLNode]) throws(FilterError) -> Bool? {
        var unknown = false
        for operand in operands {
            switch try predicate(operand) {
            case false: return false
            case nil: unknown = true
            case true: continue
            }
        }
        return unknown ? nil : true
    }

    /// `OR`: true if any operand is true, else unknown if any is unknown, else false.
    private func any(_ operands: [SQLNode]) throws(FilterError) -> Bool? {
        var unknown = false
        for operand in operands {
            switch try predicate(operand) {
            case true: return true
            case nil: unknown = true
            case false: continue
            }
        }
        return unknown ? nil : false
    }

    private func arithmetic(_ first: SQLNode, _ steps: [SQLNode.ArithmeticStep]) throws(FilterError) -> PropertyValue {
        var result = try value(first)
        for step in steps {
            result = try PropertyValue.arithmetic(result, step.operation, value(step.operand), offset: step.offset)
        }
        return result
    }

    /// The parser never puts a value where a condition belongs, or the other way round.
    private static func misplaced(_ expected: String, _ found: String) -> FilterError {
        FilterError(.syntax, "Expected \(expected) but found \(found).")
    }

    /// `operand IN (items)`: true on the first equal item; unknown when the operand is null, or when no item is
    /// equal and some item is null (as in SQL-92); false otherwise.
    private func inList(_ operand: SQLNode, _ items: [SQLNode], offset: Int) throws(FilterError) -> Bool? {
        let left = try value(operand)
        if left.isNull {
            return nil
        }
        var sawNull = false
        for item in items {
            let right = try value(item)
            if right.isNull {
                sawNull = true
            } else if try PropertyValue.compare(left, .equal, right, offset: offset) == true {
                return true
            }
        }
        return sawNull ? nil : false
    }

    private func like(
        _ operand: SQLNode,
        pattern: SQLNode,
        escape: SQLNode?,
        offset: Int
    ) throws(FilterError) -> Bool? {
        let text = try value(operand)
        let patternValue = try value(pattern)
        let escapeValue = try escape.map { node throws(FilterError) in try value(node) }
        if text.isNull || patternValue.isNull || escapeValue?.isNull == true {
            return nil
        }
        guard case .string(let string) = text, case .string(let patternString) = patternValue else {
            let culprit = text.isString ? patternValue : text
            throw FilterError.evaluation(
                .typeMismatch,
                "LIKE needs strings but found \(culprit.typeName)",
                offset: offset,
                token: "LIKE"
            )
        }
        var escapeCharacter: Character?
        if let escapeValue {
            guard case .string(let escapeString) = escapeValue, escapeString.count == 1 else {
                throw FilterError.evaluation(
                    .invalidArgument,
                    "ESCAPE needs a single character",
                    offset: offset,
                    token: "LIKE"
                )
            }
            escapeCharacter = escapeString.first
        }
        return LikePattern(patternString, escape: escapeCharacter).matches(string)
    }

    /// `property(name)`: the property the string names (`sys.X`, `user.X` or a bare user property name).
    private func propertyFunction(_ argument: SQLNode, offset: Int) throws(FilterError) -> PropertyValue {
        switch try value(argument) {
        case .null:
            return .null
        case .string(let name):
            do throws(FilterError) {
                return message.value(of: try PropertyReference(parsing: name)) ?? .null
            } catch {
                throw FilterError.evaluation(
                    error.kind,
                    "\(error.message.dropLast()) in property()",
                    offset: offset,
                    token: name
                )
            }
        case let other:
            throw FilterError.evaluation(
                .typeMismatch,
                "property() needs a string but found \(other.typeName)",
                offset: offset,
                token: "property"
            )
        }
    }
}

extension PropertyValue {
    fileprivate var isString: Bool {
        if case .string = self { return true }
        return false
    }
}

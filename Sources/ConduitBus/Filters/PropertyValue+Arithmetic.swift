import Foundation

/// Arithmetic with the C# binding the documentation prescribes: integer with integer stays an integer
/// (wrapping on overflow, as unchecked C# does; division truncates), anything with a double is a double,
/// `+` joins strings, and dates and durations add and subtract as `DateTime` and `TimeSpan` do.
extension PropertyValue {
    /// `left op right`; null (unknown) when either side is null.
    static func arithmetic(
        _ left: PropertyValue,
        _ operation: SQLNode.ArithmeticOperator,
        _ right: PropertyValue,
        offset: Int
    ) throws(FilterError) -> PropertyValue {
        if left.isNull || right.isNull {
            return .null
        }
        switch (left, right) {
        case (.int64(let a), .int64(let b)):
            return .int64(try integer(a, operation, b, offset: offset))
        case (.int64(let a), .double(let b)):
            return .double(double(Double(a), operation, b))
        case (.double(let a), .int64(let b)):
            return .double(double(a, operation, Double(b)))
        case (.double(let a), .double(let b)):
            return .double(double(a, operation, b))
        case (.string(let a), .string(let b)) where operation == .add:
            return .string(a + b)
        case (.date(let a), .duration(let b)) where operation == .add:
            return .date(a.addingTimeInterval(b.timeInterval))
        case (.duration(let a), .date(let b)) where operation == .add:
            return .date(b.addingTimeInterval(a.timeInterval))
        case (.date(let a), .duration(let b)) where operation == .subtract:
            return .date(a.addingTimeInterval(-b.timeInterval))
        case (.date(let a), .date(let b)) where operation == .subtract:
            let seconds = a.timeIntervalSince(b)
            guard seconds.isFinite, abs(seconds) < 9e18 else {
                throw FilterError.evaluation(
                    .arithmetic,
                    "Date difference out of range in '-'",
                    offset: offset,
                    token: "-"
                )
            }
            return .duration(.seconds(seconds))
        case (.duration(let a), .duration(let b)) where operation == .add:
            return .duration(a + b)
        case (.duration(let a), .duration(let b)) where operation == .subtract:
            return .duration(a - b)
        default:
            throw FilterError.evaluation(
                .typeMismatch,
                "Cannot apply '\(operation.rawValue)' to \(left.typeName) and \(right.typeName)",
                offset: offset,
                token: operation.rawValue
            )
        }
    }

    /// `+value` or `-value`; null stays null.
    func applying(_ operation: SQLNode.UnaryOperator, offset: Int) throws(FilterError) -> PropertyValue {
        switch (operation, self) {
        case (_, .null): return .null
        case (.plus, .int64), (.plus, .double), (.plus, .duration): return self
        case (.minus, .int64(let value)): return .int64(0 &- value)
        case (.minus, .double(let value)): return .double(-value)
        case (.minus, .duration(let value)): return .duration(.zero - value)
        default:
            throw FilterError.evaluation(
                .typeMismatch,
                "Cannot apply unary '\(operation.rawValue)' to \(typeName)",
                offset: offset,
                token: operation.rawValue
            )
        }
    }

    private static func integer(
        _ a: Int64,
        _ operation: SQLNode.ArithmeticOperator,
        _ b: Int64,
        offset: Int
    ) throws(FilterError) -> Int64 {
        switch operation {
        case .add: return a &+ b
        case .subtract: return a &- b
        case .multiply: return a &* b
        case .divide, .remainder:
            guard b != 0 else {
                throw FilterError.evaluation(
                    .arithmetic,
                    "Division by zero in '\(operation.rawValue)'",
                    offset: offset,
                    token: operation.rawValue
                )
            }
            guard !(a == .min && b == -1) else {
                throw FilterError.evaluation(
                    .arithmetic,
                    "Integer overflow in '\(operation.rawValue)'",
                    offset: offset,
                    token: operation.rawValue
                )
            }
            return operation == .divide ? a / b : a % b
        }
    }

    private static func double(_ a: Double, _ operation: SQLNode.ArithmeticOperator, _ b: Double) -> Double {
        switch operation {
        case .add: a + b
        case .subtract: a - b
        case .multiply: a * b
        case .divide: a / b
        case .remainder: a.truncatingRemainder(dividingBy: b)
        }
    }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    fileprivate var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

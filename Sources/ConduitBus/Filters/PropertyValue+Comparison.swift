/// Comparison with the C# binding the documentation prescribes: integers and doubles compare by value (the
/// integer widened to a double), strings ordinally, and values of unrelated types do not compare at all.
extension PropertyValue {
    /// How two values relate, or why they cannot be compared.
    private enum Relation {
        case ordered(Int)
        /// Equal or not, without an order (Booleans, GUIDs).
        case equality(Bool)
        /// Numbers that do not compare (NaN): every comparison but `<>` is false.
        case unordered
        case mismatch
    }

    private static func relation(_ left: PropertyValue, _ right: PropertyValue) -> Relation {
        switch (left, right) {
        case (.int64(let a), .int64(let b)): order(a, b)
        case (.int64(let a), .double(let b)): order(Double(a), b)
        case (.double(let a), .int64(let b)): order(a, Double(b))
        case (.double(let a), .double(let b)): order(a, b)
        case (.string(let a), .string(let b)):
            a.utf16.elementsEqual(b.utf16) ? .ordered(0) : .ordered(a.utf16.lexicographicallyPrecedes(b.utf16) ? -1 : 1)
        case (.date(let a), .date(let b)): order(a, b)
        case (.duration(let a), .duration(let b)): order(a, b)
        case (.bool(let a), .bool(let b)): .equality(a == b)
        case (.uuid(let a), .uuid(let b)): .equality(a == b)
        default: .mismatch
        }
    }

    private static func order<T: Comparable>(_ a: T, _ b: T) -> Relation {
        if a < b { return .ordered(-1) }
        if a > b { return .ordered(1) }
        if a == b { return .ordered(0) }
        return .unordered
    }

    /// The comparison `left op right`: `nil` (unknown) when either side is null.
    ///
    /// - Throws: ``FilterError/Kind/typeMismatch`` for values of unrelated types, and for an ordering
    ///   comparison of Booleans or GUIDs.
    static func compare(
        _ left: PropertyValue,
        _ operation: SQLNode.ComparisonOperator,
        _ right: PropertyValue,
        offset: Int
    ) throws(FilterError) -> Bool? {
        if left.isNull || right.isNull {
            return nil
        }
        switch relation(left, right) {
        case .ordered(let sign):
            switch operation {
            case .equal: return sign == 0
            case .notEqual, .bangEqual: return sign != 0
            case .less: return sign < 0
            case .lessOrEqual: return sign <= 0
            case .greater: return sign > 0
            case .greaterOrEqual: return sign >= 0
            }
        case .equality(let equal) where operation.isEquality:
            return operation == .equal ? equal : !equal
        case .unordered:
            return operation == .notEqual || operation == .bangEqual
        case .equality, .mismatch:
            throw FilterError.evaluation(
                .typeMismatch,
                "Cannot compare \(left.typeName) with \(right.typeName) using '\(operation.rawValue)'",
                offset: offset,
                token: operation.rawValue
            )
        }
    }

    /// Whether the two values are equal as a correlation filter compares them: by value for numbers, ordinally
    /// for strings, null equal to null, and values of unrelated types unequal (never an error).
    public func correlates(with other: PropertyValue) -> Bool {
        if isNull || other.isNull {
            return isNull && other.isNull
        }
        switch Self.relation(self, other) {
        case .ordered(let sign): return sign == 0
        case .equality(let equal): return equal
        case .unordered, .mismatch: return false
        }
    }
}

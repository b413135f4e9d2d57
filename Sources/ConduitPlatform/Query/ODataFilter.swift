/// A `$filter` expression.
///
/// A chain of one operator (`a and b and c`) becomes a balanced, left-leaning tree (`(a and b) and c`; four terms give
/// `(a and b) and (c and d)`), so a filter of thousands of terms stays a shallow tree. `and` and `or` are associative,
/// so the grouping does not change the meaning.
public indirect enum ODataFilter: Sendable, Hashable {
    /// Both conditions hold.
    case and(ODataFilter, ODataFilter)
    /// Either condition holds.
    case or(ODataFilter, ODataFilter)
    /// The condition does not hold.
    case not(ODataFilter)
    /// A column compared with a value: `name eq 'x'`, `revenue gt 5`, `name eq null`. A value written on the left
    /// is moved to the right with the operator mirrored: `5 lt revenue` is `revenue gt 5`.
    case compare(property: String, ODataComparison, ODataLiteral)
    /// A string function of a column and a string: `contains(name,'abc')`, `startswith(…)`, `endswith(…)`.
    case function(ODataStringFunction, property: String, String)
}

/// A comparison operator of `$filter`.
public enum ODataComparison: String, Sendable, Hashable, CaseIterable {
    /// Equal.
    case eq
    /// Not equal.
    case ne
    /// Greater than.
    case gt
    /// Greater than or equal.
    case ge
    /// Less than.
    case lt
    /// Less than or equal.
    case le

    /// The operator that gives the same result with the operands swapped: `5 lt x` is `x gt 5`.
    public var mirrored: ODataComparison {
        switch self {
        case .eq: .eq
        case .ne: .ne
        case .gt: .lt
        case .ge: .le
        case .lt: .gt
        case .le: .ge
        }
    }
}

/// A string function of `$filter` that Dataverse supports.
public enum ODataStringFunction: String, Sendable, Hashable, CaseIterable {
    /// The column contains the string.
    case contains
    /// The column starts with the string.
    case startswith
    /// The column ends with the string.
    case endswith
}

extension ODataFilter: CustomStringConvertible {
    /// The filter as OData text, before percent-encoding. Parsing it again gives the same filter: nested `and` and
    /// `or` terms are always parenthesised, so the grouping survives.
    public var description: String {
        switch self {
        case .and(let left, let right):
            "\(left.operand) and \(right.operand)"
        case .or(let left, let right):
            "\(left.operand) or \(right.operand)"
        case .not(let inner):
            if case .function = inner { "not \(inner)" } else { "not (\(inner))" }
        case .compare(let property, let comparison, let literal):
            "\(property) \(comparison.rawValue) \(literal)"
        case .function(let function, let property, let value):
            "\(function.rawValue)(\(property),\(ODataLiteral.string(value)))"
        }
    }

    /// The description, parenthesised when it is an `and` or an `or`.
    private var operand: String {
        switch self {
        case .and, .or: "(\(description))"
        case .not, .compare, .function: description
        }
    }
}

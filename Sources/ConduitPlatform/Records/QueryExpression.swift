import ConduitContext

/// Which columns to return: all of them, or a list (the SDK's `ColumnSet`).
public enum ColumnSet: Sendable, Hashable {
    case all
    case columns([String])
}

/// A query over one table (the SDK's `QueryExpression`): columns, criteria, order, a row limit and paging.
public struct QueryExpression: Sendable, Hashable {
    public var entityName: String
    public var columnSet: ColumnSet
    public var criteria: FilterExpression
    public var orders: [OrderExpression]
    /// At most this many rows (`$top`).
    public var topCount: Int?
    /// Paging: rows per page and the 1-based page number.
    public var pageInfo: PagingInfo?

    /// Creates a query.
    public init(
        entityName: String,
        columnSet: ColumnSet = .all,
        criteria: FilterExpression = FilterExpression(),
        orders: [OrderExpression] = [],
        topCount: Int? = nil,
        pageInfo: PagingInfo? = nil
    ) {
        self.entityName = entityName
        self.columnSet = columnSet
        self.criteria = criteria
        self.orders = orders
        self.topCount = topCount
        self.pageInfo = pageInfo
    }
}

/// Paging of a query.
public struct PagingInfo: Sendable, Hashable {
    /// Rows per page.
    public var count: Int
    /// The page, from 1.
    public var pageNumber: Int
    /// Also count every matching row.
    public var returnTotalRecordCount: Bool

    public init(count: Int, pageNumber: Int = 1, returnTotalRecordCount: Bool = false) {
        self.count = count
        self.pageNumber = pageNumber
        self.returnTotalRecordCount = returnTotalRecordCount
    }
}

/// A sort order.
public struct OrderExpression: Sendable, Hashable {
    public var attributeName: String
    public var descending: Bool

    public init(_ attributeName: String, descending: Bool = false) {
        self.attributeName = attributeName
        self.descending = descending
    }
}

/// A group of conditions joined by `and` or `or`, possibly negated.
public struct FilterExpression: Sendable, Hashable {
    public enum Operator: Sendable, Hashable { case and, or }
    public var filterOperator: Operator
    public var conditions: [ConditionExpression]
    public var filters: [FilterExpression]
    /// `not (…)`.
    public var isNegated: Bool

    public init(
        _ filterOperator: Operator = .and,
        conditions: [ConditionExpression] = [],
        filters: [FilterExpression] = [],
        isNegated: Bool = false
    ) {
        self.filterOperator = filterOperator
        self.conditions = conditions
        self.filters = filters
        self.isNegated = isNegated
    }

    /// `true` when it has no conditions at all.
    public var isEmpty: Bool { conditions.isEmpty && filters.allSatisfy(\.isEmpty) }
}

/// One condition on a column.
public struct ConditionExpression: Sendable, Hashable {
    /// The SDK's condition operators that Conduit runs.
    public enum Operator: String, Sendable, Hashable {
        case equal, notEqual, greaterThan, greaterEqual, lessThan, lessEqual
        case null, notNull
        case beginsWith, endsWith, contains
        case `in`
    }

    public var attributeName: String
    public var conditionOperator: Operator
    public var values: [ContextValue]

    public init(_ attributeName: String, _ conditionOperator: Operator, _ values: [ContextValue] = []) {
        self.attributeName = attributeName
        self.conditionOperator = conditionOperator
        self.values = values
    }
}

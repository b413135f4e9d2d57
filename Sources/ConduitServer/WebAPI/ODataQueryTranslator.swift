import ConduitContext
import ConduitPlatform

/// Turns Web API query options into a `QueryExpression` over one table, with values typed by their columns.
struct ODataQueryTranslator {
    let table: EntityMetadata

    func query(_ options: ODataQueryOptions, pageSize: Int, page: Int) throws(WebAPIError) -> QueryExpression {
        var query = QueryExpression(entityName: table.logicalName)
        if let select = options.select {
            query.columnSet = .columns(try select.map { property throws(WebAPIError) in try column(property) })
        }
        if let filter = options.filter { query.criteria = try translate(filter) }
        query.orders = try options.orderBy.map { order throws(WebAPIError) in
            OrderExpression(try column(order.property), descending: order.descending)
        }
        query.topCount = options.top
        query.pageInfo = PagingInfo(count: pageSize, pageNumber: page, returnTotalRecordCount: options.count)
        return query
    }

    func column(_ property: String) throws(WebAPIError) -> String {
        guard let name = RecordJSON.attributeName(for: property, table: table) else {
            throw .badRequest(
                "Could not find a property named '\(property)' on type 'Microsoft.Dynamics.CRM.\(table.logicalName)'."
            )
        }
        return name
    }

    func translate(_ filter: ODataFilter) throws(WebAPIError) -> FilterExpression {
        switch filter {
        case .and(let left, let right):
            return FilterExpression(.and, filters: [try translate(left), try translate(right)])
        case .or(let left, let right):
            return FilterExpression(.or, filters: [try translate(left), try translate(right)])
        case .not(let inner):
            return FilterExpression(.and, filters: [try translate(inner)], isNegated: true)
        case .compare(let property, let comparison, let literal):
            let name = try column(property)
            let attribute = table.attribute(name)!
            let value = try self.value(literal, attribute: attribute)
            let conditionOperator: ConditionExpression.Operator
            switch comparison {
            case .eq: conditionOperator = .equal
            case .ne: conditionOperator = .notEqual
            case .gt: conditionOperator = .greaterThan
            case .ge: conditionOperator = .greaterEqual
            case .lt: conditionOperator = .lessThan
            case .le: conditionOperator = .lessEqual
            }
            return FilterExpression(conditions: [ConditionExpression(name, conditionOperator, [value])])
        case .function(let function, let property, let text):
            let name = try column(property)
            let conditionOperator: ConditionExpression.Operator
            switch function {
            case .contains: conditionOperator = .contains
            case .startswith: conditionOperator = .beginsWith
            case .endswith: conditionOperator = .endsWith
            }
            return FilterExpression(conditions: [ConditionExpression(name, conditionOperator, [.string(text)])])
        }
    }

    /// A literal as a value of the column's type.
    func value(_ literal: ODataLiteral, attribute: AttributeMetadata) throws(WebAPIError) -> ContextValue {
        let json: JSONValue
        switch literal {
        case .null: return .null
        case .string(let text): json = .string(text)
        case .integer(let number): json = .number(String(number))
        case .decimal(let text): json = .number(text)
        case .boolean(let flag): json = .bool(flag)
        case .guid(let text):
            guard let guid = Guid(text) else { throw .badRequest("'\(text)' is not a GUID.") }
            if attribute.type.isReference {
                return .entityReference(EntityReference(logicalName: attribute.targets.first, id: guid))
            }
            json = .string(text)
        case .dateTime(let text), .date(let text): json = .string(text)
        }
        do {
            return try RecordJSON.value(json, for: attribute, table: table)
        } catch {
            throw .badRequest(
                "The value in the filter on '\(attribute.logicalName)' does not match its type: \(error.message)",
                code: "0x80040203"
            )
        }
    }
}

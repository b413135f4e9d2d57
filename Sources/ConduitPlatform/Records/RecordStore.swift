import ConduitContext
import ConduitStore
import SQLKit

/// Reads and writes rows of Dataverse tables in SQL. Callers pass the database of their transaction.
struct RecordStore: Sendable {
    let flavor: SQLFlavor

    /// Inserts a row. `values` must hold the primary key.
    func insert(
        _ values: [(AttributeMetadata, ContextValue)],
        into entity: EntityMetadata,
        db: any SQLDatabase
    )
        async throws
    {
        var columns: [String] = []
        var binds: [any SQLExpression] = []
        for (attribute, value) in values {
            for part in try ColumnStorage.encode(value, for: attribute, table: entity.logicalName) {
                columns.append(part.column)
                binds.append(part.value)
            }
        }
        var statement = SQLStatement("INSERT INTO ")
        statement.identifier(entity.logicalName)
        statement.append(" (")
        statement.identifiers(columns)
        statement.append(") VALUES (")
        for (index, bind) in binds.enumerated() {
            if index > 0 { statement.append(", ") }
            statement.expression(bind)
        }
        statement.append(")")
        try await db.run(statement)
    }

    /// Updates a row; with `expectedVersion`, only if its `versionnumber` still is that. Returns `false` when no row
    /// matched.
    func update(
        id: Guid,
        _ values: [(AttributeMetadata, ContextValue)],
        expectedVersion: Int64?,
        in entity: EntityMetadata,
        db: any SQLDatabase
    ) async throws -> Bool {
        var statement = SQLStatement("UPDATE ")
        statement.identifier(entity.logicalName)
        statement.append(" SET ")
        var first = true
        for (attribute, value) in values {
            for part in try ColumnStorage.encode(value, for: attribute, table: entity.logicalName) {
                if !first { statement.append(", ") }
                first = false
                statement.identifier(part.column)
                statement.append(" = ")
                statement.expression(part.value)
            }
        }
        statement.append(" WHERE ")
        statement.identifier(entity.primaryIdAttribute)
        statement.append(" = ")
        statement.bind(id.description)
        if let expectedVersion {
            statement.append(" AND ")
            statement.identifier("versionnumber")
            statement.append(" = ")
            statement.bind(expectedVersion)
        }
        statement.append(" RETURNING ")
        statement.identifier(entity.primaryIdAttribute)
        return try await !db.rows(statement).isEmpty
    }

    /// Deletes a row. Returns `false` when it did not exist.
    func delete(id: Guid, from entity: EntityMetadata, db: any SQLDatabase) async throws -> Bool {
        var statement = SQLStatement("DELETE FROM ")
        statement.identifier(entity.logicalName)
        statement.append(" WHERE ")
        statement.identifier(entity.primaryIdAttribute)
        statement.append(" = ")
        statement.bind(id.description)
        statement.append(" RETURNING ")
        statement.identifier(entity.primaryIdAttribute)
        return try await !db.rows(statement).isEmpty
    }

    /// Reads one row with the given columns (all when `nil`), or `nil`.
    func fetch(
        id: Guid,
        columns: [AttributeMetadata]?,
        from entity: EntityMetadata,
        db: any SQLDatabase
    )
        async throws -> Entity?
    {
        let attributes = columns ?? entity.attributes
        var statement = selectClause(attributes, from: entity)
        statement.append(" WHERE ")
        statement.identifier(entity.primaryIdAttribute)
        statement.append(" = ")
        statement.bind(id.description)
        guard let row = try await db.rows(statement).first else { return nil }
        return try makeEntity(row, attributes: attributes, entity: entity, id: id)
    }

    /// The result of a query.
    struct QueryResult {
        var entities: [Entity]
        var moreRecords: Bool
        var totalCount: Int?
    }

    /// Runs a query.
    func query(
        _ query: QueryExpression,
        columns: [AttributeMetadata],
        in entity: EntityMetadata,
        db: any SQLDatabase
    )
        async throws -> QueryResult
    {
        let translator = ConditionTranslator(entity: entity, flavor: flavor)
        let whereClause = try translator.translate(query.criteria)
        var statement = selectClause(columns, from: entity)
        if let whereClause {
            statement.append(" WHERE ")
            statement.append(whereClause)
        }
        statement.append(" ORDER BY ")
        for order in query.orders {
            let attribute = try translator.attribute(order.attributeName)
            statement.append(translator.sortKey(attribute))
            statement.append(order.descending ? " DESC, " : " ASC, ")
        }
        statement.identifier(entity.primaryIdAttribute)
        var limit = query.topCount
        var offset = 0
        if let page = query.pageInfo {
            limit = min(limit ?? Int.max, page.count)
            offset = max(0, page.pageNumber - 1) * page.count
        }
        if let limit {
            statement.append(" LIMIT ")
            statement.bind(limit + 1)
            statement.append(" OFFSET ")
            statement.bind(offset)
        }
        var rows = try await db.rows(statement)
        var moreRecords = false
        if let limit, rows.count > limit {
            rows.removeLast(rows.count - limit)
            moreRecords = query.topCount.map { offset + limit < $0 } ?? true
        }
        let entities = try rows.map { try makeEntity($0, attributes: columns, entity: entity, id: nil) }
        var total: Int?
        if query.pageInfo?.returnTotalRecordCount == true {
            var count = SQLStatement("SELECT COUNT(*) AS total FROM ")
            count.identifier(entity.logicalName)
            if let whereClause {
                count.append(" WHERE ")
                count.append(whereClause)
            }
            total = try await db.rows(count).first.map { try $0.decode(column: "total", as: Int.self) }
        }
        return QueryResult(entities: entities, moreRecords: moreRecords, totalCount: total)
    }

    private func selectClause(_ attributes: [AttributeMetadata], from entity: EntityMetadata) -> SQLStatement {
        var statement = SQLStatement("SELECT ")
        var columns = [entity.primaryIdAttribute]
        for attribute in attributes where !attribute.isPrimaryId {
            columns += ColumnStorage.definitions(attribute, flavor: flavor).map(\.name)
        }
        statement.identifiers(columns)
        statement.append(" FROM ")
        statement.identifier(entity.logicalName)
        return statement
    }

    private func makeEntity(
        _ row: any SQLRow,
        attributes: [AttributeMetadata],
        entity: EntityMetadata,
        id: Guid?
    )
        throws -> Entity
    {
        let rowId = try id ?? Guid(row.decode(column: entity.primaryIdAttribute, as: String.self)) ?? .empty
        var result = Entity(logicalName: entity.logicalName, id: rowId)
        for attribute in attributes {
            let value = try ColumnStorage.decode(attribute, from: row)
            if case .null = value { continue }
            result.attributes.append(key: attribute.logicalName, value: value)
        }
        return result
    }
}

import ConduitStore
import Foundation
import SQLKit

/// The rows of an entity table (`conduit_bus_queue`, `conduit_bus_topic`, `conduit_bus_eventhub`): each entity's
/// JSON description and creation time.
enum EntityRows {
    /// Every entity of `table` by name, or only the one named `name`.
    static func read<Description: Decodable & Sendable>(
        _ type: Description.Type,
        from table: String,
        named name: String?,
        store: Store
    ) async throws -> [(description: Description, createdOn: Int64)] {
        var sql = SQLQueryString("SELECT description, createdon FROM \(unsafeRaw: table)")
        if let name { sql = sql + SQLQueryString(" WHERE name = \(bind: name.lowercased())") }
        sql = sql + SQLQueryString(" ORDER BY name")
        let query = sql
        return try await store.withDatabase { db in
            let decoder = JSONDecoder()
            return try await db.raw(query).all().map { row in
                (
                    try decoder.decode(type, from: Data(try row.decode(column: "description", as: String.self).utf8)),
                    try row.decode(column: "createdon", as: Int64.self)
                )
            }
        }
    }
}

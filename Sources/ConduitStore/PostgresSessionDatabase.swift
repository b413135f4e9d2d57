import Logging
import NIOCore
import PostgresKit
import SQLKit

/// The `SQLDatabase` a closure gets on PostgreSQL: PostgresKit's, on one pooled connection, failing fast once the
/// connection is closed.
///
/// postgres-nio writes a statement to its channel without a write promise, so a statement issued after the
/// connection closed (for example when the pool shut down under a running transaction) would wait forever. Each
/// statement is therefore started on the connection's event loop after checking that the channel is still open: on
/// the event loop the check and the write cannot be separated by the close, and a statement already written fails
/// when the connection closes.
struct PostgresSessionDatabase: SQLDatabase {
    let connection: PostgresConnection
    let base: any SQLDatabase

    init(_ connection: PostgresConnection) {
        self.connection = connection
        self.base = connection.sql()
    }

    var logger: Logger { self.base.logger }
    var eventLoop: any EventLoop { self.base.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { self.base.version }
    var dialect: any SQLDialect { self.base.dialect }
    var queryLogLevel: Logger.Level? { self.base.queryLogLevel }

    func execute(
        sql query: any SQLExpression,
        _ onRow: @escaping @Sendable (any SQLRow) -> Void
    ) -> EventLoopFuture<Void> {
        let connection = self.connection
        let base = self.base
        return connection.eventLoop.flatSubmit {
            guard !connection.isClosed else {
                return connection.eventLoop.makeFailedFuture(StoreError.postgresConnectionClosed)
            }
            return base.execute(sql: query, onRow)
        }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        try await self.execute(sql: query, onRow).get()
    }
}

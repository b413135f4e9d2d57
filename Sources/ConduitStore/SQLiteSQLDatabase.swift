import ConduitSQLite
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit

/// SQLKit's view of one leased ``SQLiteHandle``.
///
/// The writer runs its statements inline, on the task that holds the write lock: they are short (no fsync per commit
/// in WAL with `synchronous = NORMAL`), and a hop to a thread pool and back per statement cost more than the
/// statement itself. Readers, whose queries can scan, run on NIO's blocking thread pool.
struct SQLiteSQLDatabase: SQLDatabase {
    enum Execution: Sendable {
        case inline
        case threadPool
    }

    let handle: SQLiteHandle
    let execution: Execution
    let logger: Logger
    let eventLoop: any EventLoop
    var dialect: any SQLDialect { SQLiteDialect() }
    var queryLogLevel: Logger.Level? { .debug }

    private static let encoder = SQLiteDataEncoder()

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        let (sql, rawBinds) = self.serialize(query)
        if self.logger.logLevel <= .debug {
            self.logger.debug(
                "Executing query",
                metadata: ["sql": .string(sql), "binds": .array(rawBinds.map { .string("\($0)") })]
            )
        }
        let binds = try rawBinds.map { try Self.value(Self.encoder.encode($0)) }
        let handle = self.handle
        switch self.execution {
        case .inline:
            try Self.run(handle, sql, binds, onRow)
        case .threadPool:
            try await NIOThreadPool.singleton.runIfActive {
                try Self.run(handle, sql, binds, onRow)
            }
        }
    }

    private static func run(
        _ handle: SQLiteHandle,
        _ sql: String,
        _ binds: [SQLiteValue],
        _ onRow: @Sendable (any SQLRow) -> Void
    ) throws {
        var columns: SQLiteResultRow.Columns?
        try handle.run(sql, binds) { names, values in
            let shared = columns ?? SQLiteResultRow.Columns(names)
            columns = shared
            onRow(SQLiteResultRow(columns: shared, values: values.map(Self.data)))
        }
    }

    private static func value(_ data: SQLiteData) -> SQLiteValue {
        switch data {
        case .integer(let integer): .integer(Int64(integer))
        case .float(let double): .float(double)
        case .text(let text): .text(text)
        case .blob(let buffer): .blob(Array(buffer.readableBytesView))
        case .null: .null
        }
    }

    private static func data(_ value: SQLiteValue) -> SQLiteData {
        switch value {
        case .integer(let integer): .integer(SQLiteInt64(integer))
        case .float(let double): .float(double)
        case .text(let text): .text(text)
        case .blob(let bytes): .blob(ByteBuffer(bytes: bytes))
        case .null: .null
        }
    }

    func execute(
        sql query: any SQLExpression,
        _ onRow: @escaping @Sendable (any SQLRow) -> Void
    ) -> EventLoopFuture<
        Void
    > {
        self.eventLoop.makeFutureWithTask {
            try await self.execute(sql: query, onRow)
        }
    }
}

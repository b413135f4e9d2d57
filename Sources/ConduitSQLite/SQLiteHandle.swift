internal import CSQLite3

/// One connection to an SQLite database through the system's SQLite library, with a cache of prepared statements.
///
/// A handle is used by one caller at a time (the connection pool leases it out); it is `Sendable` so that a lease
/// can move it between threads, and it is never used from two threads at once. Every call is synchronous: the store
/// decides where it runs (inline for the writer, on NIO's blocking pool for readers).
public final class SQLiteHandle: @unchecked Sendable {
    /// The oldest SQLite that has every feature the store uses (`RETURNING` came in 3.35).
    static let minimumVersion: Int32 = 3_035_000
    /// Prepared statements kept per connection; beyond this the cache starts over.
    static let statementCacheLimit = 128

    private var database: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    /// For messages: "the SQLite database at …".
    public let name: String

    /// The version of the SQLite library in use, e.g. "3.40.1".
    public static var libraryVersion: String { String(cString: sqlite3_libversion()) }

    /// Opens (creating if needed) the database at `path`, or an in-memory database for `":memory:"`.
    ///
    /// - Parameters:
    ///   - path: The file, or `":memory:"`.
    ///   - name: How messages name the database ("the SQLite database at …").
    public init(path: String, name: String) throws(SQLiteFailure) {
        self.name = name
        guard sqlite3_libversion_number() >= Self.minimumVersion else {
            throw SQLiteFailure(
                code: SQLITE_ERROR,
                message:
                    "the system's SQLite is version \(String(cString: sqlite3_libversion())); Conduit needs 3.35 or newer"
            )
        }
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_CREATE | SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_EXRESCODE
        let status = sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(handle)
            throw SQLiteFailure(code: status, message: message)
        }
        self.database = handle
    }

    deinit {
        self.close()
    }

    /// Finalizes the cached statements and closes the connection; later calls fail.
    /// Whether a transaction is open on this connection (SQLite is out of autocommit mode). SQLite ends a
    /// transaction by itself after some errors (a full disk, an I/O error).
    public var isInTransaction: Bool {
        guard let database = self.database else { return false }
        return sqlite3_get_autocommit(database) == 0
    }

    public func close() {
        for statement in self.statements.values {
            sqlite3_finalize(statement)
        }
        self.statements = [:]
        if let database = self.database {
            sqlite3_close_v2(database)
            self.database = nil
        }
    }

    /// Runs one SQL statement with its bound values, calling `onRow` for each result row.
    ///
    /// A text with more than one statement is refused (the rest would be silently skipped otherwise).
    ///
    /// - Parameters:
    ///   - sql: One statement, with `?NNN` placeholders.
    ///   - binds: The values of the placeholders, in order.
    ///   - onRow: Called with the column names (the same array for every row) and the row's values.
    public func run(
        _ sql: String,
        _ binds: [SQLiteValue],
        onRow: (_ columns: [String], _ values: [SQLiteValue]) throws -> Void
    ) throws {
        guard let database = self.database else {
            throw SQLiteFailure(code: SQLITE_MISUSE, message: "the connection to \(self.name) is closed")
        }
        let statement = try self.prepared(sql, database: database)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        try Self.bind(binds, to: statement, database: database)
        var columns: [String]?
        while true {
            let status = sqlite3_step(statement)
            switch status {
            case SQLITE_ROW:
                let names = columns ?? Self.columnNames(statement)
                columns = names
                try onRow(names, Self.values(statement, count: names.count))
            case SQLITE_DONE:
                return
            default:
                throw SQLiteFailure(code: status, message: String(cString: sqlite3_errmsg(database)))
            }
        }
    }

    /// Runs a statement whose rows, if any, are not needed (`PRAGMA …`, `BEGIN`, …).
    public func run(_ sql: String) throws {
        try self.run(sql, []) { _, _ in }
    }

    /// Runs a statement and returns the first column of its first row as text (`PRAGMA journal_mode = WAL`).
    public func firstText(_ sql: String) throws -> String? {
        var first: String?
        try self.run(sql, []) { _, values in
            if first == nil, case .text(let text)? = values.first { first = text }
        }
        return first
    }

    private func prepared(_ sql: String, database: OpaquePointer) throws -> OpaquePointer {
        if let statement = self.statements[sql] {
            return statement
        }
        var statement: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let status = sql.withCString { text in
            let status = sqlite3_prepare_v3(database, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, &tail)
            if status == SQLITE_OK, let tail, Self.hasMoreStatements(tail) {
                return SQLITE_MISUSE
            }
            return status
        }
        guard status == SQLITE_OK, let statement else {
            let message =
                status == SQLITE_MISUSE
                ? "the SQL text holds more than one statement; run them one by one"
                : String(cString: sqlite3_errmsg(database))
            sqlite3_finalize(statement)
            throw SQLiteFailure(code: status, message: message)
        }
        if self.statements.count >= Self.statementCacheLimit {
            for cached in self.statements.values {
                sqlite3_finalize(cached)
            }
            self.statements = [:]
        }
        self.statements[sql] = statement
        return statement
    }

    private static func hasMoreStatements(_ tail: UnsafePointer<CChar>) -> Bool {
        var cursor = tail
        while cursor.pointee != 0 {
            switch UInt8(bitPattern: cursor.pointee) {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: ";"):
                cursor += 1
            default:
                return true
            }
        }
        return false
    }

    private static func bind(_ binds: [SQLiteValue], to statement: OpaquePointer, database: OpaquePointer) throws {
        for (index, value) in binds.enumerated() {
            let position = Int32(index + 1)
            let status: Int32
            switch value {
            case .integer(let integer):
                status = sqlite3_bind_int64(statement, position, integer)
            case .float(let double):
                status = sqlite3_bind_double(statement, position, double)
            case .text(let text):
                status = sqlite3_bind_text64(
                    statement,
                    position,
                    text,
                    UInt64(text.utf8.count),
                    transientDestructor,
                    UInt8(SQLITE_UTF8)
                )
            case .blob(let blob):
                status = blob.withUnsafeBytes { bytes in
                    sqlite3_bind_blob64(
                        statement,
                        position,
                        bytes.baseAddress,
                        UInt64(bytes.count),
                        transientDestructor
                    )
                }
            case .null:
                status = sqlite3_bind_null(statement, position)
            }
            guard status == SQLITE_OK else {
                throw SQLiteFailure(
                    code: status,
                    message: "cannot bind value \(position): \(String(cString: sqlite3_errmsg(database)))"
                )
            }
        }
    }

    private static func columnNames(_ statement: OpaquePointer) -> [String] {
        (0..<sqlite3_column_count(statement)).map { index in
            sqlite3_column_name(statement, index).map { String(cString: $0) } ?? ""
        }
    }

    private static func values(_ statement: OpaquePointer, count: Int) -> [SQLiteValue] {
        (0..<Int32(count)).map { index in
            switch sqlite3_column_type(statement, index) {
            case SQLITE_INTEGER:
                return .integer(sqlite3_column_int64(statement, index))
            case SQLITE_FLOAT:
                return .float(sqlite3_column_double(statement, index))
            case SQLITE_TEXT:
                guard let text = sqlite3_column_text(statement, index) else { return .text("") }
                let length = Int(sqlite3_column_bytes(statement, index))
                return .text(String(decoding: UnsafeBufferPointer(start: text, count: length), as: UTF8.self))
            case SQLITE_BLOB:
                let length = Int(sqlite3_column_bytes(statement, index))
                guard let bytes = sqlite3_column_blob(statement, index), length > 0 else { return .blob([]) }
                return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: length)))
            default:
                return .null
            }
        }
    }
}

/// SQLite copies bound text and blobs (`SQLITE_TRANSIENT`).
private let transientDestructor = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// An error reported by SQLite: its (extended) result code and message.
public struct SQLiteFailure: Error, CustomStringConvertible {
    /// The extended result code, e.g. 2067 (`SQLITE_CONSTRAINT_UNIQUE`).
    public let code: Int32
    /// SQLite's message, e.g. "UNIQUE constraint failed: contact.contactid".
    public let message: String

    /// Whether SQLite could not get a lock in time (another process holds the database).
    public var isBusy: Bool { self.code & 0xFF == SQLITE_BUSY }

    public var description: String {
        "\(self.message) (SQLite result code \(self.code))"
    }
}

/// A value as SQLite stores it.
public enum SQLiteValue: Sendable, Hashable {
    case integer(Int64)
    case float(Double)
    case text(String)
    case blob([UInt8])
    case null
}

import ConduitSQLite
import PostgresKit

/// Recognises a write that broke a primary key or unique index, on either database: SQLite's constraint errors
/// ("UNIQUE constraint failed") and PostgreSQL's SQLSTATE 23505 `unique_violation` (a `PSQLError` describes itself
/// generically, so its state is read, not its text), through ``StoreError/underlying``.
public enum UniqueViolation {
    /// Whether `error` is such a write's error.
    public static func matches(_ error: any Error) -> Bool {
        switch error {
        case let error as StoreError:
            return error.underlying.map(matches) ?? error.message.contains("UNIQUE constraint failed")
        case let error as PSQLError:
            return error.serverInfo?[.sqlState] == "23505"
        case let error as SQLiteFailure:
            // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY.
            return error.code == 2067 || error.code == 1555 || error.message.contains("UNIQUE constraint failed")
        default:
            let text = String(describing: error)
            return text.contains("UNIQUE constraint failed") || text.contains("duplicate key value")
        }
    }
}

import ConduitSQLite
import PostgresKit

/// A state of the storage under the database that refuses writes until someone acts: the disk is full, or the data
/// is read-only. Read from SQLite's result codes (`SQLITE_FULL`, `SQLITE_READONLY`) and PostgreSQL's SQLSTATEs
/// (53100 `disk_full`, 25006 `read_only_sql_transaction`), through ``StoreError/underlying``.
public enum StorageCondition: Sendable, Hashable {
    case diskFull
    case readOnly

    /// The condition `error` reports, if it reports one.
    public init?(_ error: any Error) {
        switch error {
        case let error as StoreError:
            guard let underlying = error.underlying, let condition = StorageCondition(underlying) else { return nil }
            self = condition
        case let error as SQLiteFailure:
            switch error.code & 0xFF {
            case 13: self = .diskFull  // SQLITE_FULL
            case 8: self = .readOnly  // SQLITE_READONLY
            default: return nil
            }
        case let error as PSQLError:
            switch error.serverInfo?[.sqlState] {
            case "53100": self = .diskFull
            case "25006": self = .readOnly
            default: return nil
            }
        default:
            return nil
        }
    }

    /// What happened and what to do, for the client.
    public var message: String {
        switch self {
        case .diskFull:
            "The database's disk is full: the change was not saved (nothing of it was written). Free space on the disk of the data directory (or the database server's); writes work again as soon as there is room, without a restart."
        case .readOnly:
            "The database is read-only (its directory or file cannot be written): the change was not saved (nothing of it was written). Make the data directory writable again; writes work again at once, without a restart."
        }
    }
}

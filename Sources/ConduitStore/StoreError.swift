/// A storage failure, with a message a person can act on.
///
/// The ``description`` says what went wrong and what to do, and never contains a password. The underlying error,
/// when there is one, is in ``underlying`` and in ``debugDescription``.
///
/// ```swift
/// do {
///     try await store.migrate(migrations)
/// } catch let error as StoreError where error.code == .newerDatabase {
///     print(error)  // the database is at migration 7, newer than this Conduit (knows 1…5)
/// }
/// ```
public struct StoreError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    /// What kind of failure this is; compare with the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidConfiguration
            case cannotConnect
            case connectionTimeout
            case shutDown
            case alreadyRunning
            case transactionFailed
            case queryFailed
            case invalidMigrations
            case migrationFailed
            case newerDatabase
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// A `--database` value, URL or configuration that cannot work.
        public static let invalidConfiguration = Self(.invalidConfiguration)
        /// The database cannot be reached or opened (PostgreSQL refused, authentication, SQLite file not openable).
        public static let cannotConnect = Self(.cannotConnect)
        /// No connection could be had in time (PostgreSQL: `run()` not running, server unreachable, pool exhausted).
        public static let connectionTimeout = Self(.connectionTimeout)
        /// The store has shut down: its `run()` returned, so it takes no more work.
        public static let shutDown = Self(.shutDown)
        /// `run()` was called a second time.
        public static let alreadyRunning = Self(.alreadyRunning)
        /// `BEGIN` or `COMMIT` failed; the transaction's changes are not in the database.
        public static let transactionFailed = Self(.transactionFailed)
        /// A statement of the store's own (migration bookkeeping) failed.
        public static let queryFailed = Self(.queryFailed)
        /// The list of migrations is inconsistent (a version appears twice).
        public static let invalidMigrations = Self(.invalidMigrations)
        /// A migration failed; it was rolled back and the database stays at the version before it.
        public static let migrationFailed = Self(.migrationFailed)
        /// The database was migrated by a newer version of Conduit than this one.
        public static let newerDatabase = Self(.newerDatabase)

        /// The code's name, such as `newerDatabase`.
        public var description: String { self.base.rawValue }
    }

    /// What kind of failure this is.
    public let code: Code
    /// The message for a person: what was wrong and what to do.
    public let message: String
    /// The error that caused this one, if any (a `PSQLError`, an `SQLiteError`, a NIO error…).
    public let underlying: (any Error)?

    init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    /// The message, free of secrets.
    public var description: String { self.message }

    /// The message and the underlying error in full, for logs a developer reads.
    public var debugDescription: String {
        guard let underlying = self.underlying else {
            return "StoreError.\(self.code): \(self.message)"
        }
        return "StoreError.\(self.code): \(self.message) (underlying: \(String(reflecting: underlying)))"
    }
}

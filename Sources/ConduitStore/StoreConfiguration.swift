import Foundation

/// Where the data lives, and how many connections to use.
///
/// ```swift
/// let embedded = StoreConfiguration(backend: .sqlite(path: "./conduit-data/conduit.sqlite"))
/// let shared = try StoreConfiguration(parsing: "postgres://conduit@db.example:5432/conduit")
/// ```
public struct StoreConfiguration: Sendable {
    /// The database engine and its location.
    public enum Backend: Sendable, Hashable {
        /// An SQLite file in WAL mode; its parent directory is created when missing.
        case sqlite(path: String)
        /// A private in-memory SQLite database on one shared connection, gone when the store shuts down (tests).
        case sqliteInMemory
        /// A PostgreSQL server: `postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require]`.
        ///
        /// Without `sslmode`, TLS is off for a loopback host (127.0.0.1, ::1, localhost) and preferred otherwise;
        /// when TLS is used the server's certificate is verified in full.
        case postgres(url: String)
    }

    /// The database engine and its location.
    public var backend: Backend
    /// PostgreSQL: the pool size (default 16). SQLite file: the number of reader connections, at most 4 (so the
    /// default gives 4); there is always exactly one writer connection besides them.
    public var maximumConnections: Int
    /// SQLite's `PRAGMA synchronous` (default ``SQLiteSynchronous/normal``); ignored for PostgreSQL.
    public var sqliteSynchronous: SQLiteSynchronous
    /// How long `transaction`/`withDatabase` wait for a PostgreSQL connection before failing.
    public var connectionTimeout: Duration = .seconds(10)

    /// Creates a configuration.
    ///
    /// - Parameters:
    ///   - backend: The database engine and its location.
    ///   - maximumConnections: PostgreSQL pool size; SQLite reader connections (capped at 4).
    ///   - sqliteSynchronous: SQLite's durability setting.
    public init(backend: Backend, maximumConnections: Int = 16, sqliteSynchronous: SQLiteSynchronous = .normal) {
        self.backend = backend
        self.maximumConnections = maximumConnections
        self.sqliteSynchronous = sqliteSynchronous
    }

    /// Parses a `--database` value.
    ///
    /// Accepted forms:
    /// - `postgres://…` or `postgresql://…`: a PostgreSQL URL (see ``Backend/postgres(url:)``), checked now;
    /// - `sqlite:PATH` (also `sqlite:///absolute/path`), or `sqlite::memory:` for an in-memory database;
    /// - anything else is the path of an SQLite file.
    ///
    /// ```swift
    /// let configuration = try StoreConfiguration(parsing: "sqlite:./conduit-data/conduit.sqlite")
    /// ```
    ///
    /// - Throws: ``StoreError`` with code ``StoreError/Code/invalidConfiguration`` and a message saying what is
    ///   wrong, for an empty value, another URL scheme, a malformed PostgreSQL URL or a path that is a directory.
    public init(parsing value: String) throws(StoreError) {
        let text = value.trimmingCharacters(in: .whitespacesAndNewlines)
        let lowercased = text.lowercased()
        let usage = "give a postgres:// URL, sqlite:PATH or the path of an SQLite file"
        if text.isEmpty {
            throw StoreError(.invalidConfiguration, "the --database value is empty; \(usage)")
        } else if lowercased.hasPrefix("postgres://") || lowercased.hasPrefix("postgresql://") {
            _ = try PostgresURL(parsing: text)
            self.init(backend: .postgres(url: text))
        } else if lowercased.hasPrefix("postgres:") || lowercased.hasPrefix("postgresql:") {
            throw StoreError(
                .invalidConfiguration,
                "a PostgreSQL URL starts with postgres:// (as in postgres://user@host:5432/database)"
            )
        } else if lowercased.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            if path.hasPrefix("//") {
                path.removeFirst(2)
            }
            if path == ":memory:" {
                self.init(backend: .sqliteInMemory)
            } else {
                try Self.checkSQLitePath(path, usage: usage)
                self.init(backend: .sqlite(path: path))
            }
        } else if let separator = text.range(of: "://") {
            let scheme = text[..<separator.lowerBound]
            throw StoreError(.invalidConfiguration, "unsupported database URL scheme '\(scheme)'; \(usage)")
        } else if text == ":memory:" {
            self.init(backend: .sqliteInMemory)
        } else {
            try Self.checkSQLitePath(text, usage: usage)
            self.init(backend: .sqlite(path: text))
        }
    }

    private static func checkSQLitePath(_ path: String, usage: String) throws(StoreError) {
        if path.isEmpty {
            throw StoreError(.invalidConfiguration, "the SQLite path is empty; \(usage)")
        }
        if path.contains("\0") {
            throw StoreError(.invalidConfiguration, "the SQLite path contains a NUL character")
        }
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        if path.hasSuffix("/") || (exists && isDirectory.boolValue) {
            let example = (path.hasSuffix("/") ? path : path + "/") + "conduit.sqlite"
            throw StoreError(
                .invalidConfiguration,
                "the SQLite path '\(path)' is a directory; give a file inside it, such as \(example)"
            )
        }
    }
}

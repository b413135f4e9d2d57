/// The SQL flavour of a ``Store``, for the few statements that differ between SQLite and PostgreSQL.
///
/// ```swift
/// let type = flavor == .postgres ? "BIGSERIAL" : "INTEGER"
/// ```
public enum SQLFlavor: Sendable, Hashable {
    /// SQLite 3 (the embedded default).
    case sqlite
    /// PostgreSQL (15 or later).
    case postgres
}

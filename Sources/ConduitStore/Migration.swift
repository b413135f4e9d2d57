import SQLKit

/// One step of the schema, applied once by ``Store/migrate(_:)``.
///
/// ```swift
/// let createJobs = Migration(version: 1, name: "create asyncoperation") { db, flavor in
///     try await db.raw("CREATE TABLE asyncoperation (id TEXT PRIMARY KEY, state INTEGER NOT NULL)").run()
/// }
/// ```
///
/// `apply` runs inside the migration's transaction and must issue every statement through the database it is given.
/// Versions must be unique; once released, a migration must never change.
public struct Migration: Sendable {
    /// The version; migrations apply in ascending order of it.
    public var version: Int
    /// A short name, recorded in `conduit_migration.name`.
    public var name: String
    /// Issues the migration's statements on the given database, for the given flavour.
    public var apply: @Sendable (any SQLDatabase, SQLFlavor) async throws -> Void

    /// Creates a migration.
    ///
    /// - Parameters:
    ///   - version: The version; unique among the migrations passed to ``Store/migrate(_:)``.
    ///   - name: A short name for people and for the `conduit_migration` table.
    ///   - apply: Issues the statements, in the migration's transaction.
    public init(
        version: Int,
        name: String,
        apply: @escaping @Sendable (any SQLDatabase, SQLFlavor) async throws -> Void
    ) {
        self.version = version
        self.name = name
        self.apply = apply
    }
}

import ConduitStore
import Foundation
import SQLKit
import Synchronization

/// The tables of the organization: the built-in ones and those created at run time, kept in `conduit_entity`
/// (one JSON definition per table) and as real SQL tables, one per Dataverse table.
public final class MetadataCatalog: Sendable {
    private let state: Mutex<[String: EntityMetadata]>
    private let manyToManyState: Mutex<[String: ManyToManyRelationshipMetadata]>

    init(tables: [EntityMetadata], manyToMany: [ManyToManyRelationshipMetadata] = []) {
        state = Mutex(Dictionary(uniqueKeysWithValues: tables.map { ($0.logicalName, $0) }))
        manyToManyState = Mutex(Dictionary(uniqueKeysWithValues: manyToMany.map { ($0.schemaName, $0) }))
    }

    /// Every many-to-many relationship, by schema name.
    public var allManyToMany: [ManyToManyRelationshipMetadata] {
        manyToManyState.withLock { Array($0.values) }.sorted { $0.schemaName < $1.schemaName }
    }

    /// The many-to-many relationship with this schema name.
    public func manyToMany(_ schemaName: String) -> ManyToManyRelationshipMetadata? {
        manyToManyState.withLock { $0[schemaName] }
    }

    /// The many-to-many relationship whose intersect table has this name.
    func manyToMany(intersectEntity name: String) -> ManyToManyRelationshipMetadata? {
        manyToManyState.withLock { all in all.values.first { $0.intersectEntityName == name } }
    }

    /// The many-to-many relationships that involve this table.
    func manyToMany(involving table: String) -> [ManyToManyRelationshipMetadata] {
        allManyToMany.filter { $0.entity1LogicalName == table || $0.entity2LogicalName == table }
    }

    func put(_ relationship: ManyToManyRelationshipMetadata) {
        manyToManyState.withLock { $0[relationship.schemaName] = relationship }
    }

    /// Every table, by logical name.
    public var all: [EntityMetadata] {
        state.withLock { Array($0.values) }.sorted { $0.logicalName < $1.logicalName }
    }

    /// The table with this logical name.
    public func entity(_ logicalName: String) -> EntityMetadata? {
        state.withLock { $0[logicalName] }
    }

    /// The table with this Web API collection name.
    public func entity(entitySetName: String) -> EntityMetadata? {
        state.withLock { tables in tables.values.first { $0.entitySetName == entitySetName } }
    }

    /// The table, or the Dataverse error for an unknown one.
    public func require(_ logicalName: String) throws(PlatformError) -> EntityMetadata {
        guard let entity = entity(logicalName) else {
            throw PlatformError(.entityDoesNotExist, "The table '\(logicalName)' does not exist.")
        }
        return entity
    }

    func put(_ entity: EntityMetadata) {
        state.withLock { $0[entity.logicalName] = entity }
    }

    // MARK: - SQL

    /// `CREATE TABLE` for a table, with its columns, as `ColumnStorage` lays them out.
    static func createTable(_ entity: EntityMetadata, flavor: SQLFlavor) -> String {
        var columns: [String] = []
        for attribute in entity.attributes {
            for definition in ColumnStorage.definitions(attribute, flavor: flavor) {
                var line = "\(quote(definition.name)) \(definition.type)"
                if attribute.isPrimaryId { line += " PRIMARY KEY NOT NULL" }
                columns.append(line)
            }
        }
        return "CREATE TABLE IF NOT EXISTS \(quote(entity.logicalName)) (\(columns.joined(separator: ", ")))"
    }

    /// `ALTER TABLE … ADD COLUMN` statements for a new column.
    static func addColumn(_ attribute: AttributeMetadata, to entity: String, flavor: SQLFlavor) -> [String] {
        ColumnStorage.definitions(attribute, flavor: flavor).map {
            "ALTER TABLE \(quote(entity)) ADD COLUMN \(quote($0.name)) \($0.type)"
        }
    }

    /// A double-quoted SQL identifier (both dialects).
    static func quote(_ identifier: String) -> String {
        guard identifier.utf8.contains(UInt8(ascii: "\"")) else { return "\"" + identifier + "\"" }
        return "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Writes a table's definition row.
    static func save(_ entity: EntityMetadata, db: any SQLDatabase, flavor: SQLFlavor) async throws {
        let json = String(decoding: try JSONEncoder().encode(entity), as: UTF8.self)
        try await db.raw("DELETE FROM conduit_entity WHERE logicalname = \(bind: entity.logicalName)").run()
        try await db.raw(
            "INSERT INTO conduit_entity (logicalname, definition) VALUES (\(bind: entity.logicalName), \(bind: json))"
        ).run()
    }

    /// Reads every table definition.
    static func load(db: any SQLDatabase) async throws -> [EntityMetadata] {
        let rows = try await db.raw("SELECT definition FROM conduit_entity").all()
        return try rows.map { row in
            try JSONDecoder().decode(
                EntityMetadata.self,
                from: Data(try row.decode(column: "definition", as: String.self).utf8)
            )
        }
    }

    /// Brings the stored built-in tables up to this version's definitions: adds the columns built in since the
    /// database was made and takes the built-in flags of the others; custom columns stay as they are.
    static func upgradeBuiltInTables(db: any SQLDatabase, flavor: SQLFlavor) async throws {
        let stored = Dictionary(try await load(db: db).map { ($0.logicalName, $0) }) { first, _ in first }
        for builtIn in BuiltInTables.all {
            guard var table = stored[builtIn.logicalName] else { continue }
            var changed = false
            for column in builtIn.attributes {
                if let index = table.attributes.firstIndex(where: { $0.logicalName == column.logicalName }) {
                    if table.attributes[index] != column {
                        table.attributes[index] = column
                        changed = true
                    }
                } else {
                    for statement in addColumn(column, to: table.logicalName, flavor: flavor) {
                        try await db.raw(SQLQueryString(statement)).run()
                    }
                    table.attributes.append(column)
                    changed = true
                }
            }
            if changed { try await save(table, db: db, flavor: flavor) }
        }
    }

    // MARK: - Run-time tables and columns

    /// Creates a custom table (and its SQL table) in the caller's transaction.
    func createTable(_ entity: EntityMetadata, db: any SQLDatabase, flavor: SQLFlavor) async throws {
        guard self.entity(entity.logicalName) == nil, manyToMany(intersectEntity: entity.logicalName) == nil else {
            throw PlatformError(.duplicateRecord, "A table named '\(entity.logicalName)' already exists.")
        }
        guard self.entity(entitySetName: entity.entitySetName) == nil else {
            throw PlatformError(
                .duplicateRecord,
                "A table with the collection name '\(entity.entitySetName)' already exists."
            )
        }
        try await db.raw(SQLQueryString(Self.createTable(entity, flavor: flavor))).run()
        try await Self.save(entity, db: db, flavor: flavor)
    }

    /// Adds a custom column (and its SQL columns) in the caller's transaction.
    func addColumn(
        _ attribute: AttributeMetadata,
        to logicalName: String,
        db: any SQLDatabase,
        flavor: SQLFlavor
    )
        async throws -> EntityMetadata
    {
        var entity = try require(logicalName)
        guard entity.attribute(attribute.logicalName) == nil else {
            throw PlatformError(
                .duplicateRecord,
                "The table '\(logicalName)' already has a column named '\(attribute.logicalName)'."
            )
        }
        for statement in Self.addColumn(attribute, to: logicalName, flavor: flavor) {
            try await db.raw(SQLQueryString(statement)).run()
        }
        entity.attributes.append(attribute)
        try await Self.save(entity, db: db, flavor: flavor)
        return entity
    }

    /// Checks a logical name: lower-case letters, digits and underscores, starting with a letter, at most 50
    /// characters (so it is a safe SQL identifier too).
    static func validateName(_ name: String, what: String) throws(PlatformError) {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first), bytes.count <= 50,
            bytes.allSatisfy({
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                    || $0 == UInt8(ascii: "_")
            }), !name.hasPrefix("conduit_"), !name.contains("__")
        else {
            throw PlatformError(
                .invalidArgument,
                "'\(name)' is not a valid \(what) name: use lower-case letters, digits and underscores, starting with a letter (at most 50 characters)."
            )
        }
    }
}

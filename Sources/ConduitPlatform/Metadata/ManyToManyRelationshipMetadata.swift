import ConduitContext
import ConduitStore
import Foundation
import SQLKit

/// A many-to-many relationship: pairs of `entity1LogicalName` and `entity2LogicalName` rows, kept as rows of the
/// intersect table `intersectEntityName` (columns `entity1IntersectAttribute`, `entity2IntersectAttribute`), as
/// Dataverse keeps them. Created at run time (`RelationshipDefinitions`); associated and disassociated with the
/// `Associate`/`Disassociate` messages, which name it by `schemaName`.
public struct ManyToManyRelationshipMetadata: Sendable, Hashable, Codable {
    public var schemaName: String
    public var entity1LogicalName: String
    public var entity2LogicalName: String
    public var intersectEntityName: String
    public var entity1IntersectAttribute: String
    public var entity2IntersectAttribute: String

    /// A relationship with Dataverse's default intersect names: the intersect table is the schema name in lower
    /// case; its columns are `<entity1>id` and `<entity2>id`, or `<entity>idone` and `<entity>idtwo` when a table is
    /// related to itself.
    public init(
        schemaName: String,
        entity1LogicalName: String,
        entity2LogicalName: String,
        intersectEntityName: String? = nil
    ) {
        self.schemaName = schemaName
        self.entity1LogicalName = entity1LogicalName
        self.entity2LogicalName = entity2LogicalName
        self.intersectEntityName = intersectEntityName ?? schemaName.lowercased()
        if entity1LogicalName == entity2LogicalName {
            self.entity1IntersectAttribute = entity1LogicalName + "idone"
            self.entity2IntersectAttribute = entity2LogicalName + "idtwo"
        } else {
            self.entity1IntersectAttribute = entity1LogicalName + "id"
            self.entity2IntersectAttribute = entity2LogicalName + "id"
        }
    }

    /// The metadata id Dataverse would show for it (stable: derived from the schema name).
    public var metadataId: Guid { NameBasedGuid.make("relationship:" + schemaName) }

    /// Whether this relationship joins rows of these two tables (in either order).
    func relates(_ first: String, _ second: String) -> Bool {
        (entity1LogicalName == first && entity2LogicalName == second)
            || (entity1LogicalName == second && entity2LogicalName == first)
    }

    /// The intersect column that holds `table`'s rows (entity 1's for a table related to itself), and the other.
    func columns(from table: String) -> (own: String, other: String, otherTable: String) {
        table == entity1LogicalName
            ? (entity1IntersectAttribute, entity2IntersectAttribute, entity2LogicalName)
            : (entity2IntersectAttribute, entity1IntersectAttribute, entity1LogicalName)
    }

    // MARK: - SQL

    /// The intersect table: one row per associated pair, each pair once.
    func createStatements() -> [String] {
        let table = MetadataCatalog.quote(intersectEntityName)
        let first = MetadataCatalog.quote(entity1IntersectAttribute)
        let second = MetadataCatalog.quote(entity2IntersectAttribute)
        return [
            """
            CREATE TABLE IF NOT EXISTS \(table) (\(MetadataCatalog.quote(intersectEntityName + "id")) TEXT PRIMARY KEY NOT NULL, \
            \(first) TEXT NOT NULL, \(second) TEXT NOT NULL, "versionnumber" BIGINT, UNIQUE (\(first), \(second)))
            """,
            "CREATE INDEX IF NOT EXISTS \(MetadataCatalog.quote(intersectEntityName + "_second")) ON \(table) (\(second))",
        ]
    }

    /// Checks the names before anything is created.
    func validate(in catalog: MetadataCatalog) throws(PlatformError) {
        let bytes = Array(schemaName.utf8)
        guard let first = bytes.first, bytes.count <= 100,
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first | 0x20),
            bytes.allSatisfy({ byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
            })
        else {
            throw PlatformError(
                .invalidArgument,
                "'\(schemaName)' is not a valid relationship schema name: use letters, digits and underscores, starting with a letter (at most 100 characters)."
            )
        }
        try MetadataCatalog.validateName(intersectEntityName, what: "intersect table")
        _ = try catalog.require(entity1LogicalName)
        _ = try catalog.require(entity2LogicalName)
        guard catalog.entity(intersectEntityName) == nil,
            catalog.manyToMany(intersectEntity: intersectEntityName) == nil
        else {
            throw PlatformError(.duplicateRecord, "A table named '\(intersectEntityName)' already exists.")
        }
        guard catalog.manyToMany(schemaName) == nil, catalog.relationship(schemaName) == nil else {
            throw PlatformError(.duplicateRecord, "A relationship named '\(schemaName)' already exists.")
        }
    }

    /// Writes the definition row.
    func save(db: any SQLDatabase) async throws {
        let json = String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
        try await db.raw(
            "INSERT INTO conduit_relationship (schemaname, definition) VALUES (\(bind: schemaName), \(bind: json))"
        ).run()
    }

    /// Reads every definition.
    static func load(db: any SQLDatabase) async throws -> [ManyToManyRelationshipMetadata] {
        try await db.raw("SELECT definition FROM conduit_relationship").all().map { row in
            try JSONDecoder().decode(
                ManyToManyRelationshipMetadata.self,
                from: Data(try row.decode(column: "definition", as: String.self).utf8)
            )
        }
    }
}

import ConduitStore
import SQLKit

/// The schema versions of the platform, applied in order on start.
enum PlatformMigrations {
    static let all: [Migration] = [
        Migration(version: 1, name: "metadata catalog and built-in tables") { db, flavor in
            try await db.raw(
                "CREATE TABLE IF NOT EXISTS conduit_entity (logicalname TEXT PRIMARY KEY NOT NULL, definition TEXT NOT NULL)"
            ).run()
            for table in BuiltInTables.all {
                try await db.raw(SQLQueryString(MetadataCatalog.createTable(table, flavor: flavor))).run()
                try await MetadataCatalog.save(table, db: db, flavor: flavor)
            }
            try await db.raw(
                "CREATE INDEX IF NOT EXISTS asyncoperation_ready ON asyncoperation (statecode, postponeuntil)"
            ).run()
            try await db.raw(
                "CREATE INDEX IF NOT EXISTS sdkmessagefilter_message ON sdkmessagefilter (sdkmessageid, primaryobjecttypecode)"
            ).run()
        },
        Migration(version: 2, name: "many-to-many relationships") { db, _ in
            try await db.raw(
                "CREATE TABLE IF NOT EXISTS conduit_relationship (schemaname TEXT PRIMARY KEY NOT NULL, definition TEXT NOT NULL)"
            ).run()
        },
    ]
}

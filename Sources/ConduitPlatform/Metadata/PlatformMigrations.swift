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
        Migration(version: 3, name: "system job leases, claim order and sequence") { db, flavor in
            // Databases made before the lease column was built in get it now.
            try await MetadataCatalog.upgradeBuiltInTables(db: db, flavor: flavor)
            // Open jobs in claim order, and the open jobs of one record and step (per-record ordering): both partial,
            // so completed jobs, however many, cost the claim nothing.
            try await db.raw(
                "CREATE INDEX IF NOT EXISTS asyncoperation_open ON asyncoperation (sequence) WHERE statecode <> 3"
            ).run()
            try await db.raw(
                "CREATE INDEX IF NOT EXISTS asyncoperation_order ON asyncoperation (regardingobjectid, owningextensionid, sequence) WHERE statecode <> 3"
            ).run()
            // The claim walks `asyncoperation_open`; the old index on (statecode, postponeuntil) only costs writes.
            try await db.raw("DROP INDEX IF EXISTS asyncoperation_ready").run()
            // Completed jobs by completion time, for the retention purge.
            try await db.raw(
                "CREATE INDEX IF NOT EXISTS asyncoperation_completed ON asyncoperation (completedon) WHERE statecode = 3"
            ).run()
            if flavor == .postgres {
                try await db.raw("CREATE SEQUENCE IF NOT EXISTS asyncoperation_sequence").run()
                try await db.raw(
                    "SELECT setval('asyncoperation_sequence', COALESCE((SELECT MAX(sequence) FROM asyncoperation), 0) + 1, false)"
                ).run()
            }
        },
        Migration(version: 4, name: "service endpoint secrets and their is-set flags") { db, flavor in
            try await MetadataCatalog.upgradeBuiltInTables(db: db, flavor: flavor)
        },
        Migration(version: 5, name: "system job trace context") { db, flavor in
            try await MetadataCatalog.upgradeBuiltInTables(db: db, flavor: flavor)
        },
        Migration(version: 6, name: "system job listener answers") { db, flavor in
            try await MetadataCatalog.upgradeBuiltInTables(db: db, flavor: flavor)
        },
        Migration(version: 7, name: "workflows") { db, flavor in
            try await MetadataCatalog.upgradeBuiltInTables(db: db, flavor: flavor)
            let exists = try await MetadataCatalog.load(db: db).contains { $0.logicalName == "workflow" }
            guard !exists else { return }
            try await db.raw(SQLQueryString(MetadataCatalog.createTable(BuiltInTables.workflow, flavor: flavor))).run()
            try await MetadataCatalog.save(BuiltInTables.workflow, db: db, flavor: flavor)
            // An organization made before this version has its messages: the new table gets its filters.
            if try await db.raw("SELECT sdkmessageid FROM sdkmessage").first() != nil {
                try await Bootstrap.insertFilters(for: "workflow", db: db)
            }
        },
        Migration(version: 8, name: "system job run history, and the index the console pages by") { db, flavor in
            try await MetadataCatalog.upgradeBuiltInTables(db: db, flavor: flavor)
            // Newest first, a page at a time, at any number of jobs (the console's list).
            try await db.raw(
                "CREATE INDEX IF NOT EXISTS asyncoperation_bysequence ON asyncoperation (sequence)"
            ).run()
        },
        Migration(version: 9, name: "sandboxed plug-in assemblies") { db, flavor in
            let exists = try await MetadataCatalog.load(db: db).contains { $0.logicalName == "pluginassembly" }
            if !exists {
                try await db.raw(
                    SQLQueryString(MetadataCatalog.createTable(BuiltInTables.pluginassembly, flavor: flavor))
                ).run()
                try await MetadataCatalog.save(BuiltInTables.pluginassembly, db: db, flavor: flavor)
                if try await db.raw("SELECT sdkmessageid FROM sdkmessage").first() != nil {
                    try await Bootstrap.insertFilters(for: "pluginassembly", db: db)
                }
            }
            // plugintype.pluginassemblyid.
            try await MetadataCatalog.upgradeBuiltInTables(db: db, flavor: flavor)
        },
        Migration(version: 10, name: "plug-in assembly source types (the compiled-in plug-ins' row)") { db, flavor in
            try await MetadataCatalog.upgradeBuiltInTables(db: db, flavor: flavor)
        },
    ]
}

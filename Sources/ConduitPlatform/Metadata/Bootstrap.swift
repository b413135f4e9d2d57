import ConduitContext
import ConduitStore
import Foundation
import SQLKit

/// First-start seeding: the organization, its root business unit, the `SYSTEM` user, the first administrator, and
/// the SDK messages and message filters steps are registered on.
enum Bootstrap {
    /// The messages steps can be registered on.
    static let messages = [
        "Create", "Update", "Delete", "Retrieve", "RetrieveMultiple", "Upsert", "Associate", "Disassociate",
        "SetState", "Assign",
    ]

    static func messageId(_ name: String) -> Guid { NameBasedGuid.make("sdkmessage:" + name) }
    static func filterId(message: String, entity: String) -> Guid {
        NameBasedGuid.make("sdkmessagefilter:" + message + ":" + entity)
    }
    static let systemUserId = NameBasedGuid.make("systemuser:SYSTEM")
    static let administratorId = NameBasedGuid.make("systemuser:admin")

    static func ensureOrganization(
        store: Store,
        catalog: MetadataCatalog,
        name: String
    ) async throws
        -> Platform.OrganizationInfo
    {
        try await store.transaction { db in
            let existing = try await db.raw("SELECT organizationid, name FROM organization").all()
            if let row = existing.first {
                let id = Guid(try row.decode(column: "organizationid", as: String.self)) ?? .empty
                let name = try row.decode(column: "name", as: String?.self) ?? ""
                let unit = try await db.raw(
                    "SELECT businessunitid FROM businessunit WHERE parentbusinessunitid IS NULL"
                ).all().first.map { try $0.decode(column: "businessunitid", as: String.self) }
                return Platform.OrganizationInfo(
                    id: id,
                    name: name,
                    rootBusinessUnitId: unit.flatMap(Guid.init) ?? .empty,
                    systemUserId: systemUserId,
                    administratorId: administratorId
                )
            }
            let organizationId = Guid.random()
            let unitId = Guid.random()
            let records = RecordStore(flavor: store.flavor)
            let now = DotNetDateTime.now()
            func insert(_ table: String, _ id: Guid, _ values: [(String, ContextValue)]) async throws {
                guard let entity = catalog.entity(table) else { return }
                var all: [(String, ContextValue)] = [
                    (entity.primaryIdAttribute, .guid(id)), ("createdon", .dateTime(now)),
                    ("modifiedon", .dateTime(now)),
                    ("createdby", .entityReference(EntityReference(logicalName: "systemuser", id: systemUserId))),
                    ("modifiedby", .entityReference(EntityReference(logicalName: "systemuser", id: systemUserId))),
                    ("ownerid", .entityReference(EntityReference(logicalName: "systemuser", id: systemUserId))),
                    ("statecode", .optionSetValue(OptionSetValue(0))),
                    ("statuscode", .optionSetValue(OptionSetValue(entity.defaultStatus(forState: 0) ?? 1))),
                    ("versionnumber", .long(1)),
                ]
                all += values
                let pairs = all.compactMap { name, value in entity.attribute(name).map { ($0, value) } }
                try await records.insert(pairs, into: entity, db: db)
            }
            try await insert("organization", organizationId, [("name", .string(name))])
            try await insert(
                "businessunit",
                unitId,
                [
                    ("name", .string(name)),
                    (
                        "organizationid",
                        .entityReference(EntityReference(logicalName: "organization", id: organizationId))
                    ),
                ]
            )
            for (id, fullName, domain) in [
                (systemUserId, "SYSTEM", "system"), (administratorId, "Conduit Administrator", "admin"),
            ] {
                try await insert(
                    "systemuser",
                    id,
                    [
                        ("fullname", .string(fullName)), ("domainname", .string(domain)),
                        ("businessunitid", .entityReference(EntityReference(logicalName: "businessunit", id: unitId))),
                        (
                            "organizationid",
                            .entityReference(EntityReference(logicalName: "organization", id: organizationId))
                        ),
                        ("isdisabled", .boolean(false)),
                        ("azureactivedirectoryobjectid", .guid(.empty)),
                    ]
                )
            }
            for message in messages {
                try await insert(
                    "sdkmessage",
                    messageId(message),
                    [
                        ("name", .string(message)), ("categoryname", .string("")), ("isprivate", .boolean(false)),
                        ("isactive", .boolean(true)),
                    ]
                )
            }
            for table in catalog.all {
                try await insertFilters(for: table.logicalName, db: db)
            }
            return Platform.OrganizationInfo(
                id: organizationId,
                name: name,
                rootBusinessUnitId: unitId,
                systemUserId: systemUserId,
                administratorId: administratorId
            )
        }
    }

    /// The message filters of a table (one per message), in the caller's transaction.
    static func insertFilters(for table: String, db: any SQLDatabase) async throws {
        for message in messages {
            var statement = SQLStatement(
                "INSERT INTO sdkmessagefilter (sdkmessagefilterid, name, sdkmessageid, sdkmessageid__type, primaryobjecttypecode, secondaryobjecttypecode, statecode, statuscode, versionnumber) VALUES ("
            )
            statement.bind(filterId(message: message, entity: table).description)
            statement.append(", ")
            statement.bind(message + " " + table)
            statement.append(", ")
            statement.bind(messageId(message).description)
            statement.append(", 'sdkmessage', ")
            statement.bind(table)
            statement.append(", 'none', 0, 1, 1)")
            try await db.run(statement)
        }
    }
}

extension DotNetDateTime {
    /// The current instant, UTC, with millisecond precision (what Dataverse stores).
    public static func now() -> DotNetDateTime {
        let milliseconds = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
        return DotNetDateTime(unixMilliseconds: milliseconds, kind: .utc)!
    }
}

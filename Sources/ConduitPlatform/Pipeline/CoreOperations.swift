import ConduitContext
import ConduitStore
import Foundation
import SQLKit
import Synchronization

/// The core operation of each message (stage 30), in the pipeline's transaction.
struct CoreOperations {
    let platform: Platform
    let db: any SQLDatabase
    let caller: Caller

    struct Outcome {
        var response: OrganizationResponse
        var preImage: Entity?
        var postImage: Entity?
    }

    var records: RecordStore { platform.records }

    func execute(
        _ request: inout OrganizationRequest,
        needsImages: (pre: Bool, post: Bool),
        pipeline: PipelineRun
    )
        async throws -> Outcome
    {
        if request.primaryEntity.name == "asyncoperation" || request.requestName == Self.retryNowMessage,
            let outcome = try await manageJob(request)
        {
            return outcome
        }
        switch request.requestName {
        case "Create": return try await create(&request, postImage: needsImages.post)
        case "Update": return try await update(&request, needsImages: needsImages)
        case "Delete": return try await delete(request)
        case "Retrieve": return try await retrieve(request)
        case "RetrieveMultiple": return try await retrieveMultiple(request)
        case "Upsert": return try await upsert(request)
        case "SetState": return try await setState(request, needsImages: needsImages)
        case "Assign": return try await assign(request, needsImages: needsImages)
        case "Associate", "Disassociate": return try await associate(request)
        default: return try await custom(request)
        }
    }

    // MARK: - Create

    private func create(_ request: inout OrganizationRequest, postImage: Bool) async throws -> Outcome {
        guard case .entity(var target)? = request.parameters["Target"] else {
            throw PlatformError(.invalidArgument, "Create needs a Target entity.")
        }
        let table = try platform.metadata.require(target.logicalName ?? "")
        try validateClientColumns(target, table: table, message: "Create")
        try await platform.applyRules(
            table: table.logicalName,
            target: &target,
            current: nil,
            message: "Create",
            db: db
        )
        var id = target.id
        if case .guid(let given)? = target.attributes[table.primaryIdAttribute] { id = given }
        if id == .empty { id = Guid.random() }
        target.id = id
        let now = DotNetDateTime.now()
        let user = EntityReference(logicalName: "systemuser", id: caller.userId)
        var added: [(String, ContextValue)] = [(table.primaryIdAttribute, .guid(id))]
        added += computedNames(table: table, merged: target.attributes)
        added += [
            ("createdon", .dateTime(now)), ("createdby", .entityReference(user)), ("modifiedon", .dateTime(now)),
            ("modifiedby", .entityReference(user)), ("createdonbehalfby", .null), ("modifiedonbehalfby", .null),
        ]
        if target.attributes["ownerid"] == nil { added.append(("ownerid", .entityReference(user))) }
        var state: Int32 = 0
        if case .optionSetValue(let option)? = target.attributes["statecode"] { state = option.value }
        if target.attributes["statecode"] == nil { added.append(("statecode", .optionSetValue(OptionSetValue(0)))) }
        if target.attributes["statuscode"] == nil, let status = table.defaultStatus(forState: state) {
            added.append(("statuscode", .optionSetValue(OptionSetValue(status))))
        }
        added.append(("versionnumber", .long(1)))
        for (name, value) in added where target.attributes[name] == nil {
            target.attributes.append(key: name, value: value)
        }
        do {
            try await records.insert(try columns(of: target, table: table), into: table, db: db)
        } catch let error as PlatformError {
            throw error
        } catch {
            if UniqueViolation.matches(error) {
                throw PlatformError(
                    .duplicateRecord,
                    "A record with the id \(id) already exists in '\(table.logicalName)'."
                )
            }
            throw error
        }
        request.parameters["Target"] = .entity(target)
        // The row is what was just written: no need to read it back.
        let image = postImage ? ColumnStorage.row(id: id, table: table, current: nil, changes: target.attributes) : nil
        return Outcome(response: OrganizationResponse("Create", results: [("id", .guid(id))]), postImage: image)
    }

    // MARK: - Update

    private func update(
        _ request: inout OrganizationRequest,
        needsImages: (pre: Bool, post: Bool)
    ) async throws
        -> Outcome
    {
        guard case .entity(var target)? = request.parameters["Target"] else {
            throw PlatformError(.invalidArgument, "Update needs a Target entity.")
        }
        let table = try platform.metadata.require(target.logicalName ?? "")
        if target.id == .empty, case .guid(let given)? = target.attributes[table.primaryIdAttribute] {
            target.id = given
        }
        let current = try await existing(target.id, table: table)
        try checkVersion(request, rowVersion: target.rowVersion, current: current, table: table)
        try validateClientColumns(target, table: table, message: "Update")
        try await platform.applyRules(
            table: table.logicalName,
            target: &target,
            current: current,
            message: "Update",
            db: db
        )
        var merged = current.attributes
        for entry in target.attributes.entries { merged[entry.key] = entry.value }
        let version = Self.version(of: current)
        let user = EntityReference(logicalName: "systemuser", id: caller.userId)
        var added: [(String, ContextValue)] = [(table.primaryIdAttribute, .guid(target.id))]
        if target.attributes.keys.contains(where: { $0 == "firstname" || $0 == "lastname" }) {
            added += computedNames(table: table, merged: merged, force: true)
        }
        added += [
            ("modifiedon", .dateTime(DotNetDateTime.now())), ("modifiedby", .entityReference(user)),
            ("modifiedonbehalfby", .null),
        ]
        for (name, value) in added where target.attributes[name] == nil {
            target.attributes.append(key: name, value: value)
        }
        var values = try columns(of: target, table: table).filter { !$0.0.isPrimaryId }
        if let versionColumn = table.attribute("versionnumber") { values.append((versionColumn, .long(version + 1))) }
        guard try await records.update(id: target.id, values, expectedVersion: version, in: table, db: db) else {
            throw PlatformError(
                .concurrencyVersionMismatch,
                "The \(table.logicalName) \(target.id) was changed by someone else while it was being updated. Try again."
            )
        }
        request.parameters["Target"] = .entity(target)
        var changes = target.attributes
        changes["versionnumber"] = .long(version + 1)
        let post =
            needsImages.post ? ColumnStorage.row(id: target.id, table: table, current: current, changes: changes) : nil
        return Outcome(response: OrganizationResponse("Update"), preImage: current, postImage: post)
    }

    // MARK: - Delete

    private func delete(_ request: OrganizationRequest) async throws -> Outcome {
        guard case .entityReference(let target)? = request.parameters["Target"] else {
            throw PlatformError(.invalidArgument, "Delete needs a Target entity reference.")
        }
        let table = try platform.metadata.require(target.logicalName ?? "")
        let current = try await existing(target.id, table: table)
        try checkVersion(request, rowVersion: target.rowVersion, current: current, table: table)
        if table.logicalName == "pluginassembly" || table.logicalName == "plugintype" {
            try await PluginAssemblyRules.beforeDelete(
                table: table.logicalName,
                id: target.id,
                current: current,
                db: db
            )
        }
        if table.logicalName == "sdkmessageprocessingstep" {
            var statement = SQLStatement(
                "DELETE FROM sdkmessageprocessingstepimage WHERE sdkmessageprocessingstepid = "
            )
            statement.bind(target.id.description)
            try await db.run(statement)
        }
        if table.logicalName == "serviceendpoint" {
            // `serviceendpoint_sdkmessageprocessingstep` cascades: the endpoint's steps and their images go too.
            var images = SQLStatement(
                "DELETE FROM sdkmessageprocessingstepimage WHERE sdkmessageprocessingstepid IN (SELECT sdkmessageprocessingstepid FROM sdkmessageprocessingstep WHERE eventhandler = "
            )
            images.bind(target.id.description)
            images.append(")")
            try await db.run(images)
            var steps = SQLStatement("DELETE FROM sdkmessageprocessingstep WHERE eventhandler = ")
            steps.bind(target.id.description)
            try await db.run(steps)
        }
        // A deleted row leaves every many-to-many relationship it was in.
        for relationship in platform.metadata.manyToMany(involving: table.logicalName) {
            var statement = SQLStatement("DELETE FROM ")
            statement.identifier(relationship.intersectEntityName)
            statement.append(" WHERE ")
            statement.identifier(relationship.entity1IntersectAttribute)
            statement.append(" = ")
            statement.bind(target.id.description)
            statement.append(" OR ")
            statement.identifier(relationship.entity2IntersectAttribute)
            statement.append(" = ")
            statement.bind(target.id.description)
            try await db.run(statement)
        }
        _ = try await records.delete(id: target.id, from: table, db: db)
        return Outcome(response: OrganizationResponse("Delete"), preImage: current)
    }

    // MARK: - Reads

    private func retrieve(_ request: OrganizationRequest) async throws -> Outcome {
        guard case .entityReference(let target)? = request.parameters["Target"] else {
            throw PlatformError(.invalidArgument, "Retrieve needs a Target entity reference.")
        }
        let table = try platform.metadata.require(target.logicalName ?? "")
        let columns = try attributes(request.columnSet ?? .all, table: table)
        guard var entity = try await records.fetch(id: target.id, columns: columns, from: table, db: db) else {
            throw Self.notFound(table, target.id)
        }
        decorate(&entity, table: table)
        return Outcome(response: OrganizationResponse("Retrieve", results: [("Entity", .entity(entity))]))
    }

    private func retrieveMultiple(_ request: OrganizationRequest) async throws -> Outcome {
        guard let query = request.query else {
            throw PlatformError(.invalidArgument, "RetrieveMultiple needs a Query.")
        }
        let table = try platform.metadata.require(query.entityName)
        let columns = try attributes(query.columnSet, table: table)
        let result = try await records.query(query, columns: columns, in: table, db: db)
        var entities = result.entities
        for index in entities.indices { decorate(&entities[index], table: table) }
        let collection = EntityCollection(
            entities: entities,
            entityName: table.logicalName,
            moreRecords: result.moreRecords,
            totalRecordCount: Int32(clamping: result.totalCount ?? -1)
        )
        return Outcome(
            response: OrganizationResponse(
                "RetrieveMultiple",
                results: [("EntityCollection", .entityCollection(collection))]
            )
        )
    }

    // MARK: - Upsert, SetState, Assign

    private func upsert(_ request: OrganizationRequest) async throws -> Outcome {
        guard case .entity(let target)? = request.parameters["Target"] else {
            throw PlatformError(.invalidArgument, "Upsert needs a Target entity.")
        }
        let table = try platform.metadata.require(target.logicalName ?? "")
        var exists = false
        if target.id != .empty {
            exists = try await records.fetch(id: target.id, columns: [], from: table, db: db) != nil
        }
        var nested = caller
        nested.transaction = db
        let inner: OrganizationRequest = exists ? .update(target) : .create(target)
        let response = try await EventPipeline(platform: platform).execute(inner, caller: nested)
        var id = target.id
        if case .guid(let created)? = response.results["id"] { id = created }
        return Outcome(
            response: OrganizationResponse(
                "Upsert",
                results: [
                    ("RecordCreated", .boolean(!exists)),
                    ("Target", .entityReference(EntityReference(logicalName: table.logicalName, id: id))),
                ]
            )
        )
    }

    private func setState(_ request: OrganizationRequest, needsImages: (pre: Bool, post: Bool)) async throws -> Outcome
    {
        guard case .entityReference(let target)? = request.parameters["EntityMoniker"],
            case .optionSetValue(let state)? = request.parameters["State"],
            case .optionSetValue(let status)? = request.parameters["Status"]
        else {
            throw PlatformError(.invalidArgument, "SetState needs EntityMoniker, State and Status.")
        }
        let table = try platform.metadata.require(target.logicalName ?? "")
        let statusValue = status.value == -1 ? (table.defaultStatus(forState: state.value) ?? -1) : status.value
        if let option = table.attribute("statuscode")?.options.first(where: { $0.value == statusValue }),
            option.state != nil, option.state != state.value
        {
            throw PlatformError(
                .invalidArgument,
                "\(statusValue) is not a valid status code for state code \(state.value) on \(table.logicalName)."
            )
        }
        return try await change(
            target,
            table: table,
            name: "SetState",
            [("statecode", .optionSetValue(state)), ("statuscode", .optionSetValue(OptionSetValue(statusValue)))],
            needsImages: needsImages
        )
    }

    private func assign(_ request: OrganizationRequest, needsImages: (pre: Bool, post: Bool)) async throws -> Outcome {
        guard case .entityReference(let target)? = request.parameters["Target"],
            case .entityReference(let assignee)? = request.parameters["Assignee"]
        else {
            throw PlatformError(.invalidArgument, "Assign needs Target and Assignee.")
        }
        let table = try platform.metadata.require(target.logicalName ?? "")
        guard try await platform.users.user(assignee.id, db: db) != nil else {
            throw PlatformError(.objectDoesNotExist, "The user \(assignee.id) does not exist.")
        }
        return try await change(
            target,
            table: table,
            name: "Assign",
            [("ownerid", .entityReference(assignee))],
            needsImages: needsImages
        )
    }

    /// Writes a few columns of an existing row (SetState, Assign), stamping modifiedon/modifiedby/versionnumber.
    private func change(
        _ target: EntityReference,
        table: EntityMetadata,
        name: String,
        _ changes: [(String, ContextValue)],
        needsImages: (pre: Bool, post: Bool)
    ) async throws -> Outcome {
        let current = try await existing(target.id, table: table)
        let version = Self.version(of: current)
        var all = changes
        all += [
            ("modifiedon", .dateTime(DotNetDateTime.now())),
            ("modifiedby", .entityReference(EntityReference(logicalName: "systemuser", id: caller.userId))),
            ("versionnumber", .long(version + 1)),
        ]
        let values = all.compactMap { name, value in table.attribute(name).map { ($0, value) } }
        guard try await records.update(id: target.id, values, expectedVersion: version, in: table, db: db) else {
            throw PlatformError(
                .concurrencyVersionMismatch,
                "The \(table.logicalName) \(target.id) was changed meanwhile."
            )
        }
        let post = needsImages.post ? try await records.fetch(id: target.id, columns: nil, from: table, db: db) : nil
        return Outcome(response: OrganizationResponse(name), preImage: current, postImage: post)
    }

    // MARK: - Associate, Disassociate

    /// Sets (or clears) the lookups of the related rows of a one-to-many relationship.
    private func associate(_ request: OrganizationRequest) async throws -> Outcome {
        let name = request.requestName
        guard case .entityReference(let target)? = request.parameters["Target"],
            let schemaName = SDKShapes.relationshipName(request.parameters["Relationship"]),
            case .entityReferenceCollection(let related)? = request.parameters["RelatedEntities"]
        else {
            throw PlatformError(.invalidArgument, "\(name) needs Target, Relationship and RelatedEntities.")
        }
        if let relationship = platform.metadata.manyToMany(schemaName) {
            return try await associate(relationship, target: target, related: related, name: name)
        }
        guard let relationship = platform.metadata.relationship(schemaName) else {
            throw PlatformError(.invalidArgument, "There is no relationship named '\(schemaName)'.")
        }
        // The rows whose lookup changes, and the row they point at.
        let pairs: [(row: EntityReference, referenced: EntityReference)]
        if target.logicalName == relationship.referencedEntity {
            pairs = related.map { ($0, target) }
        } else if target.logicalName == relationship.referencingEntity, related.count == 1 {
            pairs = [(target, related[0])]
        } else {
            throw PlatformError(
                .invalidArgument,
                "'\(schemaName)' relates \(relationship.referencingEntity) rows to a \(relationship.referencedEntity); the Target is a \(target.logicalName ?? "?")."
            )
        }
        let table = try platform.metadata.require(relationship.referencingEntity)
        for pair in pairs {
            guard pair.row.logicalName == relationship.referencingEntity,
                pair.referenced.logicalName == relationship.referencedEntity
            else {
                throw PlatformError(.invalidArgument, "A related row of '\(schemaName)' is of the wrong table.")
            }
            var value: ContextValue = .entityReference(pair.referenced)
            if name == "Disassociate" {
                let current = try await existing(pair.row.id, table: table)
                guard case .entityReference(let pointing)? = current.attributes[relationship.referencingAttribute],
                    pointing.id == pair.referenced.id
                else { continue }
                value = .null
            }
            _ = try await change(
                pair.row,
                table: table,
                name: name,
                [(relationship.referencingAttribute, value)],
                needsImages: (false, false)
            )
        }
        return Outcome(response: OrganizationResponse(name))
    }

    /// Adds (or removes) rows of a many-to-many relationship's intersect table: one per related row.
    private func associate(
        _ relationship: ManyToManyRelationshipMetadata,
        target: EntityReference,
        related: [EntityReference],
        name: String
    ) async throws -> Outcome {
        let targetTable = try platform.metadata.require(target.logicalName ?? "")
        _ = try await existing(target.id, table: targetTable)
        let (own, other, otherTable) = relationship.columns(from: targetTable.logicalName)
        let selfReferencing = relationship.entity1LogicalName == relationship.entity2LogicalName
        for item in related {
            guard relationship.relates(targetTable.logicalName, item.logicalName ?? ""),
                item.logicalName == otherTable
            else {
                throw PlatformError(
                    .invalidArgument,
                    "'\(relationship.schemaName)' relates \(relationship.entity1LogicalName) and \(relationship.entity2LogicalName) rows; it cannot relate a \(targetTable.logicalName) to a \(item.logicalName ?? "row without a table")."
                )
            }
            _ = try await existing(item.id, table: try platform.metadata.require(otherTable))
            var pair = Self.pairCondition(own, target.id, other, item.id)
            if selfReferencing {
                pair.append(" OR ")
                pair.append(Self.pairCondition(own, item.id, other, target.id))
            }
            if name == "Disassociate" {
                var delete = SQLStatement("DELETE FROM ")
                delete.identifier(relationship.intersectEntityName)
                delete.append(" WHERE ")
                delete.append(pair)
                try await db.run(delete)
                continue
            }
            var check = SQLStatement("SELECT COUNT(*) AS n FROM ")
            check.identifier(relationship.intersectEntityName)
            check.append(" WHERE ")
            check.append(pair)
            let count = try await db.rows(check).first.map { try $0.decode(column: "n", as: Int.self) } ?? 0
            guard count == 0 else {
                throw PlatformError(
                    .duplicateRecord,
                    "Cannot insert duplicate key: the \(targetTable.logicalName) \(target.id) and the \(otherTable) \(item.id) are already associated through '\(relationship.schemaName)'."
                )
            }
            var insert = SQLStatement("INSERT INTO ")
            insert.identifier(relationship.intersectEntityName)
            insert.append(" (")
            insert.identifiers([relationship.intersectEntityName + "id", own, other, "versionnumber"])
            insert.append(") VALUES (")
            insert.bind(Guid.random().description)
            insert.append(", ")
            insert.bind(target.id.description)
            insert.append(", ")
            insert.bind(item.id.description)
            insert.append(", ")
            insert.bind(Int64(1))
            insert.append(")")
            try await db.run(insert)
        }
        return Outcome(response: OrganizationResponse(name))
    }

    /// `("a" = ? AND "b" = ?)`: one row of an intersect table.
    private static func pairCondition(
        _ first: String,
        _ firstId: Guid,
        _ second: String,
        _ secondId: Guid
    )
        -> SQLStatement
    {
        var condition = SQLStatement("(")
        condition.identifier(first)
        condition.append(" = ")
        condition.bind(firstId.description)
        condition.append(" AND ")
        condition.identifier(second)
        condition.append(" = ")
        condition.bind(secondId.description)
        condition.append(")")
        return condition
    }

    // MARK: - Custom messages

    private func custom(_ request: OrganizationRequest) async throws -> Outcome {
        guard let handler = platform.customMessages.withLock({ $0[request.requestName] }) else {
            throw PlatformError(
                .messageNotSupported,
                "The message '\(request.requestName)' does not exist in this organization."
            )
        }
        var nested = caller
        nested.transaction = db
        nested.depth += 1
        let services = PluginServices(platform: platform, caller: nested)
        let results = try await handler(request, services)
        return Outcome(response: OrganizationResponse(request.requestName, results: results))
    }

    // MARK: - Helpers

    private func existing(_ id: Guid, table: EntityMetadata) async throws -> Entity {
        guard let row = try await records.fetch(id: id, columns: nil, from: table, db: db) else {
            throw Self.notFound(table, id)
        }
        return row
    }

    static func notFound(_ table: EntityMetadata, _ id: Guid) -> PlatformError {
        PlatformError(.objectDoesNotExist, "\(table.logicalName) With Id = \(id) Does Not Exist")
    }

    static func version(of row: Entity) -> Int64 {
        if case .long(let version)? = row.attributes["versionnumber"] { return version }
        return 0
    }

    private func checkVersion(
        _ request: OrganizationRequest,
        rowVersion: String?,
        current: Entity,
        table: EntityMetadata
    ) throws(PlatformError) {
        guard case .int(1)? = request.parameters["ConcurrencyBehavior"] else { return }
        guard let rowVersion, let expected = Int64(rowVersion) else {
            throw PlatformError(
                .invalidArgument,
                "ConcurrencyBehavior IfRowVersionMatches needs the RowVersion of the \(table.logicalName)."
            )
        }
        guard expected == Self.version(of: current) else {
            throw PlatformError(
                .concurrencyVersionMismatch,
                "The version of the existing record doesn't match the RowVersion property provided (\(rowVersion); the \(table.logicalName) is at \(Self.version(of: current)))."
            )
        }
    }

    /// Every column a client sent must exist and be writable.
    private func validateClientColumns(_ target: Entity, table: EntityMetadata, message: String) throws(PlatformError) {
        for name in target.attributes.keys {
            guard let attribute = table.attribute(name) else {
                throw PlatformError(
                    .attributeDoesNotExist,
                    "'\(table.logicalName)' entity doesn't contain attribute with Name = '\(name)'."
                )
            }
            if attribute.isReadOnly {
                throw PlatformError(
                    .invalidArgument,
                    "The column '\(name)' of '\(table.logicalName)' is set by the platform and cannot be written by \(message)."
                )
            }
        }
    }

    /// `fullname` (and `yomifullname`) of contacts and users, from first and last name.
    private func computedNames(
        table: EntityMetadata,
        merged: ParameterCollection,
        force: Bool = false
    )
        -> [(String, ContextValue)]
    {
        guard table.logicalName == "contact" || table.logicalName == "systemuser" else { return [] }
        guard force || merged["fullname"] == nil else { return [] }
        let parts = ["firstname", "lastname"].compactMap { name -> String? in
            if case .string(let text)? = merged[name], !text.isEmpty { return text }
            return nil
        }
        guard !parts.isEmpty else { return [] }
        let fullName = ContextValue.string(parts.joined(separator: " "))
        return table.logicalName == "contact"
            ? [("fullname", fullName), ("yomifullname", fullName)] : [("fullname", fullName)]
    }

    /// The (column, value) pairs to store for an entity's attributes (unknown `…onbehalfby` nulls skipped).
    private func columns(of entity: Entity, table: EntityMetadata) throws -> [(AttributeMetadata, ContextValue)] {
        try entity.attributes.entries.map { entry in
            guard let attribute = table.attribute(entry.key) else {
                throw PlatformError(
                    .attributeDoesNotExist,
                    "'\(table.logicalName)' entity doesn't contain attribute with Name = '\(entry.key)'."
                )
            }
            return (attribute, entry.value)
        }
    }

    private func attributes(_ columns: ColumnSet, table: EntityMetadata) throws(PlatformError) -> [AttributeMetadata] {
        switch columns {
        case .all:
            return table.attributes.filter(\.isValidForRead)
        case .columns(let names):
            var result: [AttributeMetadata] = []
            for name in names {
                guard let attribute = table.attribute(name) else {
                    throw PlatformError(
                        .attributeDoesNotExist,
                        "'\(table.logicalName)' entity doesn't contain attribute with Name = '\(name)'."
                    )
                }
                guard attribute.isValidForRead else {
                    throw PlatformError(
                        .invalidArgument,
                        "The column '\(name)' of '\(table.logicalName)' is a secret: it can be written but never read."
                    )
                }
                if !attribute.isPrimaryId { result.append(attribute) }
            }
            // The row version always comes along: it is the row's ETag.
            if !names.contains("versionnumber"), let version = table.attribute("versionnumber") {
                result.append(version)
            }
            return result
        }
    }

    /// Row version and formatted values, as Retrieve returns them.
    private func decorate(_ entity: inout Entity, table: EntityMetadata) {
        if case .long(let version)? = entity.attributes["versionnumber"] { entity.rowVersion = String(version) }
        for entry in entity.attributes.entries {
            guard let attribute = table.attribute(entry.key) else { continue }
            switch entry.value {
            case .optionSetValue(let option):
                if let label = attribute.label(of: option.value) {
                    entity.formattedValues.append(key: entry.key, value: label)
                }
            case .boolean(let flag):
                entity.formattedValues.append(key: entry.key, value: flag ? "Yes" : "No")
            default:
                break
            }
        }
    }
}

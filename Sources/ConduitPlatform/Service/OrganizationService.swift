import ConduitContext
import ConduitStore
import SQLKit
import Synchronization

/// Who is calling the organization service, and from where in the pipeline.
struct Caller: Sendable {
    /// The user the operation runs as (`UserId`).
    var userId: Guid
    /// The user who started it (`InitiatingUserId`).
    var initiatingUserId: Guid
    /// 1 for a call from outside; +1 for each call a plug-in makes.
    var depth: Int32
    /// Shared by every operation a request causes.
    var correlationId: Guid?
    /// The open transaction of the calling plug-in, which nested operations join.
    var transaction: (any SQLDatabase)?
    /// The calling plug-in's context (the nested operation's `ParentContext`).
    var parent: RemoteExecutionContext?
    /// The client's user agent (`InitiatingUserAgent`).
    var userAgent: String?
    /// What the outermost operation's transaction wrote, shared with the operations nested in it.
    var notes: TransactionNotes? = nil
    /// The W3C trace context of the request that started it (`traceparent`), carried to the posted messages.
    var traceparent: String? = nil
}

/// What one transaction of the pipeline wrote that matters after the commit.
final class TransactionNotes: Sendable {
    private let jobCount = Atomic<Int>(0)

    /// System jobs written so far.
    var jobs: Int { jobCount.load(ordering: .relaxed) }

    /// Counts a job; returns whether it is the transaction's first.
    @discardableResult
    func jobWritten() -> Bool {
        jobCount.add(1, ordering: .relaxed).oldValue == 0
    }
}

/// The organization service (the SDK's `IOrganizationService`): every request runs through the event pipeline as
/// its user.
public struct OrganizationService: Sendable {
    let platform: Platform
    var caller: Caller

    /// The user this service runs as.
    public var userId: Guid { caller.userId }

    /// Runs a request through the event pipeline.
    public func execute(_ request: OrganizationRequest) async throws -> OrganizationResponse {
        try await EventPipeline(platform: platform).execute(request, caller: caller)
    }

    /// The same service with the client's W3C `traceparent` (ignored unless well-formed): system jobs keep it and the
    /// messages they post carry it (`Diagnostic-Id`, `traceparent`), so a listener can continue the trace.
    public func withTraceparent(_ traceparent: String?) -> OrganizationService {
        var copy = self
        copy.caller.traceparent = traceparent.flatMap(Self.validTraceparent)
        return copy
    }

    /// `00-<32 hex>-<16 hex>-<2 hex>` (read as ``W3CTraceContext`` reads it, after lowering its case), in lower case,
    /// or `nil`.
    static func validTraceparent(_ text: String) -> String? {
        let lowered = text.lowercased()
        return W3CTraceContext(traceparent: lowered) == nil ? nil : lowered
    }

    /// The same service with the client's user agent, for `InitiatingUserAgent`.
    public func withUserAgent(_ userAgent: String?) -> OrganizationService {
        var copy = self
        copy.caller.userAgent = userAgent
        return copy
    }

    /// Creates a row; returns its id.
    public func create(_ entity: Entity) async throws -> Guid {
        let response = try await execute(.create(entity))
        guard case .guid(let id)? = response.results["id"] else {
            throw PlatformError(.unexpected, "Create returned no id.")
        }
        return id
    }

    /// Reads a row.
    /// - Throws: `PlatformError` `objectDoesNotExist` when there is none.
    public func retrieve(_ reference: EntityReference, columns: ColumnSet = .all) async throws -> Entity {
        let response = try await execute(.retrieve(reference, columns: columns))
        guard case .entity(let entity)? = response.results["Entity"] else {
            throw PlatformError(.unexpected, "Retrieve returned no entity.")
        }
        return entity
    }

    /// Reads a row, or `nil` when there is none.
    public func retrieveIfExists(_ reference: EntityReference, columns: ColumnSet = .all) async throws -> Entity? {
        do {
            return try await retrieve(reference, columns: columns)
        } catch let error as PlatformError where error.code == .objectDoesNotExist {
            return nil
        }
    }

    /// Updates a row; with `ifVersion`, only if its `versionnumber` is still that.
    public func update(_ entity: Entity, ifVersion: Int64? = nil) async throws {
        _ = try await execute(.update(entity, ifVersion: ifVersion))
    }

    /// Deletes a row.
    public func delete(_ reference: EntityReference, ifVersion: Int64? = nil) async throws {
        _ = try await execute(.delete(reference, ifVersion: ifVersion))
    }

    /// The rows related to `target` through a relationship: for a one-to-many relationship, the rows whose lookup
    /// points at it; for a many-to-many one, the rows associated with it. `query` names the related table and may
    /// add columns, conditions, order and paging.
    public func retrieveRelated(
        _ target: EntityReference,
        relationship schemaName: String,
        query: QueryExpression
    ) async throws -> EntityCollection {
        var query = query
        if let relationship = platform.metadata.manyToMany(schemaName) {
            let (own, other, otherTable) = relationship.columns(from: target.logicalName ?? "")
            guard relationship.relates(target.logicalName ?? "", query.entityName), otherTable == query.entityName
            else {
                throw PlatformError(
                    .invalidArgument,
                    "'\(schemaName)' relates \(relationship.entity1LogicalName) and \(relationship.entity2LogicalName) rows, not \(target.logicalName ?? "?") and \(query.entityName) rows."
                )
            }
            let table = try platform.metadata.require(otherTable)
            var statement = SQLStatement("SELECT ")
            statement.identifier(other)
            statement.append(" AS id FROM ")
            statement.identifier(relationship.intersectEntityName)
            statement.append(" WHERE ")
            statement.identifier(own)
            statement.append(" = ")
            statement.bind(target.id.description)
            let read = statement
            let rows: [any SQLRow]
            if let transaction = caller.transaction {
                rows = try await transaction.rows(read)
            } else {
                rows = try await platform.store.withDatabase { db in try await db.rows(read) }
            }
            let ids = try rows.compactMap { Guid(try $0.decode(column: "id", as: String.self)) }
            query.criteria = FilterExpression(
                .and,
                conditions: [ConditionExpression(table.primaryIdAttribute, .in, ids.map { .guid($0) })],
                filters: query.criteria.isEmpty ? [] : [query.criteria]
            )
        } else if let relationship = platform.metadata.relationship(schemaName),
            relationship.referencedEntity == target.logicalName, relationship.referencingEntity == query.entityName
        {
            query.criteria = FilterExpression(
                .and,
                conditions: [
                    ConditionExpression(relationship.referencingAttribute, .equal, [.entityReference(target)])
                ],
                filters: query.criteria.isEmpty ? [] : [query.criteria]
            )
        } else {
            throw PlatformError(
                .invalidArgument,
                "There is no relationship named '\(schemaName)' from \(target.logicalName ?? "?") to \(query.entityName) rows."
            )
        }
        return try await retrieveMultiple(query)
    }

    /// Runs a query.
    public func retrieveMultiple(_ query: QueryExpression) async throws -> EntityCollection {
        let response = try await execute(.retrieveMultiple(query))
        guard case .entityCollection(let collection)? = response.results["EntityCollection"] else {
            throw PlatformError(.unexpected, "RetrieveMultiple returned no collection.")
        }
        return collection
    }

    /// Creates or updates a row by its id; returns whether it was created.
    @discardableResult
    public func upsert(_ entity: Entity) async throws -> Bool {
        let response = try await execute(.upsert(entity))
        if case .boolean(let created)? = response.results["RecordCreated"] { return created }
        return false
    }

    /// Sets a row's state and status.
    public func setState(_ reference: EntityReference, state: Int32, status: Int32) async throws {
        _ = try await execute(.setState(reference, state: state, status: status))
    }

    /// Gives a row to another user.
    public func assign(_ reference: EntityReference, to user: Guid) async throws {
        _ = try await execute(.assign(reference, to: EntityReference(logicalName: "systemuser", id: user)))
    }
}

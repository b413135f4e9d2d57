import ConduitContext

/// A request to the organization service (the SDK's `OrganizationRequest`): a message name and its parameters, as
/// the pipeline hands them to steps in `InputParameters`.
public struct OrganizationRequest: Sendable, Hashable {
    /// `Create`, `Update`, `Delete`, `Retrieve`, `RetrieveMultiple`, `Upsert`, `SetState`, `Assign` or a custom
    /// message's name.
    public var requestName: String
    /// The parameters (`Target`, `ColumnSet`, …).
    public var parameters: ParameterCollection
    /// The query of a `RetrieveMultiple` (kept typed; the pipeline shows it to steps as `Query`).
    public var query: QueryExpression?
    /// The columns of a `Retrieve`.
    public var columnSet: ColumnSet?
    /// An id for the request (`RequestId`), when the caller gives one.
    public var requestId: Guid?

    /// Creates a request.
    public init(
        _ requestName: String,
        parameters: ParameterCollection = [],
        query: QueryExpression? = nil,
        columnSet: ColumnSet? = nil,
        requestId: Guid? = nil
    ) {
        self.requestName = requestName
        self.parameters = parameters
        self.query = query
        self.columnSet = columnSet
        self.requestId = requestId
    }

    /// `Create` of `entity`.
    public static func create(_ entity: Entity) -> OrganizationRequest {
        OrganizationRequest("Create", parameters: [("Target", .entity(entity))])
    }

    /// `Update` of `entity` (its `id` names the row). With `ifVersion`, only when the row's `versionnumber` is still
    /// that (`ConcurrencyBehavior` IfRowVersionMatches).
    public static func update(_ entity: Entity, ifVersion: Int64? = nil) -> OrganizationRequest {
        var target = entity
        target.rowVersion = ifVersion.map(String.init) ?? target.rowVersion
        return OrganizationRequest("Update", parameters: targeted(.entity(target), ifVersion: ifVersion))
    }

    /// `Delete` of a row.
    public static func delete(_ reference: EntityReference, ifVersion: Int64? = nil) -> OrganizationRequest {
        var target = reference
        target.rowVersion = ifVersion.map(String.init) ?? target.rowVersion
        return OrganizationRequest("Delete", parameters: targeted(.entityReference(target), ifVersion: ifVersion))
    }

    /// `Target`, and `ConcurrencyBehavior` IfRowVersionMatches (1) when a version is asked for.
    private static func targeted(_ target: ContextValue, ifVersion: Int64?) -> ParameterCollection {
        var parameters: ParameterCollection = [("Target", target)]
        if ifVersion != nil { parameters.append(key: "ConcurrencyBehavior", value: .int(1)) }
        return parameters
    }

    /// `Retrieve` of a row.
    public static func retrieve(_ reference: EntityReference, columns: ColumnSet = .all) -> OrganizationRequest {
        OrganizationRequest("Retrieve", parameters: [("Target", .entityReference(reference))], columnSet: columns)
    }

    /// `RetrieveMultiple` of a query.
    public static func retrieveMultiple(_ query: QueryExpression) -> OrganizationRequest {
        OrganizationRequest("RetrieveMultiple", query: query)
    }

    /// `Upsert` of `entity` by its id.
    public static func upsert(_ entity: Entity) -> OrganizationRequest {
        OrganizationRequest("Upsert", parameters: [("Target", .entity(entity))])
    }

    /// `SetState` of a row.
    public static func setState(_ reference: EntityReference, state: Int32, status: Int32) -> OrganizationRequest {
        OrganizationRequest(
            "SetState",
            parameters: [
                ("EntityMoniker", .entityReference(reference)), ("State", .optionSetValue(OptionSetValue(state))),
                ("Status", .optionSetValue(OptionSetValue(status))),
            ]
        )
    }

    /// `Assign` of a row to a user.
    public static func assign(_ reference: EntityReference, to assignee: EntityReference) -> OrganizationRequest {
        OrganizationRequest(
            "Assign",
            parameters: [("Target", .entityReference(reference)), ("Assignee", .entityReference(assignee))]
        )
    }

    /// `Associate`: make `related` rows point at `target` through a one-to-many relationship.
    public static func associate(
        _ target: EntityReference,
        relationship: String,
        related: [EntityReference]
    )
        -> OrganizationRequest
    {
        OrganizationRequest(
            "Associate",
            parameters: [
                ("Target", .entityReference(target)),
                ("Relationship", .unknown(SDKShapes.relationship(relationship))),
                ("RelatedEntities", .entityReferenceCollection(related)),
            ]
        )
    }

    /// `Disassociate`: clear the lookups of `related` rows that point at `target`.
    public static func disassociate(
        _ target: EntityReference,
        relationship: String,
        related: [EntityReference]
    )
        -> OrganizationRequest
    {
        var request = associate(target, relationship: relationship, related: related)
        request.requestName = "Disassociate"
        return request
    }

    /// The table and row the request is about (`PrimaryEntityName`, `PrimaryEntityId`).
    var primaryEntity: (name: String, id: Guid) {
        switch parameters["Target"] ?? parameters["EntityMoniker"] {
        case .entity(let entity)?: return (entity.logicalName ?? "none", entity.id)
        case .entityReference(let reference)?: return (reference.logicalName ?? "none", reference.id)
        default: return (query?.entityName ?? "none", .empty)
        }
    }
}

/// The response of the organization service: the results as the pipeline shows them in `OutputParameters`.
public struct OrganizationResponse: Sendable, Hashable {
    public var responseName: String
    public var results: ParameterCollection

    public init(_ responseName: String, results: ParameterCollection = []) {
        self.responseName = responseName
        self.results = results
    }
}

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
        var parameters: ParameterCollection = []
        if let ifVersion {
            target.rowVersion = String(ifVersion)
            parameters.append(key: "ConcurrencyBehavior", value: .int(1))
        }
        parameters.entries.insert(KeyValuePair(key: "Target", value: .entity(target)), at: 0)
        return OrganizationRequest("Update", parameters: parameters)
    }

    /// `Delete` of a row.
    public static func delete(_ reference: EntityReference, ifVersion: Int64? = nil) -> OrganizationRequest {
        var target = reference
        var parameters: ParameterCollection = []
        if let ifVersion {
            target.rowVersion = String(ifVersion)
            parameters.append(key: "ConcurrencyBehavior", value: .int(1))
        }
        parameters.entries.insert(KeyValuePair(key: "Target", value: .entityReference(target)), at: 0)
        return OrganizationRequest("Delete", parameters: parameters)
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

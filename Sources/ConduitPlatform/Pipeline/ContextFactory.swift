import ConduitContext
import Foundation
import SQLKit

/// Builds the `RemoteExecutionContext` each step sees, as reference §1 describes it.
struct ContextFactory {
    let platform: Platform

    /// The parts of the context every step of one request shares.
    /// With `db` `nil`, only cached users are used, and `nil` is returned when one is not cached.
    func base(
        request: OrganizationRequest,
        caller: Caller,
        db: (any SQLDatabase)?
    ) async throws
        -> RemoteExecutionContext?
    {
        guard let user = try await platform.users.user(caller.userId, db: db) else { return nil }
        let initiating: UserDirectory.User
        if caller.initiatingUserId == caller.userId {
            initiating = user
        } else {
            guard let other = try await platform.users.user(caller.initiatingUserId, db: db) else { return nil }
            initiating = other
        }
        let primary = request.primaryEntity
        var context = RemoteExecutionContext()
        context.businessUnitId = user.businessUnitId
        context.correlationId = caller.correlationId ?? Guid.random()
        context.depth = caller.depth
        context.initiatingUserId = caller.initiatingUserId
        context.userId = caller.userId
        context.messageName = request.requestName
        context.mode = 0
        context.isolationMode = 1
        context.organizationId = platform.organization.id
        context.organizationName = platform.organization.name
        context.primaryEntityId = primary.id
        context.primaryEntityName = primary.name
        context.secondaryEntityName = "none"
        let requestId = request.requestId ?? Guid.random()
        context.requestId = requestId
        context.operationId = requestId
        context.operationCreatedOn = DotNetDateTime.now()
        context.parent = caller.parent
        context.inputParameters = Self.visibleParameters(request)
        if platform.contextMembers == .current {
            context.initiatingUserAgent = caller.userAgent ?? ""
            context.initiatingUserAzureActiveDirectoryObjectId = initiating.azureActiveDirectoryObjectId
            context.userAzureActiveDirectoryObjectId = user.azureActiveDirectoryObjectId
        }
        return context
    }

    /// The context of a synchronous step.
    func stepContext(
        run: PipelineRun,
        step: StepRegistration,
        stage: Int32,
        inTransaction: Bool
    )
        -> RemoteExecutionContext
    {
        var context = run.base
        context.stage = stage
        context.mode = 0
        context.isInTransaction = inTransaction
        context.owningExtension = EntityReference(logicalName: "sdkmessageprocessingstep", id: step.id, name: step.name)
        context.sharedVariables = run.sharedVariables
        context.inputParameters = Self.visibleParameters(run.request)
        if let user = step.impersonatingUserId { context.userId = user }
        if stage >= 20 { context.preEntityImages = Self.images(step, row: run.preImageRow, pre: true) }
        if stage == 40 {
            context.inputParameters = Self.postOperationParameters(context.inputParameters)
            context.outputParameters = run.response.results
            context.postEntityImages = Self.images(step, row: run.postImageRow, pre: false)
            context.parent = run.coreContext
        }
        return context
    }

    /// Parameters that steer the core operation only and that Dataverse leaves out of post-operation contexts (the
    /// captured 2017 context has `SuppressDuplicateDetection` in its stage-30 parent, not in the stage-40 context).
    static let coreOnlyParameters: Set<String> = ["SuppressDuplicateDetection"]

    /// The parameters a post-operation context shows.
    static func postOperationParameters(_ parameters: ParameterCollection) -> ParameterCollection {
        KeyedCollection(parameters.entries.filter { !coreOnlyParameters.contains($0.key) })
    }

    /// The images a step registered, taken from a row.
    static func images(_ step: StepRegistration, row: Entity?, pre: Bool) -> EntityImageCollection {
        guard let row else { return [] }
        var images: EntityImageCollection = []
        for image in step.images where pre ? image.isPre : image.isPost {
            images.append(key: image.alias, value: image.image(of: row))
        }
        return images
    }

    /// The parameters steps see: the request's, plus `ColumnSet` / `Query` for reads.
    static func visibleParameters(_ request: OrganizationRequest) -> ParameterCollection {
        var parameters = request.parameters
        if let columns = request.columnSet, parameters["ColumnSet"] == nil {
            parameters.append(key: "ColumnSet", value: SDKShapes.columnSet(columns))
        }
        if let query = request.query, parameters["Query"] == nil {
            parameters.append(key: "Query", value: SDKShapes.query(query))
        }
        return parameters
    }

    /// The request's parameters after a step changed them (the typed read parameters stay typed).
    static func requestParameters(
        from visible: ParameterCollection,
        original: ParameterCollection
    )
        -> ParameterCollection
    {
        KeyedCollection(
            visible.entries.filter { entry in
                !(entry.key == "ColumnSet" || entry.key == "Query") || original[entry.key] != nil
            }
        )
    }
}

/// The SDK's `ColumnSet` and `QueryExpression` as context values (their data-contract shapes).
enum SDKShapes {
    static func columnSet(_ columns: ColumnSet) -> ContextValue {
        let members: [ExtensionMember]
        switch columns {
        case .all:
            members = [
                ExtensionMember(name: "AllColumns", value: .boolean(true)),
                ExtensionMember(name: "Columns", value: .array([])),
            ]
        case .columns(let names):
            members = [
                ExtensionMember(name: "AllColumns", value: .boolean(false)),
                ExtensionMember(name: "Columns", value: .array(names.map { .string($0) })),
            ]
        }
        let type = ContractName(name: "ColumnSet", namespace: XMLNamespaces.contracts)
        return .unknown(UnknownValue(type: type, content: .object(type: type, members: members)))
    }

    /// The SDK's `Relationship` (PrimaryEntityRole, SchemaName) as a context value.
    static func relationship(_ schemaName: String) -> UnknownValue {
        let type = ContractName(name: "Relationship", namespace: XMLNamespaces.contracts)
        return UnknownValue(
            type: type,
            content: .object(
                type: type,
                members: [
                    ExtensionMember(name: "PrimaryEntityRole", value: .null),
                    ExtensionMember(name: "SchemaName", value: .string(schemaName)),
                ]
            )
        )
    }

    /// The schema name in a `Relationship` parameter.
    static func relationshipName(_ value: ContextValue?) -> String? {
        guard case .unknown(let unknown)? = value, case .object(_, let members) = unknown.content,
            case .string(let name)? = members.first(where: { $0.name == "SchemaName" })?.value
        else { return nil }
        return name
    }

    static func query(_ query: QueryExpression) -> ContextValue {
        let type = ContractName(name: "QueryExpression", namespace: XMLNamespaces.contracts)
        var members: [ExtensionMember] = []
        if case .unknown(let columns) = columnSet(query.columnSet) {
            members.append(ExtensionMember(name: "ColumnSet", value: columns.content))
        }
        members.append(ExtensionMember(name: "EntityName", value: .string(query.entityName)))
        members.append(ExtensionMember(name: "TopCount", value: query.topCount.map { .number(String($0)) } ?? .null))
        return .unknown(UnknownValue(type: type, content: .object(type: type, members: members)))
    }
}

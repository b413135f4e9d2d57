import ConduitContext
import Foundation
import SQLKit

/// Writes the system job (`asyncoperation`) of an asynchronous step, in the operation's transaction: state Ready
/// (0/0), `operationtype` 1 (System Event; 10 Workflow for a workflow's step), `owningextensionid` the step, `data` the step's execution context as
/// JSON. The context's `OperationId` and `OperationCreatedOn` are the job's id and `createdon`.
struct AsyncJobWriter {
    let platform: Platform
    let db: any SQLDatabase

    func write(step: StepRegistration, run: PipelineRun) async throws {
        let table = try platform.metadata.require("asyncoperation")
        let jobId = Guid.random()
        let createdOn = DotNetDateTime.now()
        // The platform writes the job's createdon as a local time of its zone, as Dataverse does ("+0000" on UTC).
        var operationCreatedOn = createdOn
        operationCreatedOn.kind = .local(offsetMinutes: TimeZone.current.secondsFromGMT() / 60)

        var context = run.base
        context.stage = step.stage
        context.mode = 1
        context.isInTransaction = false
        context.requestId = nil
        context.operationId = jobId
        context.operationCreatedOn = operationCreatedOn
        context.owningExtension = EntityReference(logicalName: "sdkmessageprocessingstep", id: step.id)
        context.inputParameters = ContextFactory.postOperationParameters(ContextFactory.visibleParameters(run.request))
        context.outputParameters = run.response.results
        context.sharedVariables = run.sharedVariables
        if let user = step.impersonatingUserId { context.userId = user }
        context.preEntityImages = ContextFactory.images(step, row: run.preImageRow, pre: true)
        context.postEntityImages = ContextFactory.images(step, row: run.postImageRow, pre: false)
        if let row = run.postImageRow, let entity = platform.metadata.entity(row.logicalName ?? "") {
            context.postEntityImages.append(key: "AsynchronousStepPrimaryName", value: Self.primaryName(row, entity))
        }
        if var parent = run.coreContext {
            parent.mode = 1
            parent.isInTransaction = false
            parent.requestId = nil
            parent.operationId = jobId
            parent.operationCreatedOn = operationCreatedOn
            parent.owningExtension = context.owningExtension
            context.parent = parent
        }
        let data = String(decoding: ContextCodec.encode(context, format: .json), as: UTF8.self)
        let user = EntityReference(logicalName: "systemuser", id: context.userId)
        let regarding = EntityReference(logicalName: context.primaryEntityName, id: context.primaryEntityId)
        // A workflow's job: operationtype 10, with the workflow it runs.
        let workflow =
            step.pluginTypeName == WorkflowRunner.typeName
            ? step.configuration.flatMap { Guid($0) }.map { EntityReference(logicalName: "workflow", id: $0) } : nil
        let values: [(String, ContextValue)] = [
            ("asyncoperationid", .guid(jobId)),
            ("name", .string(step.name)),
            ("operationtype", .optionSetValue(OptionSetValue(workflow == nil ? 1 : 10))),
            ("workflowactivationid", workflow.map { .entityReference($0) } ?? .null),
            ("messagename", .string(context.messageName ?? "")),
            ("primaryentitytype", .string(context.primaryEntityName ?? "")),
            ("regardingobjectid", .entityReference(regarding)),
            (
                "owningextensionid",
                .entityReference(EntityReference(logicalName: "sdkmessageprocessingstep", id: step.id))
            ),
            ("correlationid", .guid(context.correlationId)),
            ("depth", .int(context.depth)),
            ("requestid", run.base.requestId.map { .guid($0) } ?? .null),
            ("data", .string(data)),
            ("retrycount", .int(0)),
            ("sequence", .long(try await platform.nextJobSequence(db: db))),
            ("createdon", .dateTime(createdOn)), ("modifiedon", .dateTime(createdOn)),
            ("createdby", .entityReference(user)), ("modifiedby", .entityReference(user)),
            ("ownerid", .entityReference(user)),
            ("statecode", .optionSetValue(OptionSetValue(0))), ("statuscode", .optionSetValue(OptionSetValue(0))),
            ("versionnumber", .long(1)),
            ("conduit_traceparent", run.caller.traceparent.map { .string($0) } ?? .null),
        ]
        let pairs = values.compactMap { name, value in table.attribute(name).map { ($0, value) } }
        try await platform.records.insert(pairs, into: table, db: db)
    }

    /// The `AsynchronousStepPrimaryName` image: the primary name and the primary key.
    static func primaryName(_ row: Entity, _ entity: EntityMetadata) -> Entity {
        var image = Entity(logicalName: entity.logicalName, id: row.id)
        if let name = row.attributes[entity.primaryNameAttribute] {
            image.attributes.append(key: entity.primaryNameAttribute, value: name)
        }
        image.attributes.append(key: entity.primaryIdAttribute, value: .guid(row.id))
        return image
    }
}

import ConduitContext
import ConduitStore
import Foundation
import SQLKit
import Tracing

/// Runs one organization-service request through the event pipeline: stage 10 (outside the transaction for a call
/// from outside), then in one transaction stage 20, the core operation (30), stage 40, and a system job row for every
/// asynchronous step. A thrown error anywhere rolls the transaction back: the change and its jobs commit together or
/// not at all.
struct EventPipeline {
    let platform: Platform

    /// Tables whose rows are step registrations: a change to them reloads the steps.
    static let registrationTables: Set<String> = [
        "sdkmessageprocessingstep", "sdkmessageprocessingstepimage", "plugintype", "sdkmessagefilter", "sdkmessage",
        "serviceendpoint", "pluginassembly",
    ]

    func execute(_ request: OrganizationRequest, caller: Caller) async throws -> OrganizationResponse {
        // A span per operation, continuing the caller's trace; the jobs and messages it writes continue this span.
        try await TraceSpans.run(
            "\(request.requestName) \(request.primaryEntity.name)",
            kind: .internal,
            continuing: caller.traceparent,
            tracer: platform.tracer
        ) { span, traceparent in
            span.attributes["conduit.message"] = request.requestName
            span.attributes["conduit.table"] = request.primaryEntity.name
            span.attributes["conduit.depth"] = Int(caller.depth)
            var caller = caller
            caller.traceparent = traceparent
            return try await run(request, caller: caller)
        }
    }

    private func run(_ request: OrganizationRequest, caller: Caller) async throws -> OrganizationResponse {
        guard caller.depth <= Platform.maximumDepth else {
            throw PlatformError(
                .infiniteLoop,
                "This operation was stopped because it nested \(caller.depth) calls deep (the limit is \(Platform.maximumDepth)): a plug-in or step is calling the organization service in a loop."
            )
        }
        let primary = request.primaryEntity
        if primary.name != "none" {
            _ = try platform.metadata.require(primary.name)
        }
        var request = request
        // An Update's Target carries its key as a column too, as the Web API and the platform give it to every stage.
        if request.requestName == "Update", case .entity(var target)? = request.parameters["Target"],
            target.id != .empty,
            let table = platform.metadata.entity(target.logicalName ?? ""),
            target.attributes[table.primaryIdAttribute] == nil
        {
            target.attributes.append(key: table.primaryIdAttribute, value: .guid(target.id))
            request.parameters["Target"] = .entity(target)
        }
        var caller = caller
        if caller.transaction == nil { caller.notes = TransactionNotes() }
        var run = PipelineRun(platform: platform, request: request, caller: caller)
        if let transaction = caller.transaction {
            try await run.prepare(db: transaction)
            try await run.runStage(10, db: transaction)
            try await run.runInTransaction(db: transaction)
        } else {
            if !(try await run.prepareFromCaches()) {
                let unprepared = run
                run = try await platform.store.withDatabase { db in
                    var prepared = unprepared
                    try await prepared.prepare(db: db)
                    return prepared
                }
            }
            // Pre-validation runs before the transaction starts, as in Dataverse.
            try await run.runStage(10, db: nil)
            let prepared = run
            run = try await platform.store.transaction { db in
                var inner = prepared
                try await inner.runInTransaction(db: db)
                FaultInjection.beforeCommit(message: inner.request.requestName)
                return inner
            }
            // New system jobs are committed: wake the asynchronous service now rather than at its next poll.
            if let notes = caller.notes, notes.jobs > 0 { platform.jobWake.signal() }
            if caller.notes?.jobs ?? 0 > 0 || primary.name == "asyncoperation" { platform.jobChanges.signal() }
        }
        // A write to users or step registrations makes the caches reload them.
        if request.requestName != "Retrieve" && request.requestName != "RetrieveMultiple" {
            if primary.name == "systemuser" { platform.users.invalidate() }
            if Self.registrationTables.contains(primary.name) {
                platform.steps.invalidate()
                platform.registrationsChanged()
            }
        }
        return run.response
    }
}

/// The state of one request going through the pipeline.
struct PipelineRun: Sendable {
    let platform: Platform
    var request: OrganizationRequest
    let caller: Caller
    var response = OrganizationResponse("")
    var steps: [StepRegistration] = []
    var base = RemoteExecutionContext()
    var sharedVariables: ParameterCollection = []
    /// The context of the core operation (stage 30): the `ParentContext` of stage-40 steps.
    var coreContext: RemoteExecutionContext?
    var preImageRow: Entity?
    var postImageRow: Entity?

    init(platform: Platform, request: OrganizationRequest, caller: Caller) {
        self.platform = platform
        self.request = request
        self.caller = caller
    }

    /// Loads the steps and the caller's identity, and builds the base context.
    /// Prepares from the step and user caches alone; `false` when the database is needed.
    mutating func prepareFromCaches() async throws -> Bool {
        let primary = request.primaryEntity
        guard let cached = platform.steps.cachedSteps(message: request.requestName, entity: primary.name),
            let context = try await ContextFactory(platform: platform).base(request: request, caller: caller, db: nil)
        else { return false }
        steps = cached
        base = context
        return true
    }

    mutating func prepare(db: any SQLDatabase) async throws {
        let primary = request.primaryEntity
        steps = try await platform.steps.steps(message: request.requestName, entity: primary.name, db: db)
        guard let context = try await ContextFactory(platform: platform).base(request: request, caller: caller, db: db)
        else { throw PlatformError(.unexpected, "The caller's user could not be read.") }
        base = context
    }

    mutating func runInTransaction(db: any SQLDatabase) async throws {
        try await runStage(20, db: db)
        let core = CoreOperations(platform: platform, db: db, caller: caller)
        var coreRequest = request
        let outcome = try await core.execute(&coreRequest, needsImages: needsImages, pipeline: self)
        preImageRow = outcome.preImage
        postImageRow = outcome.postImage
        response = outcome.response
        var context30 = base
        context30.stage = 30
        context30.inputParameters = ContextFactory.visibleParameters(request)
        context30.sharedVariables = [
            (
                "ChangedEntityTypes",
                .array(
                    ContextArray(
                        itemType: .anyType,
                        items: [
                            .keyValuePair(KeyValuePair(key: base.primaryEntityName ?? "", value: request.requestName))
                        ]
                    )
                )
            )
        ]
        if case .guid(let id)? = response.results["id"] { context30.primaryEntityId = id }
        coreContext = context30
        base.primaryEntityId = context30.primaryEntityId
        request = coreRequest
        try await runStage(40, db: db)
        try await writeJobs(db: db)
    }

    /// Whether any step needs a pre-image, a post-image, or the asynchronous steps' primary-name image.
    var needsImages: (pre: Bool, post: Bool) {
        let relevant = steps.filter(isTriggered)
        let pre = relevant.contains { $0.images.contains(where: \.isPre) }
        let post = relevant.contains { $0.isAsynchronous || $0.images.contains(where: \.isPost) }
        return (pre, post)
    }

    func isTriggered(_ step: StepRegistration) -> Bool {
        guard request.requestName == "Update", case .entity(let target)? = request.parameters["Target"] else {
            return true
        }
        return step.isTriggered(byUpdateOf: target.attributes.keys)
    }

    /// Runs the synchronous steps of a stage, in rank order.
    mutating func runStage(_ stage: Int32, db: (any SQLDatabase)?) async throws {
        for step in steps where step.stage == stage && !step.isAsynchronous && isTriggered(step) {
            var context = ContextFactory(platform: platform).stepContext(
                run: self,
                step: step,
                stage: stage,
                inTransaction: db != nil
            )
            try await invoke(step, context: &context, db: db)
            sharedVariables = context.sharedVariables
            if stage < 30 {
                request.parameters = ContextFactory.requestParameters(
                    from: context.inputParameters,
                    original: request.parameters
                )
            } else {
                response.results = context.outputParameters
            }
        }
    }

    private func invoke(
        _ step: StepRegistration,
        context: inout RemoteExecutionContext,
        db: (any SQLDatabase)?
    ) async throws {
        let services = PluginServices(
            platform: platform,
            caller: Caller(
                userId: context.userId,
                initiatingUserId: caller.initiatingUserId,
                depth: context.depth + 1,
                correlationId: context.correlationId,
                transaction: db,
                parent: context,
                userAgent: caller.userAgent,
                notes: caller.notes,
                traceparent: caller.traceparent
            )
        )
        if let endpoint = step.serviceEndpoint {
            // The out-of-box service-endpoint plug-in, synchronously: a failed post fails the operation.
            do {
                try await services.notificationService.execute(endpoint, context: context)
                return
            } catch let error as PlatformError {
                throw error
            } catch {
                throw PlatformError(
                    .pluginFailed,
                    "The step '\(step.name)' could not post the context to service endpoint \(endpoint.id), so the operation was rolled back: \(error)"
                )
            }
        }
        let typeName = step.pluginTypeName ?? ""
        guard let plugin = try await platform.plugin(for: step, db: db) else {
            let handler = step.eventHandler.map { "\($0.logicalName ?? "?") \($0.id)" } ?? "none"
            throw PlatformError(
                .pluginFailed,
                "The step '\(step.name)' runs synchronously, but its handler (\(handler)) is neither a plug-in type compiled into this server nor one of an uploaded plug-in assembly."
            )
        }
        do {
            try await plugin.execute(&context, services: services)
        } catch {
            var failure: PlatformError
            switch error {
            case let error as PlatformError: failure = error
            case let error as InvalidPluginExecutionError: failure = PlatformError(.pluginFailed, error.message)
            default:
                failure = PlatformError(
                    .pluginFailed,
                    "Unexpected error from plug-in '\(typeName)' in step '\(step.name)': \(error)"
                )
            }
            let lines = services.tracing.text
            if failure.traceText == nil, !lines.isEmpty {
                // As Dataverse writes it: the plug-in, the step, then the lines.
                failure.traceText =
                    "\r\n[\(typeName)]\r\n[\(step.id): \(step.name)]\r\n\r\n" + lines.joined(separator: "\r\n") + "\r\n"
            }
            throw failure
        }
    }

    /// One `asyncoperation` row per asynchronous step, in the caller's transaction.
    private func writeJobs(db: any SQLDatabase) async throws {
        for step in steps where step.isAsynchronous && isTriggered(step) {
            try await AsyncJobWriter(platform: platform, db: db).write(step: step, run: self)
            try await platform.jobWritten(caller.notes, db: db)
        }
    }
}

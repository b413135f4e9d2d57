import ConduitContext
import Synchronization
import Tracing

/// Runs one claimed system job: decodes its execution context, finds its step's plug-in and runs it, as the step's
/// user, within the execution budget. Says how the run ended; never throws.
struct JobExecutor: Sendable {
    let platform: Platform
    let timeout: Duration

    /// The step the job belongs to (for its plug-in, configuration and `asyncautodelete`); `nil` when it is
    /// disabled or deleted.
    /// - Throws: when the steps cannot be read (the job then waits and retries rather than failing).
    func step(of job: ClaimedJob) async throws -> StepRegistration? {
        guard let id = job.stepId else { return nil }
        return try await platform.steps.step(id: id, store: platform.store)
    }

    /// Runs the job: how the run ended, and the answer of a two-way or REST relay listener (kept on the job).
    func run(_ job: ClaimedJob, step: StepRegistration?) async -> (outcome: JobRunOutcome, answer: String?) {
        // A span per run, continuing the trace of the operation that wrote the job (`conduit_traceparent`).
        await TraceSpans.run(
            "system job \(job.name)",
            kind: .consumer,
            continuing: job.traceparent,
            tracer: platform.tracer
        ) { span, traceparent in
            span.attributes["conduit.job.id"] = job.id.description
            span.attributes["conduit.job.retry_count"] = job.retryCount
            if let step = job.stepId { span.attributes["conduit.step.id"] = step.description }
            var job = job
            job.traceparent = traceparent
            let answer = Mutex<String?>(nil)
            let outcome = await run(job, step: step) { text in answer.withLock { $0 = text } }
            switch outcome {
            case .succeeded: span.setStatus(SpanStatus(code: .ok))
            case .externalFailure(let error), .internalFailure(let error):
                span.setStatus(SpanStatus(code: .error, message: error.message))
            }
            return (outcome, answer.withLock { $0 })
        }
    }

    private func run(
        _ job: ClaimedJob,
        step: StepRegistration?,
        answered: @escaping @Sendable (String?) -> Void
    ) async -> JobRunOutcome {
        guard let data = job.data, !data.isEmpty else {
            return .internalFailure(Self.error(.unexpected, "The system job '\(job.name)' has no execution context."))
        }
        let context: RemoteExecutionContext
        do {
            context = try ContextCodec.decode(Array(data.utf8), format: .json)
        } catch {
            return .internalFailure(
                Self.error(.unexpected, "The execution context of the system job cannot be read: \(error).")
            )
        }
        guard let step else {
            return .internalFailure(
                Self.error(
                    .pluginFailed,
                    "The step of the system job '\(job.name)' (\(job.stepId?.description ?? "none")) is disabled or was deleted, so its job cannot run.",
                    friendly: "Enable or re-register the step, then retry the job."
                )
            )
        }
        let caller = Caller(
            userId: context.userId,
            initiatingUserId: context.initiatingUserId,
            depth: context.depth + 1,
            correlationId: context.correlationId,
            transaction: nil,
            parent: context,
            userAgent: context.initiatingUserAgent,
            traceparent: job.traceparent
        )
        let handlerName: String
        let body: @Sendable () async throws -> Void
        if let endpoint = step.serviceEndpoint {
            // The out-of-box service-endpoint plug-in: one message id per job, so retries collapse at the bus.
            let platform = self.platform
            handlerName = "service endpoint \(endpoint.id)"
            body = {
                let answer = try await platform.notificationService().execute(
                    endpoint,
                    context: context,
                    transaction: nil,
                    messageId: context.operationId.description,
                    traceparent: caller.traceparent
                )
                answered(answer)
            }
        } else if let typeName = step.pluginTypeName,
            step.runsInSandbox || platform.plugins.factory(typeName) != nil
        {
            let services = PluginServices(platform: platform, caller: caller)
            handlerName = "plug-in '\(typeName)'"
            body = {
                var context = context
                guard let plugin = try await platform.plugin(for: step, db: nil) else {
                    throw PlatformError(.pluginFailed, "The plug-in type '\(typeName)' is no longer registered.")
                }
                do {
                    try await plugin.execute(&context, services: services)
                } catch {
                    throw Self.withTrace(error, services.tracing.text)
                }
            }
        } else {
            let handler = step.eventHandler.map { "\($0.logicalName ?? "?") \($0.id)" } ?? "none"
            return .internalFailure(
                Self.error(
                    .pluginFailed,
                    "The step '\(step.name)' has a handler (\(handler)) that is neither a service endpoint nor a plug-in type compiled into this server."
                )
            )
        }
        let timeout = self.timeout
        let stepName = step.name
        return await withTaskGroup(of: JobRunOutcome?.self) { group in
            group.addTask {
                do {
                    try await body()
                    return .succeeded
                } catch let error as ExternalServiceError {
                    return .externalFailure(
                        JobError(
                            code: Int32(bitPattern: error.code.value),
                            message: error.message,
                            friendlyMessage: error.friendlyMessage
                        )
                    )
                } catch let error as InvalidPluginExecutionError {
                    return .internalFailure(Self.error(.pluginFailed, error.message))
                } catch let error as PlatformError {
                    return .internalFailure(Self.error(error.code, error.message))
                } catch is CancellationError {
                    return nil
                } catch {
                    return .internalFailure(
                        Self.error(
                            .pluginFailed,
                            "Unexpected error from \(handlerName) in step '\(stepName)': \(error)"
                        )
                    )
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            if let first { return first }
            if Task.isCancelled {
                return .externalFailure(
                    Self.error(
                        .unexpected,
                        "The run was interrupted because the server is shutting down; it will run again."
                    )
                )
            }
            return .externalFailure(
                Self.error(
                    .unexpected,
                    "The \(handlerName) in step '\(stepName)' did not finish within \(JobLifecycle.describe(timeout)).",
                    friendly: "The step took longer than its execution budget; it will be tried again."
                )
            )
        }
    }

    /// A plug-in's failure with the lines it traced (`ITracingService`), as Dataverse shows them in the job's
    /// message.
    static func withTrace(_ error: any Error, _ lines: [String]) -> any Error {
        guard !lines.isEmpty else { return error }
        let trace = "\n\nPlug-in trace:\n" + lines.joined(separator: "\n")
        switch error {
        case let error as InvalidPluginExecutionError: return InvalidPluginExecutionError(error.message + trace)
        case let error as PlatformError: return PlatformError(error.code, error.message + trace)
        default: return error
        }
    }

    static func error(_ code: PlatformError.Code, _ message: String, friendly: String? = nil) -> JobError {
        JobError(code: Int32(bitPattern: code.value), message: message, friendlyMessage: friendly)
    }
}

import ConduitContext

/// Runs one claimed system job: decodes its execution context, finds its step's plug-in and runs it, as the step's
/// user, within the execution budget. Says how the run ended; never throws.
struct JobExecutor: Sendable {
    let platform: Platform
    let timeout: Duration

    /// The step the job belongs to (for its plug-in, configuration and `asyncautodelete`).
    func step(of job: ClaimedJob) async -> StepRegistration? {
        guard let id = job.stepId else { return nil }
        return try? await platform.steps.step(id: id, store: platform.store)
    }

    func run(_ job: ClaimedJob, step: StepRegistration?) async -> JobRunOutcome {
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
        guard let typeName = step.pluginTypeName, let factory = platform.plugins.factory(typeName) else {
            let handler = step.eventHandler.map { "\($0.logicalName ?? "?") \($0.id)" } ?? "none"
            return .internalFailure(
                Self.error(
                    .pluginFailed,
                    "The step '\(step.name)' has a handler (\(handler)) that is not a plug-in type compiled into this server; posting to service endpoints is not built yet."
                )
            )
        }
        let services = PluginServices(
            organizationService: OrganizationService(
                platform: platform,
                caller: Caller(
                    userId: context.userId,
                    initiatingUserId: context.initiatingUserId,
                    depth: context.depth + 1,
                    correlationId: context.correlationId,
                    transaction: nil,
                    parent: context,
                    userAgent: context.initiatingUserAgent
                )
            ),
            tracing: TracingService()
        )
        let timeout = self.timeout
        let configuration = step.configuration
        let stepName = step.name
        return await withTaskGroup(of: JobRunOutcome?.self) { group in
            group.addTask {
                var context = context
                do {
                    let plugin = try factory(configuration, nil)
                    try await plugin.execute(&context, services: services)
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
                            "Unexpected error from plug-in '\(typeName)' in step '\(stepName)': \(error)"
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
                    "The plug-in '\(typeName)' in step '\(stepName)' did not finish within \(JobLifecycle.describe(timeout)).",
                    friendly: "The step took longer than its execution budget; it will be tried again."
                )
            )
        }
    }

    static func error(_ code: PlatformError.Code, _ message: String, friendly: String? = nil) -> JobError {
        JobError(code: Int32(bitPattern: code.value), message: message, friendlyMessage: friendly)
    }
}

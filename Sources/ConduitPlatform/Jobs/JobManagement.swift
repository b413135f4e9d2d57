import ConduitContext
import ConduitStore
import SQLKit

/// What people may do to system jobs through the organization service (and so the Web API): change `statecode`,
/// `statuscode` and `postponeuntil` along the legal transitions (cancel, pause, resume, postpone), retry now, and
/// delete jobs that are not running. Jobs are created only by the platform.
extension CoreOperations {
    /// The message that retries a Waiting or Failed job now (`Target`: the job). On the Web API:
    /// `POST asyncoperations(<id>)/Microsoft.Dynamics.CRM.conduit_RetryNow`.
    static let retryNowMessage = "conduit_RetryNow"

    /// Handles a request on `asyncoperation`, or returns `nil` for one that needs no special rule (reads).
    func manageJob(_ request: OrganizationRequest) async throws -> Outcome? {
        let name = request.requestName
        switch name {
        case "Create", "Upsert":
            throw PlatformError(
                .invalidArgument,
                "System jobs are created by the platform (for asynchronous steps); they cannot be created with \(name)."
            )
        case "Update":
            guard case .entity(let target)? = request.parameters["Target"] else {
                throw PlatformError(.invalidArgument, "Update needs a Target entity.")
            }
            let allowed: Set<String> = ["statecode", "statuscode", "postponeuntil", "asyncoperationid"]
            if let other = target.attributes.keys.first(where: { !allowed.contains($0) }) {
                throw PlatformError(
                    .invalidArgument,
                    "Only statecode, statuscode and postponeuntil can be updated on a system job, not '\(other)'."
                )
            }
            var postpone: Int64?
            switch target.attributes["postponeuntil"] {
            case .dateTime(let date)?: postpone = date.ticks
            case nil, .null?: postpone = nil
            default: throw PlatformError(.invalidArgument, "postponeuntil must be a date and time.")
            }
            let action = try JobLifecycle.action(
                stateCode: target.attributes["statecode"]?.optionValue,
                statusCode: target.attributes["statuscode"]?.optionValue,
                postponeUntil: postpone
            )
            try await applyJobAction(action, to: target.id)
            return Outcome(response: OrganizationResponse(name))
        case "SetState":
            guard case .entityReference(let target)? = request.parameters["EntityMoniker"],
                case .optionSetValue(let state)? = request.parameters["State"]
            else { throw PlatformError(.invalidArgument, "SetState needs EntityMoniker and State.") }
            var status: Int32?
            if case .optionSetValue(let value)? = request.parameters["Status"], value.value != -1 {
                status = value.value
            }
            let action = try JobLifecycle.action(stateCode: state.value, statusCode: status, postponeUntil: nil)
            try await applyJobAction(action, to: target.id)
            return Outcome(response: OrganizationResponse(name))
        case Self.retryNowMessage:
            guard case .entityReference(let target)? = request.parameters["Target"] else {
                throw PlatformError(.invalidArgument, "\(name) needs the system job as its Target.")
            }
            try await applyJobAction(.retryNow, to: target.id)
            return Outcome(response: OrganizationResponse(name))
        case "Delete":
            guard case .entityReference(let target)? = request.parameters["Target"] else { return nil }
            let job = try await jobSnapshot(target.id)
            guard job.status.stateCode != 2 else {
                throw PlatformError(
                    .invalidArgument,
                    "The system job is \(job.status); cancel it and wait for it to stop before deleting it."
                )
            }
            return nil
        default:
            return nil
        }
    }

    private func applyJobAction(_ action: JobAction, to id: Guid) async throws {
        let job = try await jobSnapshot(id)
        let change = try JobLifecycle.apply(action, to: job)
        try await JobQueue.write(change, to: id, db: db, now: DotNetDateTime.now().ticks)
        // A job made runnable now: wake the workers after the commit.
        if change.status == .waitingForResources { try await platform.jobWritten(caller.notes, db: db) }
    }

    private func jobSnapshot(_ id: Guid) async throws -> JobLifecycle.Snapshot {
        guard let current = try await JobQueue.current(id, db: db, lock: platform.store.flavor == .postgres) else {
            throw Self.notFound(try platform.metadata.require("asyncoperation"), id)
        }
        guard let snapshot = current.snapshot else {
            throw PlatformError(.unexpected, "The system job \(id) has an unknown statuscode \(current.statusCode).")
        }
        return snapshot
    }
}

/// Why a run failed, in the words the job keeps: `errorcode`, `message` (technical) and `friendlymessage` (what a
/// person can do about it).
public struct JobError: Sendable, Hashable {
    public var code: Int32
    public var message: String
    public var friendlyMessage: String

    public init(code: Int32, message: String, friendlyMessage: String? = nil) {
        self.code = code
        self.message = message
        self.friendlyMessage = friendlyMessage ?? message
    }
}

/// How one run of a job ended.
public enum JobRunOutcome: Sendable, Hashable {
    case succeeded
    /// The work failed for a reason outside Conduit (network, remote bus, timeout): try again later.
    case externalFailure(JobError)
    /// The work cannot succeed by trying again (bad configuration, serialization, a payload too large): fail now.
    case internalFailure(JobError)
}

/// A change a person asks for (Web API `PATCH`, console, `conduit jobs`), as Dataverse allows them, plus retry now.
public enum JobAction: Sendable, Hashable {
    /// From Ready, Waiting or In Progress: Canceled (a running job becomes Canceling, then Canceled).
    case cancel
    /// From Ready or In Progress: Waiting with no retry time, until resumed (a running job becomes Pausing first).
    case pause
    /// From Waiting: Ready now.
    case resume
    /// From Ready, Waiting or In Progress: not before this time (.NET ticks, UTC).
    case postpone(until: Int64)
    /// From Waiting or Failed: Ready now (Conduit's addition).
    case retryNow
}

/// The rules of a system job's life as pure functions: what a run's outcome, or a person's action, makes of a job.
/// Times are .NET ticks (UTC), as the `asyncoperation` columns hold them.
public enum JobLifecycle {
    /// What the store knows about a job when a run ends or an action arrives.
    public struct Snapshot: Sendable, Hashable {
        public var status: JobStatus
        public var retryCount: Int
        /// `createdon`: the retry policy's give-up time counts from here.
        public var createdOn: Int64
        public var postponeUntil: Int64?

        public init(status: JobStatus, retryCount: Int, createdOn: Int64, postponeUntil: Int64? = nil) {
            self.status = status
            self.retryCount = retryCount
            self.createdOn = createdOn
            self.postponeUntil = postponeUntil
        }
    }

    /// The columns a transition writes.
    public struct Change: Sendable, Hashable {
        public var status: JobStatus
        public var retryCount: Int
        public var postponeUntil: Int64?
        public var error: JobError?
        /// Set when the job completes (state 3).
        public var completedOn: Int64?
    }

    public static let ticksPerSecond: Int64 = 10_000_000

    /// What a finished run makes of a job. `random` is a number in [0, 1) for the retry delay's jitter.
    public static func finish(
        _ job: Snapshot,
        outcome: JobRunOutcome,
        policy: RetryPolicy,
        now: Int64,
        random: Double
    ) -> Change {
        switch outcome {
        case .succeeded:
            return Change(status: .succeeded, retryCount: job.retryCount, postponeUntil: nil, completedOn: now)
        case .internalFailure(let error):
            let status: JobStatus = job.status == .canceling ? .canceled : .failed
            return Change(
                status: status,
                retryCount: job.retryCount,
                postponeUntil: nil,
                error: error,
                completedOn: now
            )
        case .externalFailure(let error):
            let retry = job.retryCount + 1
            switch job.status {
            case .canceling:
                return Change(status: .canceled, retryCount: retry, postponeUntil: nil, error: error, completedOn: now)
            case .pausing:
                return Change(status: .waiting, retryCount: retry, postponeUntil: nil, error: error)
            default:
                let delay = ticks(policy.delay(forRetry: retry, random: random))
                var next = now + delay
                if let postponed = job.postponeUntil, postponed > next { next = postponed }
                guard next - job.createdOn <= ticks(policy.giveUpAfter) else {
                    let elapsed = Duration.milliseconds((now - job.createdOn) / 10_000)
                    var failed = error
                    failed.friendlyMessage =
                        "Gave up after \(retry) attempts over \(describe(elapsed)) (the retry policy allows \(describe(policy.giveUpAfter))). Last error: \(error.friendlyMessage)"
                    return Change(
                        status: .failed,
                        retryCount: retry,
                        postponeUntil: nil,
                        error: failed,
                        completedOn: now
                    )
                }
                return Change(status: .waiting, retryCount: retry, postponeUntil: next, error: error)
            }
        }
    }

    /// What a person's action makes of a job, or why it is not allowed (the message says what is).
    public static func apply(_ action: JobAction, to job: Snapshot) throws(PlatformError) -> Change {
        var change = Change(status: job.status, retryCount: job.retryCount, postponeUntil: job.postponeUntil)
        func refuse(_ what: String, allowed: String) -> PlatformError {
            PlatformError(
                .invalidArgument,
                "A system job that is \(job.status) cannot be \(what); only \(allowed) jobs can."
            )
        }
        switch action {
        case .cancel:
            switch job.status.stateCode {
            case 0, 1: change.status = .canceled
            case 2: change.status = .canceling
            default: throw refuse("canceled", allowed: "Ready, Waiting or In Progress")
            }
            if change.status == .canceled { change.postponeUntil = nil }
        case .pause:
            switch job.status {
            case .waitingForResources:
                change.status = .waiting
                change.postponeUntil = nil
            case .inProgress, .pausing: change.status = .pausing
            default: throw refuse("paused", allowed: "Ready or In Progress")
            }
        case .resume:
            guard job.status == .waiting else { throw refuse("resumed", allowed: "Waiting") }
            change.status = .waitingForResources
            change.postponeUntil = nil
        case .postpone(let until):
            guard job.status.stateCode <= 2, job.status != .canceling else {
                throw refuse("postponed", allowed: "Ready, Waiting or In Progress")
            }
            change.postponeUntil = until
        case .retryNow:
            guard job.status == .waiting || job.status == .failed else {
                throw refuse("retried", allowed: "Waiting or Failed")
            }
            change.status = .waitingForResources
            change.postponeUntil = nil
        }
        return change
    }

    /// The action a Web API `PATCH` of `statecode`, `statuscode` and `postponeuntil` asks for, as Dataverse reads it:
    /// Completed/Canceled → cancel; Suspended → pause; Ready → resume; a `postponeuntil` alone → postpone.
    public static func action(
        stateCode: Int32?,
        statusCode: Int32?,
        postponeUntil: Int64?
    ) throws(PlatformError) -> JobAction {
        switch (stateCode, statusCode) {
        case (nil, nil):
            guard let postponeUntil else {
                throw PlatformError(
                    .invalidArgument,
                    "Only statecode, statuscode and postponeuntil can be updated on a system job."
                )
            }
            return .postpone(until: postponeUntil)
        case (3, nil), (3, 32), (nil, 32): return .cancel
        case (1, nil), (1, 10), (nil, 10): return .pause
        case (0, nil), (0, 0), (nil, 0): return .resume
        default:
            throw PlatformError(
                .invalidArgument,
                "A system job can be set to statecode 3/statuscode 32 (cancel), 1/10 (pause) or 0/0 (resume), or given a postponeuntil; not statecode \(stateCode.map(String.init) ?? "unchanged")/statuscode \(statusCode.map(String.init) ?? "unchanged")."
            )
        }
    }

    static func ticks(_ duration: Duration) -> Int64 {
        let parts = duration.components
        return parts.seconds * ticksPerSecond + parts.attoseconds / 100_000_000_000
    }

    /// "24 h", "1 h 30 min", "90 s", "250 ms".
    static func describe(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        guard seconds > 0 else { return "\(duration.components.attoseconds / 1_000_000_000_000_000) ms" }
        guard seconds >= 60 else { return "\(seconds) s" }
        let hours = seconds / 3600
        let minutes = seconds % 3600 / 60
        switch (hours, minutes) {
        case (0, _): return "\(minutes) min"
        case (_, 0): return "\(hours) h"
        default: return "\(hours) h \(minutes) min"
        }
    }
}

/// A system job's `statecode`/`statuscode` pair, with Dataverse's values (reference §7).
public enum JobStatus: Int32, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// 0/0 Ready, Waiting For Resources: ready to run (once `postponeuntil`, if set, has passed).
    case waitingForResources = 0
    /// 1/10 Suspended, Waiting: waiting to retry until `postponeuntil`, or paused by a person (no `postponeuntil`).
    case waiting = 10
    /// 2/20 Locked, In Progress: a worker holds it.
    case inProgress = 20
    /// 2/21 Locked, Pausing: a person paused it while it ran; it becomes Waiting when the run ends.
    case pausing = 21
    /// 2/22 Locked, Canceling: a person canceled it while it ran; it becomes Canceled when the run ends.
    case canceling = 22
    /// 3/30 Completed, Succeeded.
    case succeeded = 30
    /// 3/31 Completed, Failed.
    case failed = 31
    /// 3/32 Completed, Canceled.
    case canceled = 32

    /// The `statuscode`.
    public var statusCode: Int32 { rawValue }

    /// The `statecode`: 0 Ready, 1 Suspended, 2 Locked, 3 Completed.
    public var stateCode: Int32 {
        switch self {
        case .waitingForResources: 0
        case .waiting: 1
        case .inProgress, .pausing, .canceling: 2
        case .succeeded, .failed, .canceled: 3
        }
    }

    /// Whether the job is over (state 3, Completed).
    public var isCompleted: Bool { stateCode == 3 }

    /// The pair for a `statuscode`, if it is one of the eight.
    public init?(statusCode: Int32) { self.init(rawValue: statusCode) }

    public var description: String {
        switch self {
        case .waitingForResources: "Waiting For Resources"
        case .waiting: "Waiting"
        case .inProgress: "In Progress"
        case .pausing: "Pausing"
        case .canceling: "Canceling"
        case .succeeded: "Succeeded"
        case .failed: "Failed"
        case .canceled: "Canceled"
        }
    }
}

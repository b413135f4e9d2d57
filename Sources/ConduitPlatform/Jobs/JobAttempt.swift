import Foundation

/// One run of a system job as its run history (`asyncoperation.conduit_attempts`) keeps it: a JSON line per run,
/// appended when the run's outcome is written.
public struct JobAttempt: Codable, Sendable, Hashable {
    /// When the run started (.NET ticks, UTC).
    public var startedOn: Int64
    /// When its outcome was written (.NET ticks, UTC).
    public var endedOn: Int64
    /// `succeeded`, `retry` (Waiting for a retry), `failed`, `canceled` or `paused`.
    public var outcome: String
    /// The error's `errorcode`, when the run failed.
    public var errorCode: Int32?
    /// The error's message (its first 2,000 characters), when the run failed.
    public var message: String?

    enum CodingKeys: String, CodingKey {
        case startedOn = "startedon"
        case endedOn = "endedon"
        case outcome
        case errorCode = "errorcode"
        case message
    }

    public init(startedOn: Int64, endedOn: Int64, outcome: String, errorCode: Int32? = nil, message: String? = nil) {
        self.startedOn = startedOn
        self.endedOn = endedOn
        self.outcome = outcome
        self.errorCode = errorCode
        self.message = message
    }

    /// The attempt a run that started at `startedOn` made of its job with `change`.
    init(startedOn: Int64, endedOn: Int64, change: JobLifecycle.Change) {
        let outcome: String
        switch change.status {
        case .succeeded: outcome = "succeeded"
        case .failed: outcome = "failed"
        case .canceled, .canceling: outcome = "canceled"
        case .waiting where change.postponeUntil == nil: outcome = "paused"
        default: outcome = "retry"
        }
        self.init(
            startedOn: startedOn,
            endedOn: endedOn,
            outcome: outcome,
            errorCode: change.status == .succeeded ? nil : change.error?.code,
            message: change.status == .succeeded ? nil : change.error.map { String($0.message.prefix(2_000)) }
        )
    }

    /// The line appended to the history.
    var line: String {
        let data = (try? Self.encoder.encode(self)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// One encoder for every run's line (the line is written on each job's outcome).
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The attempts of a history, oldest first; unreadable lines are skipped.
    public static func history(_ text: String?) -> [JobAttempt] {
        guard let text else { return [] }
        let decoder = JSONDecoder()
        return text.split(separator: "\n").compactMap { try? decoder.decode(JobAttempt.self, from: Data($0.utf8)) }
    }
}

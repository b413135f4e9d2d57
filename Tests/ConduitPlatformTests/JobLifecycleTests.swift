import ConduitPlatform
import ConduitTestSupport
import Testing

/// The system job rules as pure functions, with explicit times (no clock, no sleeping).
@Suite("system job lifecycle and retry policy")
struct JobLifecycleTests {
    static let second = JobLifecycle.ticksPerSecond
    static let created: Int64 = 638_000_000_000_000_000
    static let failure = JobError(
        code: -2_147_220_970,
        message: "connection refused",
        friendlyMessage: "The bus is down."
    )

    @Test("the eight statuses carry Dataverse's state and status codes")
    func statuses() {
        let pairs = JobStatus.allCases.map { ($0.stateCode, $0.statusCode) }
        #expect(pairs.map(\.0) == [0, 1, 2, 2, 2, 3, 3, 3])
        #expect(pairs.map(\.1) == [0, 10, 20, 21, 22, 30, 31, 32])
        #expect(JobStatus(statusCode: 31) == .failed)
        #expect(JobStatus(statusCode: 5) == nil)
        #expect(JobStatus.canceled.isCompleted && !JobStatus.waiting.isCompleted)
    }

    @Test("backoff bounds grow exponentially up to the cap; full jitter stays within [minimum, bound]")
    func backoff() throws {
        let policy = RetryPolicy.default
        let bounds = (1...12).map { policy.bound(forRetry: $0) }
        #expect(
            bounds.map { $0.components.seconds } == [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        )
        for retry in 1...12 {
            let low = policy.delay(forRetry: retry, random: 0)
            let high = policy.delay(forRetry: retry, random: 0.999_999)
            #expect(low == policy.minimumDelay)
            #expect(high <= policy.bound(forRetry: retry))
            #expect(high > policy.bound(forRetry: retry) - .milliseconds(10))
            let middle = policy.delay(forRetry: retry, random: 0.5)
            #expect(middle > low && middle < high)
        }
        // Many draws spread over the range (full jitter, not a fixed delay).
        var random = SeededRandom(seed: 7)
        let draws = (0..<1000).map { _ in policy.delay(forRetry: 3, random: Double.random(in: 0..<1, using: &random)) }
        #expect(draws.min()! < .seconds(3))
        #expect(draws.max()! > .seconds(17))
        #expect(draws.allSatisfy { $0 >= policy.minimumDelay && $0 <= .seconds(20) })
    }

    @Test("invalid policies are refused with the reason")
    func invalidPolicy() {
        var policy = RetryPolicy.default
        policy.multiplier = 0.5
        #expect(throws: PlatformError.self) { try policy.validate() }
        policy = .default
        policy.maximumDelay = .seconds(1)
        let error = #expect(throws: PlatformError.self) { try policy.validate() }
        #expect(error?.message.contains("maximum delay") == true)
        #expect(throws: Never.self) { try RetryPolicy.default.validate() }
    }

    @Test("a run's outcome: success, external failure (retry, then give up), internal failure")
    func finish() {
        let policy = RetryPolicy.default
        let job = JobLifecycle.Snapshot(status: .inProgress, retryCount: 0, createdOn: Self.created)
        let now = Self.created + 3 * Self.second

        let done = JobLifecycle.finish(job, outcome: .succeeded, policy: policy, now: now, random: 0.5)
        #expect(done.status == .succeeded && done.completedOn == now && done.error == nil)

        let retry = JobLifecycle.finish(
            job,
            outcome: .externalFailure(Self.failure),
            policy: policy,
            now: now,
            random: 1
        )
        #expect(retry.status == .waiting)
        #expect(retry.retryCount == 1)
        #expect(retry.postponeUntil == now + 5 * Self.second)
        #expect(retry.completedOn == nil)
        #expect(retry.error == Self.failure)

        // Growing waits: the bound doubles with each retry.
        var snapshot = job
        var waits: [Int64] = []
        var time = now
        for _ in 0..<6 {
            let change = JobLifecycle.finish(
                snapshot,
                outcome: .externalFailure(Self.failure),
                policy: policy,
                now: time,
                random: 0.999_999
            )
            waits.append(change.postponeUntil! - time)
            snapshot.retryCount = change.retryCount
            time = change.postponeUntil!
        }
        #expect(waits == waits.sorted() && Set(waits).count == 6)

        // Past the give-up time: Failed, saying why.
        let late = Self.created + 24 * 3600 * Self.second - 2 * Self.second
        let gaveUp = JobLifecycle.finish(
            JobLifecycle.Snapshot(status: .inProgress, retryCount: 40, createdOn: Self.created),
            outcome: .externalFailure(Self.failure),
            policy: policy,
            now: late,
            random: 0.5
        )
        #expect(gaveUp.status == .failed && gaveUp.retryCount == 41 && gaveUp.completedOn == late)
        #expect(gaveUp.error?.message == "connection refused")
        #expect(gaveUp.error?.friendlyMessage.hasPrefix("Gave up after 41 attempts over 23 h 59 min") == true)
        #expect(gaveUp.error?.friendlyMessage.hasSuffix("Last error: The bus is down.") == true)

        let broken = JobLifecycle.finish(
            job,
            outcome: .internalFailure(Self.failure),
            policy: policy,
            now: now,
            random: 0
        )
        #expect(broken.status == .failed && broken.retryCount == 0 && broken.completedOn == now)
    }

    @Test("a person's pause or cancel during a run takes effect when it ends")
    func pendingRequests() {
        let policy = RetryPolicy.default
        let now = Self.created + Self.second
        let canceling = JobLifecycle.Snapshot(status: .canceling, retryCount: 0, createdOn: Self.created)
        let pausing = JobLifecycle.Snapshot(status: .pausing, retryCount: 0, createdOn: Self.created)
        let external = JobRunOutcome.externalFailure(Self.failure)
        #expect(
            JobLifecycle.finish(canceling, outcome: external, policy: policy, now: now, random: 0).status == .canceled
        )
        #expect(
            JobLifecycle.finish(canceling, outcome: .internalFailure(Self.failure), policy: policy, now: now, random: 0)
                .status == .canceled
        )
        #expect(
            JobLifecycle.finish(canceling, outcome: .succeeded, policy: policy, now: now, random: 0).status
                == .succeeded
        )
        let paused = JobLifecycle.finish(pausing, outcome: external, policy: policy, now: now, random: 0)
        #expect(paused.status == .waiting && paused.postponeUntil == nil && paused.completedOn == nil)
        // A postponement asked for during the run is kept if it is later than the backoff.
        var postponed = JobLifecycle.Snapshot(status: .inProgress, retryCount: 0, createdOn: Self.created)
        postponed.postponeUntil = now + 3600 * Self.second
        let kept = JobLifecycle.finish(postponed, outcome: external, policy: policy, now: now, random: 0.5)
        #expect(kept.postponeUntil == now + 3600 * Self.second)
    }

    @Test("legal and illegal user transitions")
    func userTransitions() throws {
        func job(_ status: JobStatus, postpone: Int64? = nil) -> JobLifecycle.Snapshot {
            JobLifecycle.Snapshot(status: status, retryCount: 2, createdOn: Self.created, postponeUntil: postpone)
        }
        let later = Self.created + 60 * Self.second
        // Cancel: Ready, Waiting → Canceled; running → Canceling.
        #expect(try JobLifecycle.apply(.cancel, to: job(.waitingForResources)).status == .canceled)
        #expect(try JobLifecycle.apply(.cancel, to: job(.waiting, postpone: later)).status == .canceled)
        #expect(try JobLifecycle.apply(.cancel, to: job(.inProgress)).status == .canceling)
        // Pause: Ready → Waiting without a retry time; running → Pausing.
        let paused = try JobLifecycle.apply(.pause, to: job(.waitingForResources, postpone: later))
        #expect(paused.status == .waiting && paused.postponeUntil == nil)
        #expect(try JobLifecycle.apply(.pause, to: job(.inProgress)).status == .pausing)
        // Resume: Waiting → Ready now.
        let resumed = try JobLifecycle.apply(.resume, to: job(.waiting, postpone: later))
        #expect(resumed.status == .waitingForResources && resumed.postponeUntil == nil && resumed.retryCount == 2)
        // Postpone: Ready, Waiting, In Progress.
        #expect(try JobLifecycle.apply(.postpone(until: later), to: job(.waitingForResources)).postponeUntil == later)
        #expect(try JobLifecycle.apply(.postpone(until: later), to: job(.inProgress)).status == .inProgress)
        // Retry now: Waiting or Failed → Ready.
        #expect(try JobLifecycle.apply(.retryNow, to: job(.failed)).status == .waitingForResources)
        #expect(try JobLifecycle.apply(.retryNow, to: job(.waiting, postpone: later)).postponeUntil == nil)

        let illegal: [(JobAction, JobStatus)] = [
            (.cancel, .succeeded), (.cancel, .failed), (.cancel, .canceled), (.pause, .waiting), (.pause, .failed),
            (.resume, .waitingForResources), (.resume, .inProgress), (.resume, .succeeded),
            (.postpone(until: later), .succeeded), (.postpone(until: later), .canceling), (.retryNow, .succeeded),
            (.retryNow, .canceled), (.retryNow, .inProgress),
        ]
        for (action, status) in illegal {
            let error = #expect(throws: PlatformError.self, "\(action) on \(status)") {
                try JobLifecycle.apply(action, to: job(status))
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("A system job that is \(status) cannot be") == true)
        }
    }

    @Test("Web API PATCH values map to actions; anything else is refused")
    func patchValues() throws {
        #expect(try JobLifecycle.action(stateCode: 3, statusCode: 32, postponeUntil: nil) == .cancel)
        #expect(try JobLifecycle.action(stateCode: 3, statusCode: nil, postponeUntil: nil) == .cancel)
        #expect(try JobLifecycle.action(stateCode: 1, statusCode: 10, postponeUntil: nil) == .pause)
        #expect(try JobLifecycle.action(stateCode: 0, statusCode: nil, postponeUntil: nil) == .resume)
        #expect(try JobLifecycle.action(stateCode: nil, statusCode: nil, postponeUntil: 5) == .postpone(until: 5))
        #expect(throws: PlatformError.self) {
            try JobLifecycle.action(stateCode: 3, statusCode: 30, postponeUntil: nil)
        }
        #expect(throws: PlatformError.self) {
            try JobLifecycle.action(stateCode: 2, statusCode: 20, postponeUntil: nil)
        }
        #expect(throws: PlatformError.self) {
            try JobLifecycle.action(stateCode: nil, statusCode: nil, postponeUntil: nil)
        }
    }
}

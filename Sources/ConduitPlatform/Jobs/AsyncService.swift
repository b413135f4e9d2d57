import ConduitContext
import ConduitStore
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// How the asynchronous service of one node runs.
public struct AsyncServiceConfiguration: Sendable {
    /// Jobs this node runs at once (64 by default: a run mostly waits, for a commit or a remote bus, so many in flight
    /// keep the writer's group commits full; with 16, jobs fell seconds behind 1,000 updates/s).
    public var workers: Int
    /// How often the workers look for runnable jobs without being woken (a safety net: commits wake them).
    public var pollInterval: Duration
    /// How long a claimed job stays this node's without a renewal; renewed every third of it while it runs.
    public var leaseDuration: Duration
    /// How long one run may take (Dataverse gives plug-ins 2 minutes); a run over it is an external failure.
    public var executionTimeout: Duration
    /// When failed posts are tried again, and when they give up.
    public var retryPolicy: RetryPolicy
    /// Completed jobs older than this are deleted (checked every `purgeInterval`); `nil` keeps them.
    public var retention: Duration?
    /// How often old completed jobs are purged.
    public var purgeInterval: Duration
    /// This node's `hostid` (default: host name, process id and a random suffix).
    public var hostId: String

    public init(
        workers: Int = 64,
        pollInterval: Duration = .seconds(1),
        leaseDuration: Duration = .seconds(60),
        executionTimeout: Duration = .seconds(120),
        retryPolicy: RetryPolicy = .default,
        retention: Duration? = .seconds(7 * 24 * 3600),
        purgeInterval: Duration = .seconds(600),
        hostId: String? = nil
    ) {
        self.workers = workers
        self.pollInterval = pollInterval
        self.leaseDuration = leaseDuration
        self.executionTimeout = executionTimeout
        self.retryPolicy = retryPolicy
        self.retention = retention
        self.purgeInterval = purgeInterval
        self.hostId =
            hostId
            ?? "\(ProcessInfo.processInfo.hostName)/\(ProcessInfo.processInfo.processIdentifier)/\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
    }

    /// Checks the values; the error says which one is wrong.
    public func validate() throws(PlatformError) {
        guard workers >= 1 else {
            throw PlatformError(.invalidArgument, "The asynchronous service needs at least 1 worker, not \(workers).")
        }
        guard pollInterval > .zero, leaseDuration >= .seconds(1), executionTimeout > .zero else {
            throw PlatformError(
                .invalidArgument,
                "The poll interval and execution timeout must be positive, and the lease at least 1 s."
            )
        }
        try retryPolicy.validate()
    }
}

/// The asynchronous service of one node: claims runnable system jobs (woken by commits, with a slow poll as a
/// safety net), runs their steps' plug-ins on a pool of workers, renews their leases while they run, and records
/// each outcome with the retry policy. Run it as a `Service` beside the server; on graceful shutdown it stops
/// claiming and lets running jobs finish.
public final class AsyncService: Service, Sendable {
    let platform: Platform
    let configuration: AsyncServiceConfiguration
    let logger: Logger
    let queue: JobQueue
    let executor: JobExecutor
    /// The current time in .NET ticks (UTC); tests inject their own.
    let clock: @Sendable () -> Int64
    let metrics: JobMetrics
    /// The jobs the workers run now (their number is how many workers are busy).
    private let running = Mutex<Set<Guid>>([])
    /// The jobs this node claimed and has not recorded an outcome for yet: running, or with their outcome waiting to
    /// be written. Their leases are renewed, and a claim that returns one of them (its lease ran out while the
    /// process was starved) does not run it a second time.
    private let held = Mutex<Set<Guid>>([])
    /// Outcomes waiting to be written, and whether a worker is writing them.
    private let pending = Mutex<(items: [JobQueue.Finished], writing: Bool)>(([], false))
    /// Wakes the dispatcher (set while it runs).
    private let wake = Mutex<AsyncStream<Event>.Continuation?>(nil)
    private let tally = Mutex(Counters())

    /// What this node has done since it started.
    public struct Counters: Sendable, Hashable {
        public var started = 0
        public var succeeded = 0
        public var retried = 0
        public var failed = 0
        public var lost = 0
    }

    public init(
        platform: Platform,
        configuration: AsyncServiceConfiguration = AsyncServiceConfiguration(),
        logger: Logger,
        metrics: any MetricsFactory = NOOPMetricsHandler.instance,
        clock: @escaping @Sendable () -> Int64 = { DotNetDateTime.now().ticks }
    ) {
        self.metrics = JobMetrics(factory: metrics)
        self.platform = platform
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.queue = JobQueue(
            store: platform.store,
            hostId: configuration.hostId,
            leaseTicks: JobLifecycle.ticks(configuration.leaseDuration)
        )
        self.executor = JobExecutor(platform: platform, timeout: configuration.executionTimeout)
    }

    /// What this node has done since it started.
    public var counters: Counters { tally.withLock { $0 } }

    private enum Event: Sendable {
        /// Jobs were committed or a worker came free: claim now.
        case wake
        /// The poll timer: claim, and (PostgreSQL) settle jobs whose node died while a person paused or canceled them.
        case tick
    }

    public func run() async throws {
        try configuration.validate()
        if platform.store.flavor == .sqlite {
            let recovered = try await queue.recoverAfterRestart(now: clock())
            if recovered > 0 {
                logger.notice(
                    "resumed system jobs that were running when the server stopped",
                    metadata: ["jobs": "\(recovered)"]
                )
            }
        }
        // Wake-ups merge while the dispatcher is busy: it claims for every free worker each time it looks.
        let (events, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(2))
        wake.withLock { $0 = continuation }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in self.platform.jobWake.listen() { continuation.yield(.wake) }
            }
            if platform.store.flavor == .postgres {
                // Jobs committed on other nodes.
                group.addTask {
                    await self.listenToOtherNodes {
                        continuation.yield(.wake)
                        self.platform.jobChanges.signal()
                    }
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.configuration.pollInterval)
                    continuation.yield(.tick)
                }
            }
            group.addTask { await self.renewLeases() }
            group.addTask { await self.purgeOldJobs() }
            await withGracefulShutdownHandler {
                await self.dispatch(events: events, continuation: continuation)
            } onGracefulShutdown: {
                continuation.finish()
            }
            group.cancelAll()
        }
        logger.debug("asynchronous service stopped")
    }

    /// Claims jobs while workers are free; each finished run wakes it again.
    private func dispatch(events: AsyncStream<Event>, continuation: AsyncStream<Event>.Continuation) async {
        await withTaskGroup(of: Void.self) { workers in
            var iterator = events.makeAsyncIterator()
            var event = Event.tick
            while true {
                if case .tick = event, platform.store.flavor == .postgres {
                    do {
                        try await queue.settleAbandoned(now: clock())
                    } catch {
                        logger.warning("cannot settle abandoned system jobs", metadata: ["error": "\(error)"])
                    }
                }
                let free = configuration.workers - running.withLock { $0.count }
                var claimed: [ClaimedJob] = []
                if free > 0 {
                    do {
                        claimed = try await queue.claim(limit: free, now: clock())
                    } catch {
                        logger.warning("cannot claim system jobs", metadata: ["error": "\(error)"])
                    }
                }
                if !claimed.isEmpty { platform.jobChanges.signal() }
                for job in claimed {
                    // Still ours from an earlier claim (its outcome is being written): do not run it again.
                    guard held.withLock({ $0.insert(job.id).inserted }) else { continue }
                    running.withLock { _ = $0.insert(job.id) }
                    workers.addTask {
                        await self.execute(job)
                        self.running.withLock { _ = $0.remove(job.id) }
                        self.wakeDispatcher()
                    }
                }
                // A full batch may mean more are runnable: claim again at once.
                if free > 0 && claimed.count == free {
                    event = .wake
                    continue
                }
                guard let next = await iterator.next() else { break }
                event = next
            }
            // Shutting down: let the running jobs finish (ServiceLifecycle cancels them if that takes too long).
            await workers.waitForAll()
        }
    }

    private func execute(_ job: ClaimedJob) async {
        tally.withLock { $0.started += 1 }
        let step: StepRegistration?
        let outcome: JobRunOutcome
        var answer: String?
        do {
            step = try await executor.step(of: job)
            (outcome, answer) = await executor.run(job, step: step)
        } catch {
            step = nil
            outcome = .externalFailure(
                JobExecutor.error(.unexpected, "The step of the system job could not be read: \(error)")
            )
        }
        await record(
            JobQueue.Finished(
                job: job,
                outcome: outcome,
                answer: answer,
                autoDelete: step?.asyncAutoDelete ?? false,
                random: Double.random(in: 0..<1),
                endpointId: step?.serviceEndpoint?.id
            )
        )
    }

    /// Queues an outcome; the first worker to find no write under way writes every queued outcome, in one
    /// transaction per round, until none is left (group commit).
    private func record(_ finished: JobQueue.Finished) async {
        let writes = pending.withLock { state -> Bool in
            state.items.append(finished)
            guard !state.writing else { return false }
            state.writing = true
            return true
        }
        guard writes else { return }
        while true {
            let batch = pending.withLock { state -> [JobQueue.Finished] in
                let batch = state.items
                state.items = []
                if batch.isEmpty { state.writing = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            await write(batch)
        }
    }

    private func write(_ batch: [JobQueue.Finished]) async {
        var attempt = 0
        while true {
            do {
                let statuses = try await queue.finish(batch, policy: configuration.retryPolicy, now: clock())
                let now = clock()
                for (item, status) in zip(batch, statuses) {
                    report(item, status)
                    metrics.record(status, seconds: item.job.executionSeconds(now))
                }
                release(batch)
                platform.jobChanges.signal()
                // A finished job may have been holding up the next job of its record.
                wakeDispatcher()
                return
            } catch {
                attempt += 1
                logger.error(
                    "cannot record system job outcomes",
                    metadata: ["error": "\(error)", "jobs": "\(batch.count)", "attempt": "\(attempt)"]
                )
                // Give up after a few tries: the leases run out and the jobs run again.
                guard attempt < 5, !Task.isCancelled else {
                    release(batch)
                    return
                }
                try? await Task.sleep(for: .milliseconds(100 * attempt))
            }
        }
    }

    /// The jobs of `batch` are no longer this node's to renew or guard.
    private func release(_ batch: [JobQueue.Finished]) {
        held.withLock { held in
            for item in batch { held.remove(item.job.id) }
        }
    }

    private func report(_ item: JobQueue.Finished, _ status: JobStatus?) {
        let job = item.job
        tally.withLock { counters in
            switch status {
            case .succeeded?: counters.succeeded += 1
            case .waiting?: counters.retried += 1
            case .failed?: counters.failed += 1
            case nil: counters.lost += 1
            default: break
            }
        }
        var metadata: Logger.Metadata = [
            "job.id": "\(job.id)", "job.name": "\(job.name)", "step.id": "\(job.stepId?.description ?? "none")",
        ]
        if let correlation = job.correlationId { metadata["correlation.id"] = "\(correlation)" }
        if let endpoint = item.endpointId { metadata["endpoint.id"] = "\(endpoint)" }
        switch (status, item.outcome) {
        case (nil, _):
            logger.warning("a system job was taken over by another node before it finished here", metadata: metadata)
        case (.waiting?, .externalFailure(let error)):
            logger.info("system job will retry", metadata: metadata.merging(["error": "\(error.message)"]) { $1 })
        case (.failed?, .externalFailure(let error)), (.failed?, .internalFailure(let error)):
            logger.warning("system job failed", metadata: metadata.merging(["error": "\(error.message)"]) { $1 })
        default:
            break
        }
    }

    /// Listens on PostgreSQL for jobs committed anywhere; reconnects after a failure (the poll covers the gap).
    private func listenToOtherNodes(_ wake: @escaping @Sendable () -> Void) async {
        while !Task.isCancelled {
            do {
                try await platform.store.listen(channel: jobsChannel) { _ in wake() }
            } catch {
                if Task.isCancelled { return }
                logger.warning(
                    "cannot listen for system jobs committed on other nodes; retrying",
                    metadata: ["error": "\(error)"]
                )
            }
            try? await Task.sleep(for: configuration.pollInterval)
        }
    }

    private func wakeDispatcher() {
        _ = wake.withLock { $0?.yield(.wake) }
    }

    private func renewLeases() async {
        let every = configuration.leaseDuration / 3
        while !Task.isCancelled {
            try? await Task.sleep(for: every)
            let ids = Array(held.withLock { $0 })
            do {
                try await queue.renew(ids, now: clock())
            } catch {
                logger.warning("cannot renew system job leases", metadata: ["error": "\(error)"])
            }
        }
    }

    private func purgeOldJobs() async {
        guard let retention = configuration.retention else { return }
        while !Task.isCancelled {
            try? await Task.sleep(for: configuration.purgeInterval)
            var purged = 0
            do {
                // In batches, until none is left.
                while !Task.isCancelled {
                    let batch = try await queue.purge(completedBefore: clock() - JobLifecycle.ticks(retention))
                    purged += batch
                    if batch == 0 { break }
                    await Task.yield()
                }
            } catch {
                logger.warning("cannot purge completed system jobs", metadata: ["error": "\(error)"])
            }
            if purged > 0 { logger.info("purged completed system jobs", metadata: ["jobs": "\(purged)"]) }
        }
    }
}

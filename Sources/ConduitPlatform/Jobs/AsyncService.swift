import ConduitContext
import ConduitStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// How the asynchronous service of one node runs.
public struct AsyncServiceConfiguration: Sendable {
    /// Jobs this node runs at once.
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
        workers: Int = 8,
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
    private let running = Mutex<Set<Guid>>([])
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
        clock: @escaping @Sendable () -> Int64 = { DotNetDateTime.now().ticks }
    ) {
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
        case wake
        case finished
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
        let (events, continuation) = AsyncStream.makeStream(of: Event.self)
        await withTaskGroup(of: Void.self) { group in
            // Commits wake the dispatcher; so does the poll timer.
            group.addTask {
                for await _ in self.platform.jobWake.signals { continuation.yield(.wake) }
            }
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: self.configuration.pollInterval)
                    continuation.yield(.wake)
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
            var busy = 0
            var iterator = events.makeAsyncIterator()
            while true {
                let free = configuration.workers - busy
                var claimed: [ClaimedJob] = []
                if free > 0 {
                    do {
                        if platform.store.flavor == .postgres { try await queue.settleAbandoned(now: clock()) }
                        claimed = try await queue.claim(limit: free, now: clock())
                    } catch {
                        logger.warning("cannot claim system jobs", metadata: ["error": "\(error)"])
                    }
                }
                for job in claimed {
                    busy += 1
                    running.withLock { _ = $0.insert(job.id) }
                    workers.addTask {
                        await self.execute(job)
                        self.running.withLock { _ = $0.remove(job.id) }
                        continuation.yield(.finished)
                    }
                }
                // A full batch may mean more are runnable: claim again at once.
                if free > 0 && claimed.count == free { continue }
                guard let event = await iterator.next() else { break }
                if case .finished = event { busy -= 1 }
            }
            // Shutting down: let the running jobs finish (ServiceLifecycle cancels them if that takes too long).
            await workers.waitForAll()
        }
    }

    private func execute(_ job: ClaimedJob) async {
        tally.withLock { $0.started += 1 }
        let step = await executor.step(of: job)
        let outcome = await executor.run(job, step: step)
        let metadata: Logger.Metadata = [
            "job.id": "\(job.id)", "job.name": "\(job.name)", "step.id": "\(job.stepId?.description ?? "none")",
        ]
        do {
            let status = try await queue.finish(
                job,
                outcome: outcome,
                policy: configuration.retryPolicy,
                autoDelete: step?.asyncAutoDelete ?? false,
                now: clock(),
                random: Double.random(in: 0..<1)
            )
            tally.withLock { counters in
                switch status {
                case .succeeded?: counters.succeeded += 1
                case .waiting?: counters.retried += 1
                case .failed?: counters.failed += 1
                case nil: counters.lost += 1
                default: break
                }
            }
            switch (status, outcome) {
            case (nil, _):
                logger.warning(
                    "a system job was taken over by another node before it finished here",
                    metadata: metadata
                )
            case (.waiting?, .externalFailure(let error)):
                logger.info("system job will retry", metadata: metadata.merging(["error": "\(error.message)"]) { $1 })
            case (.failed?, .externalFailure(let error)), (.failed?, .internalFailure(let error)):
                logger.warning("system job failed", metadata: metadata.merging(["error": "\(error.message)"]) { $1 })
            default:
                break
            }
        } catch {
            // The outcome could not be recorded: the lease runs out and the job runs again.
            logger.error(
                "cannot record a system job's outcome",
                metadata: metadata.merging(["error": "\(error)"]) { $1 }
            )
        }
    }

    private func renewLeases() async {
        let every = configuration.leaseDuration / 3
        while !Task.isCancelled {
            try? await Task.sleep(for: every)
            let ids = Array(running.withLock { $0 })
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
            do {
                let purged = try await queue.purge(completedBefore: clock() - JobLifecycle.ticks(retention))
                if purged > 0 { logger.info("purged completed system jobs", metadata: ["jobs": "\(purged)"]) }
            } catch {
                logger.warning("cannot purge completed system jobs", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: configuration.purgeInterval)
        }
    }
}

import ArgumentParser
import ConduitContext
import ConduitPlatform
import ConduitStore
import Foundation
import Logging
import Synchronization

extension BenchCommand {
    /// `conduit bench jobs`: how fast the asynchronous service runs system jobs, and how soon a committed job starts.
    struct Jobs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "System jobs per second with a no-op asynchronous plug-in, and commit-to-start latency.",
            discussion: """
                Opens a temporary SQLite database (or --database) with an asynchronous step on Create of contact \
                whose plug-in does nothing but note when it starts. Throughput: --jobs creates are committed with \
                the service stopped, then the service drains them; jobs/s is that count over the drain time. \
                Latency: with the service running, creates are offered at --rate per second for --seconds \
                (open loop, paced); commit-to-start is the time from a create's commit to its job's plug-in \
                starting.
                """
        )

        @Option(help: "Jobs for the throughput phase.") var jobs = 10_000
        @Option(help: "Creates offered per second in the latency phase.") var rate = 1_000
        @Option(help: "Length of the latency phase, in seconds.") var seconds = 5
        @Option(help: "Workers of the asynchronous service.") var workers = 8
        @Option(help: "postgres://… to measure PostgreSQL instead of SQLite.") var database: String?
        @Option(help: "Write the results as JSON to this file.") var json: String?

        func validate() throws {
            guard jobs > 0, rate > 0, seconds > 0, workers > 0 else {
                throw ValidationError("--jobs, --rate, --seconds and --workers must be positive.")
            }
        }

        func run() async throws {
            let options = self
            try await BenchCommand.withSetup(database: database) { setup in
                let logger = setup.logger
                let result = try await withStore(StoreConfiguration(backend: setup.backend), logger: logger) { store in
                    try await options.measure(store: store, logger: logger)
                }
                print(result.table(backend: setup.backendName))
                if let json { try result.write(json: json, backend: setup.backendName) }
            }
        }

        func measure(store: Store, logger: Logger) async throws -> JobsBenchResult {
            let jobs = self.jobs
            let rate = self.rate
            let platform = try await Platform.open(store: store, logger: logger)
            let service = platform.organizationService(userId: platform.administratorId)
            let pluginType = try await platform.registerPluginType(NoOpPlugin.self, typeName: "Conduit.Bench.NoOp")
            try await service.registerStep(
                "Bench: no-op on Create of contact",
                message: "Create",
                table: "contact",
                pluginType: pluginType
            )
            let configuration = AsyncServiceConfiguration(workers: workers, hostId: "bench")

            // Throughput: commit the jobs first, then let the service drain them.
            let counter = RequestCounter(total: jobs)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        while let index = counter.next() {
                            _ = try await service.create(Self.contact(index))
                        }
                    }
                }
                try await group.waitForAll()
            }
            let drain = AsyncService(platform: platform, configuration: configuration, logger: logger)
            let drainStart = ContinuousClock.now
            let drained = try await Self.running(drain) {
                try await Self.wait(until: { drain.counters.succeeded >= jobs }, timeout: .seconds(600))
                return ContinuousClock.now - drainStart
            }

            // Latency: creates paced at the offered rate while the service runs.
            let total = rate * seconds
            let commits = Instants<Guid>()
            NoOpPlugin.starts.reset()
            let live = AsyncService(platform: platform, configuration: configuration, logger: logger)
            let offered = try await Self.running(live) {
                let start = ContinuousClock.now
                let interval = Duration.seconds(1) / rate
                let lanes = 16
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for lane in 0..<lanes {
                        group.addTask {
                            var index = lane
                            while index < total {
                                try await Task.sleep(until: start + interval * index, clock: .continuous)
                                let id = try await service.create(Self.contact(jobs + index))
                                let committed = ContinuousClock.now
                                commits.note(id, committed)
                                index += lanes
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let sent = ContinuousClock.now - start
                try await Self.wait(until: { live.counters.succeeded >= total }, timeout: .seconds(600))
                return sent
            }
            let starts = NoOpPlugin.starts.all
            let latencies = commits.all.compactMap { id, committed in
                starts[id].map { max(($0 - committed).milliseconds, 0) }
            }.sorted()
            return JobsBenchResult(
                jobs: jobs,
                workers: workers,
                drainSeconds: drained.milliseconds / 1000,
                offeredRate: rate,
                offered: total,
                sendSeconds: offered.milliseconds / 1000,
                latencies: latencies
            )
        }

        static func contact(_ index: Int) -> Entity {
            Entity(
                logicalName: "contact",
                attributes: [("firstname", .string("Bench")), ("lastname", .string("Job \(index)"))]
            )
        }

        /// Runs `body` while `service` runs, then stops the service.
        static func running<T: Sendable>(
            _ service: AsyncService,
            _ body: @Sendable () async throws -> T
        ) async throws -> T {
            try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await service.run()
                    return nil
                }
                let value = try await body()
                group.cancelAll()
                while try await group.next() != nil {}
                return value
            }
        }

        static func wait(until done: @Sendable () -> Bool, timeout: Duration) async throws {
            let deadline = ContinuousClock.now + timeout
            while !done() {
                guard ContinuousClock.now < deadline else {
                    throw CommandFailure("the system jobs did not all finish within \(timeout)")
                }
                try await Task.sleep(for: .milliseconds(1))
            }
        }
    }
}

/// The benchmark's plug-in: notes when it starts, by the record its job is about.
struct NoOpPlugin: Plugin {
    static let starts = Instants<Guid>()

    init(configuration: String?, secureConfiguration: String?) {}

    func execute(_ context: inout RemoteExecutionContext, services: PluginServices) async throws {
        Self.starts.note(context.primaryEntityId, .now)
    }
}

/// Values by key (a record id, a request number), noted from many tasks.
final class Noted<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let values = Mutex<[Key: Value]>([:])

    func note(_ key: Key, _ value: Value) { values.withLock { $0[key] = value } }
    func reset() { values.withLock { $0 = [:] } }
    var all: [Key: Value] { values.withLock { $0 } }
}

/// Instants by key, noted from many tasks.
typealias Instants<Key: Hashable & Sendable> = Noted<Key, ContinuousClock.Instant>

struct JobsBenchResult {
    var jobs: Int
    var workers: Int
    var drainSeconds: Double
    var offeredRate: Int
    var offered: Int
    var sendSeconds: Double
    var latencies: [Double]

    var jobsPerSecond: Double { Double(jobs) / drainSeconds }

    func percentile(_ p: Double) -> Double { latencies.percentile(p) }

    func table(backend: String) -> String {
        """
        System jobs with a no-op asynchronous plug-in (\(backend), \(workers) workers)
          throughput:            \(String(format: "%.0f", jobsPerSecond)) jobs/s (\(jobs) jobs drained in \(String(format: "%.2f", drainSeconds)) s)
          offered load:          \(offeredRate) creates/s for \(offered) creates (sent in \(String(format: "%.2f", sendSeconds)) s)
          commit-to-start p50:   \(String(format: "%.2f", percentile(0.50))) ms
          commit-to-start p99:   \(String(format: "%.2f", percentile(0.99))) ms
          commit-to-start max:   \(String(format: "%.2f", latencies.last ?? 0)) ms
          jobs measured:         \(latencies.count)
        """
    }

    func write(json path: String, backend: String) throws {
        let object: [String: Any] = [
            "benchmark": "jobs", "backend": backend, "jobs": jobs, "workers": workers, "jobsPerSecond": jobsPerSecond,
            "drainSeconds": drainSeconds, "offeredPerSecond": offeredRate, "offered": offered,
            "sendSeconds": sendSeconds, "p50Milliseconds": percentile(0.5), "p99Milliseconds": percentile(0.99),
            "maxMilliseconds": latencies.last ?? 0, "measured": latencies.count,
        ]
        try BenchCommand.write(json: object, to: path)
    }
}

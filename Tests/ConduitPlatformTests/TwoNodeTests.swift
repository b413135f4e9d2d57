import ConduitContext
import ConduitStore
import ConduitTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@testable import ConduitPlatform

/// Which node ran which job, and whether a job ever ran on two nodes at once.
final class NodeLog: Sendable {
    let running = Mutex<Set<Guid>>([])
    let runs = Mutex<[Guid: [String]]>([:])
    let overlaps = Atomic<Int>(0)
}

/// Notes its node and the job it runs; takes a few milliseconds, so that overlaps would show.
struct NodePlugin: Plugin {
    let node: String
    let log: NodeLog

    init(configuration: String?, secureConfiguration: String?) throws {
        throw InvalidPluginExecutionError("NodePlugin is made by its node's factory")
    }
    init(node: String, log: NodeLog) {
        self.node = node
        self.log = log
    }

    func execute(_ context: inout RemoteExecutionContext, services: PluginServices) async throws {
        let operation = context.operationId
        let fresh = log.running.withLock { $0.insert(operation).inserted }
        if !fresh { log.overlaps.add(1, ordering: .relaxed) }
        try await Task.sleep(for: .milliseconds(2))
        log.running.withLock { _ = $0.remove(operation) }
        log.runs.withLock { $0[operation, default: []].append(node) }
    }
}

@Suite("several nodes", .serialized, .timeLimit(.minutes(3)))
struct TwoNodeTests {
    static let typeName = "Tests.Node"

    static func logger() -> Logger {
        var logger = Logger(label: "conduit.test.nodes")
        logger.logLevel = .warning
        return logger
    }

    /// Opens a node: a platform whose plug-in notes `node` in `log`.
    static func node(_ store: Store, _ node: String, _ log: NodeLog) async throws -> Platform {
        let registry = PluginRegistry()
        let platform = try await Platform.open(store: store, plugins: registry, logger: logger())
        try await platform.registerPluginType(NodePlugin.self, typeName: typeName)
        // registerPluginType registered the plain factory; the node's own notes its name.
        registry.register(typeName: typeName) { _, _ in NodePlugin(node: node, log: log) }
        return platform
    }

    static func registerStep(_ platform: Platform) async throws {
        try await platform.organizationService(userId: platform.administratorId).registerStep(
            "node test",
            message: "Create",
            table: "contact",
            pluginType: NameBasedGuid.make("plugintype:" + typeName)
        )
    }

    static func configuration(_ host: String) -> AsyncServiceConfiguration {
        AsyncServiceConfiguration(
            workers: 4,
            pollInterval: .milliseconds(100),
            leaseDuration: .seconds(2),
            hostId: host
        )
    }

    static func openJobs(_ platform: Platform) async throws -> Int {
        try await platform.organizationService(userId: platform.administratorId).retrieveMultiple(
            QueryExpression(
                entityName: "asyncoperation",
                columnSet: .columns(["statecode"]),
                criteria: FilterExpression(conditions: [ConditionExpression("statecode", .notEqual, [.int(3)])])
            )
        ).entities.count
    }

    static func waitUntilDone(_ platform: Platform) async throws {
        let deadline = ContinuousClock.now + .seconds(90)
        while try await openJobs(platform) > 0 {
            guard ContinuousClock.now < deadline else {
                Issue.record("system jobs still open after 90 s")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Two nodes (platforms on their own stores) on one fresh database, the test step registered on node a and
    /// known to node b at once (otherwise b learns of it at its cache's next reload, within 5 s).
    static func withTwoNodes(
        _ backend: TestBackend,
        _ body: @Sendable (Platform, Platform, NodeLog) async throws -> Void
    ) async throws {
        try await backend.withFreshDatabase(maximumConnections: 8) { configuration in
            try await withStore(configuration, logger: Self.logger()) { storeA in
                try await withStore(configuration, logger: Self.logger()) { storeB in
                    let log = NodeLog()
                    let a = try await Self.node(storeA, "a", log)
                    let b = try await Self.node(storeB, "b", log)
                    try await Self.registerStep(a)
                    b.steps.invalidate()
                    try await body(a, b, log)
                }
            }
        }
    }

    /// Runs `body` while the services run, then stops them.
    static func running(_ services: [AsyncService], _ body: @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services { group.addTask { try await service.run() } }
            try await body()
            group.cancelAll()
        }
    }

    @Test(
        "two nodes on one PostgreSQL share the jobs, and no job runs on both at once",
        arguments: TestBackend.runsPostgres ? [TestBackend.postgres] : []
    )
    func shareWithoutOverlap(backend: TestBackend) async throws {
        try await Self.withTwoNodes(backend) { a, b, log in
            let services = [("a", a), ("b", b)].map { host, platform in
                AsyncService(platform: platform, configuration: Self.configuration(host), logger: Self.logger())
            }
            try await Self.running(services) {
                // 400 creates, half on each node.
                for index in 0..<400 {
                    let platform = index % 2 == 0 ? a : b
                    _ = try await platform.organizationService(userId: platform.administratorId).create(
                        Entity(logicalName: "contact", attributes: [("lastname", .string("N\(index)"))])
                    )
                }
                try await Self.waitUntilDone(a)
            }
            let runs = log.runs.withLock { $0 }
            #expect(runs.count == 400)
            #expect(runs.values.allSatisfy { $0.count == 1 })
            #expect(log.overlaps.load(ordering: .relaxed) == 0)
            let byNode = Dictionary(grouping: runs.values.flatMap { $0 }, by: { $0 }).mapValues(\.count)
            #expect((byNode["a"] ?? 0) > 0 && (byNode["b"] ?? 0) > 0, "\(byNode)")
            print("two nodes: node a ran \(byNode["a"] ?? 0) jobs, node b \(byNode["b"] ?? 0); no overlaps")
        }
    }

    @Test(
        "jobs held by a node that died are taken over when their lease runs out",
        arguments: TestBackend.available
    )
    func takeOverAfterLease(backend: TestBackend) async throws {
        try await backend.withFreshDatabase(maximumConnections: 8) { configuration in
            try await withStore(configuration, logger: Self.logger()) { store in
                let log = NodeLog()
                let platform = try await Self.node(store, "survivor", log)
                try await Self.registerStep(platform)
                let service = platform.organizationService(userId: platform.administratorId)
                for index in 0..<20 {
                    _ = try await service.create(
                        Entity(logicalName: "contact", attributes: [("lastname", .string("L\(index)"))])
                    )
                }
                // A node claims ten jobs with a 1 s lease and dies: it never finishes or renews them.
                let dead = JobQueue(store: store, hostId: "dead-node", leaseTicks: JobLifecycle.ticksPerSecond)
                let claimed = try await dead.claim(limit: 10, now: DotNetDateTime.now().ticks)
                #expect(claimed.count == 10)
                let survivor = AsyncService(
                    platform: platform,
                    configuration: Self.configuration("survivor"),
                    logger: Self.logger()
                )
                try await Self.running([survivor]) { try await Self.waitUntilDone(platform) }
                let runs = log.runs.withLock { $0 }
                #expect(runs.count == 20)
                for job in claimed {
                    #expect(runs[job.id] == ["survivor"])
                }
            }
        }
    }

    @Test(
        "a node wakes for jobs committed on another node (LISTEN/NOTIFY), not at its poll",
        arguments: TestBackend.runsPostgres ? [TestBackend.postgres] : []
    )
    func wakesAcrossNodes(backend: TestBackend) async throws {
        try await Self.withTwoNodes(backend) { a, b, log in
            // Only node b runs jobs, and it polls only every minute.
            var slow = Self.configuration("b")
            slow.pollInterval = .seconds(60)
            let serviceB = AsyncService(platform: b, configuration: slow, logger: Self.logger())
            try await Self.running([serviceB]) {
                // Let b make its first (empty) claim and start listening.
                try await Task.sleep(for: .milliseconds(500))
                let started = ContinuousClock.now
                for index in 0..<5 {
                    _ = try await a.organizationService(userId: a.administratorId).create(
                        Entity(logicalName: "contact", attributes: [("lastname", .string("W\(index)"))])
                    )
                }
                let deadline = ContinuousClock.now + .seconds(10)
                while try await Self.openJobs(a) > 0, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
                let elapsed = ContinuousClock.now - started
                #expect(try await Self.openJobs(a) == 0)
                #expect(elapsed < .seconds(10))
                print("jobs committed on node a ran on node b within \(elapsed)")
            }
            #expect(log.runs.withLock { $0.values.flatMap { $0 } } == Array(repeating: "b", count: 5))
        }
    }
}

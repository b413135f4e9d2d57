import AsyncHTTPClient
import ConduitAMQP
import ConduitBus
import ConduitContext
import ConduitListener
import ConduitStore
import ConduitTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// The whole system under load, killed: Web API creates whose async step posts each context to a queue, a listener
/// receiving them over AMQP (peek-lock, complete), and `kill -9` of the server three times at random points, each
/// time restarted on the same data. Every acknowledged create reaches the listener at least once, once after
/// de-duplication by OperationId; no job stays open; no message stays locked once the lock duration has passed.
@Suite("the whole system survives kill -9 under load", .serialized, .timeLimit(.minutes(5)))
struct SystemCrashTests {
    typealias Server = CrashSafetyTests.Server

    /// What the clients, the killer and the listener share.
    final class Run: Sendable {
        let server: Mutex<Server>
        let acknowledged = Mutex<Set<Int>>([])
        /// Per marker, the OperationIds its deliveries carried.
        let received = Mutex<[Int: [Guid]]>([:])
        let next = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
        /// A second node on the same database, taking every other create while it runs.
        let second = Mutex<Server?>(nil)

        init(_ server: Server) { self.server = Mutex(server) }

        var current: Server { server.withLock { $0 } }

        /// The node that takes create number `index`.
        func node(for index: Int) -> Server {
            index % 2 == 1 ? (second.withLock { $0 } ?? current) : current
        }
    }

    @Test(
        "kill -9 three times during creates posted to a queue; every acknowledged create is received, no job or lock is left"
    )
    func killUnderLoad() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-syscrash-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let first = try await Server(dataDirectory: directory)
        let api = ["--url", first.url, "--key-file", directory + "/admin.key"]
        let bus = ["--connection-string", first.busConnectionString]
        _ = try await EndpointEndToEndTests.cli(["bus", "queue", "create", "changes", "--lock-duration", "5"] + bus)
        let endpoint = try await EndpointEndToEndTests.cli(
            ["endpoint", "add", "--name", "changes", "--contract", "queue", "--format", "json", "--path", "changes"]
                + bus + api
        ).trimmingCharacters(in: .whitespacesAndNewlines)
        let run = Run(first)
        let kills = [Int.random(in: 200...400), Int.random(in: 600...800), Int.random(in: 1000...1200)]
        let target = 1400
        try await CrashSafetyTests.withClient { client in
            try await EndpointEndToEndTests.registerStep(
                client,
                first,
                endpoint: endpoint,
                message: "Create",
                filtering: nil
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await Self.listen(run) }
                for _ in 0..<8 {
                    group.addTask { await Self.create(run, client: client, until: target) }
                }
                // The killer: at each threshold of acknowledged creates, SIGKILL and restart on the same data.
                for threshold in kills {
                    while run.acknowledged.withLock({ $0.count }) < threshold {
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    let dead = run.current
                    kill(dead.process.processIdentifier, SIGKILL)
                    dead.process.waitUntilExit()
                    #expect(dead.process.terminationStatus == 9)
                    // The same HTTP port: the endpoint's address names it.
                    let restarted = try await Server(dataDirectory: directory, port: first.port)
                    run.server.withLock { $0 = restarted }
                }
                try await Self.settle(run, client: client, target: target)
                run.stop.store(true, ordering: .relaxed)
                group.cancelAll()
            }
        }
        run.current.stop()
        Self.report(
            run,
            "system crash test: \(kills.count) kills (at \(kills.map(String.init).joined(separator: ", ")) acknowledged creates)"
        )
    }

    @Test(
        "two nodes on one PostgreSQL under the same load, one killed with -9 and restarted: nothing acknowledged is lost",
        arguments: TestBackend.runsPostgres ? [TestBackend.postgres] : []
    )
    func killOneOfTwoNodes(backend: TestBackend) async throws {
        try await backend.withFreshDatabase { configuration in
            guard case .postgres(let url) = configuration.backend else { return }
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-2syscrash-\(UUID())").path
            try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: base) }
            // Short leases: the survivor takes over the dead node's jobs 2 s after their last renewal.
            let environment = ["CONDUIT_DATABASE": url, "CONDUIT_JOB_LEASE_SECONDS": "2"]
            // Node a starts first (and migrates the database); node b joins it. The listener and the checks use a.
            let a = try await Server(dataDirectory: base + "/a", environment: environment)
            defer { a.stop() }
            let b = try await Server(dataDirectory: base + "/b", environment: environment)
            let bus = ["--connection-string", a.busConnectionString]
            _ = try await EndpointEndToEndTests.cli(
                ["bus", "queue", "create", "changes", "--lock-duration", "5"] + bus
            )
            // The namespace by name, without a port: every node of the cluster posts to it in the shared database.
            let endpoint = try await CrashSafetyTests.addNamespaceQueueEndpoint(
                a,
                keyFile: base + "/a/admin.key",
                queue: "changes"
            )
            let run = Run(a)
            let target = 1000
            let (killAt, restartAt) = (Int.random(in: 250...400), Int.random(in: 550...700))
            try await CrashSafetyTests.withClient { client in
                try await EndpointEndToEndTests.registerStep(
                    client,
                    a,
                    endpoint: endpoint,
                    message: "Create",
                    filtering: nil
                )
                // Node b caches steps for up to 5 s: let it see the new one before it takes creates.
                try await Task.sleep(for: .seconds(6))
                run.second.withLock { $0 = b }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await Self.listen(run) }
                    for _ in 0..<8 {
                        group.addTask { await Self.create(run, client: client, until: target) }
                    }
                    while run.acknowledged.withLock({ $0.count }) < killAt {
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    // Node b dies with requests and jobs in hand; node a takes every create meanwhile.
                    run.second.withLock { $0 = nil }
                    kill(b.process.processIdentifier, SIGKILL)
                    b.process.waitUntilExit()
                    #expect(b.process.terminationStatus == 9)
                    while run.acknowledged.withLock({ $0.count }) < restartAt {
                        try await Task.sleep(for: .milliseconds(5))
                    }
                    let again = try await Server(dataDirectory: base + "/b", environment: environment)
                    run.second.withLock { $0 = again }
                    try await Self.settle(run, client: client, target: target)
                    run.stop.store(true, ordering: .relaxed)
                    group.cancelAll()
                }
                run.second.withLock { $0 }?.stop()
            }
            Self.report(
                run,
                "two-node crash test (PostgreSQL): node b killed at \(killAt) and restarted at \(restartAt) acknowledged creates"
            )
        }
    }

    /// Waits until `target` creates are acknowledged, then checks that every acknowledged create's context reached
    /// the listener, that no job stays open and that nothing stays on the queue once the locks ran out.
    static func settle(_ run: Run, client: HTTPClient, target: Int) async throws {
        while run.acknowledged.withLock({ $0.count }) < target { try await Task.sleep(for: .milliseconds(10)) }
        // Every acknowledged create's context, before the deadline (locks of the dead servers run out in 5 s).
        let deadline = ContinuousClock.now + .seconds(90)
        while ContinuousClock.now < deadline {
            let acked = run.acknowledged.withLock { $0 }
            let missing = acked.filter { marker in run.received.withLock { $0[marker] == nil } }
            if missing.isEmpty { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        // No job stays open.
        let server = run.current
        var open = -1
        for _ in 0..<600 {
            open = try await JobCrashTests.openJobs(client, server)
            if open == 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(open == 0)
        // Nothing is left on the queue, locked or not, once the locks taken by the dead servers ran out (5 s):
        // the listener gets those messages again (duplicates, removed by OperationId).
        var listed = ""
        var counts: [String]?
        for _ in 0..<40 {
            listed = try await EndpointEndToEndTests.cli([
                "bus", "list", "--connection-string", server.busConnectionString,
            ])
            let row = listed.split(separator: "\n").first { $0.hasPrefix("queue") && $0.contains("changes") }
            counts = row.map { $0.split(separator: " ").suffix(3).map(String.init) }
            if counts == ["0", "0", "0"] { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(counts == ["0", "0", "0"], "\(listed)")
    }

    /// Checks that nothing acknowledged was lost and each create was handled once after de-duplication; prints the
    /// counts after `label`.
    static func report(_ run: Run, _ label: String) {
        let acked = run.acknowledged.withLock { $0 }
        let received = run.received.withLock { $0 }
        let lost = acked.filter { received[$0] == nil }
        #expect(lost.isEmpty, "acknowledged but never received: \(lost.sorted().prefix(20))")
        let deliveries = received.values.map(\.count).reduce(0, +)
        let operations = Set(received.values.flatMap { $0 })
        // One operation per create: after de-duplication by OperationId each create is handled once.
        #expect(operations.count == received.count)
        print(
            "\(label); \(acked.count) acknowledged; \(received.count) creates received (\(received.count - acked.count) committed but unanswered at a kill); \(deliveries) deliveries, \(deliveries - operations.count) duplicates removed by OperationId; lost \(lost.count)"
        )
    }

    /// Creates contacts named `Sys <n>` on whichever server runs, until `total` are acknowledged; a create that gets no
    /// 204 (the server died) is not acknowledged and not tried again under the same number.
    static func create(_ run: Run, client: HTTPClient, until total: Int) async {
        while !run.stop.load(ordering: .relaxed), run.acknowledged.withLock({ $0.count }) < total {
            let index = run.next.add(1, ordering: .relaxed).oldValue
            let reply = try? await CrashSafetyTests.send(
                client,
                run.node(for: index),
                .POST,
                "contacts",
                #"{"lastname":"Sys \#(index)"}"#
            )
            if reply?.status == 204 {
                run.acknowledged.withLock { _ = $0.insert(index) }
            } else {
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// Receives from the queue of whichever server runs, peek-lock, completing each message after noting it;
    /// reconnects when the server dies.
    static func listen(_ run: Run) async {
        while !run.stop.load(ordering: .relaxed), !Task.isCancelled {
            let server = run.current
            guard
                let bus = try? await BusAMQPClient.connect(
                    connectionString: server.amqpConnectionString,
                    caFile: nil,
                    linkCredit: 50
                ),
                let receiver = try? await bus.receiver(entity: "changes")
            else {
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            while !run.stop.load(ordering: .relaxed), !Task.isCancelled {
                let delivery: AMQPClientDelivery?
                do {
                    delivery = try await receiver.receive(timeout: .seconds(1))
                } catch {
                    break  // The server died: connect to the next one.
                }
                guard let delivery else { continue }
                if let (context, _) = try? ListenedMessage(delivery.message).decodedContext(),
                    case .entity(let target)? = context.inputParameters["Target"],
                    case .string(let name)? = target.attributes["lastname"],
                    let marker = Int(name.dropFirst(4))
                {
                    run.received.withLock { $0[marker, default: []].append(context.operationId) }
                }
                receiver.settle(delivery, .accepted)
            }
            await bus.close()
        }
    }
}

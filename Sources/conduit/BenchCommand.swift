import ArgumentParser
import AsyncHTTPClient
import ConduitContext
import ConduitPlatform
import ConduitServer
import ConduitStore
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SQLKit
import ServiceLifecycle
import Synchronization

/// `conduit bench`: whole-system benchmarks.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Whole-system benchmarks (results as a table, and as JSON with --json).",
        subcommands: [Creates.self, Jobs.self, Post.self, Bus.self, AMQP.self, Relay.self, Webhook.self, Sandbox.self]
    )

    struct Creates: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Creates per second through the Web API with one asynchronous step registered (a row and a system job per request).",
            discussion: """
                Starts a private server on a free loopback port (a temporary SQLite database, or --database), \
                registers an asynchronous step on Create of contact, and sends --requests POST /contacts from \
                --clients concurrent clients. Beside it, in the same run, the floor: the same rows (contact + \
                asyncoperation) written with plain SQL inserts, one transaction each, from the same number of tasks.
                """
        )

        @Option(help: "How many creates to send.") var requests = 20_000
        @Option(help: "Concurrent clients.") var clients = 16
        @Option(help: "postgres://… to measure PostgreSQL instead of SQLite.") var database: String?
        @Option(help: "Write the results as JSON to this file.") var json: String?

        func validate() throws {
            guard requests > 0, clients > 0 else { throw ValidationError("--requests and --clients must be positive.") }
        }

        func run() async throws {
            let requests = self.requests
            let clients = self.clients
            try await BenchCommand.withSetup(database: database) { setup in
                // Jobs are written, not run: this measures the write path (the jobs benchmark measures running).
                let results = try await BenchCommand.withServer(setup, jobs: nil) { info, store in
                    try await Self.measure(info: info, requests: requests, clients: clients, store: store)
                }
                print(results.table(backend: setup.backendName))
                if let json { try results.write(json: json, backend: setup.backendName) }
            }
        }

        static func measure(info: ServerReady, requests: Int, clients: Int, store: Store) async throws -> BenchResult {
            let platform = info.platform
            let service = platform.organizationService(userId: platform.administratorId)
            let pluginType = try await service.create(
                Entity(
                    logicalName: "plugintype",
                    attributes: [("name", .string("Bench.Async")), ("typename", .string("Bench.Async"))]
                )
            )
            try await service.registerStep(
                "Bench: Create of contact",
                message: "Create",
                table: "contact",
                pluginType: pluginType
            )
            let key = try BenchCommand.administratorKey(info)
            let url = info.webAPIURL + "contacts"
            let start = ContinuousClock.now
            let latencies = try await BenchCommand.withHTTPClient(connections: clients) { client in
                // Warm up (connections, caches).
                _ = try await Self.post(client, url: url, key: key, index: -1)
                return try await Self.drive(client, url: url, key: key, requests: requests, clients: clients)
            }
            let elapsed = (ContinuousClock.now - start).milliseconds / 1000
            let jobs = try await service.retrieveMultiple(
                QueryExpression(
                    entityName: "asyncoperation",
                    columnSet: .columns(["name"]),
                    pageInfo: PagingInfo(count: 1, returnTotalRecordCount: true)
                )
            )
            let floor = try await Self.floor(store: store, platform: platform, rows: requests, tasks: clients)
            return BenchResult(
                requests: requests,
                clients: clients,
                seconds: elapsed,
                latencies: latencies.sorted(),
                jobs: Int(jobs.totalRecordCount),
                floorRowsPerSecond: floor
            )
        }

        static func drive(
            _ client: HTTPClient,
            url: String,
            key: String,
            requests: Int,
            clients: Int
        ) async throws -> [Double] {
            let counter = RequestCounter(total: requests)
            return try await withThrowingTaskGroup(of: [Double].self) { group in
                for _ in 0..<clients {
                    group.addTask {
                        var latencies: [Double] = []
                        while let index = counter.next() {
                            let begin = ContinuousClock.now
                            let status = try await Self.post(client, url: url, key: key, index: index)
                            guard status == 204 else { throw CommandFailure("a create answered HTTP \(status)") }
                            latencies.append((ContinuousClock.now - begin).milliseconds)
                        }
                        return latencies
                    }
                }
                var all: [Double] = []
                for try await part in group { all += part }
                return all
            }
        }

        static func post(_ client: HTTPClient, url: String, key: String, index: Int) async throws -> UInt {
            try await BenchCommand.send(
                client,
                .POST,
                url: url,
                key: key,
                json:
                    #"{"firstname":"Bench","lastname":"Contact \#(index)","emailaddress1":"bench\#(index)@example.com"}"#
            )
        }

        /// Plain SQL inserts of the same rows (a contact and an asyncoperation), one transaction each.
        static func floor(store: Store, platform: Platform, rows: Int, tasks: Int) async throws -> Double {
            let counter = RequestCounter(total: rows)
            let data = String(repeating: "x", count: 2500)
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<tasks {
                    group.addTask {
                        while let index = counter.next() {
                            let contact = Guid.random().description
                            let job = Guid.random().description
                            try await store.transaction { db in
                                try await db.raw(
                                    "INSERT INTO contact (contactid, firstname, lastname, fullname, emailaddress1, createdon, modifiedon, versionnumber, statecode, statuscode) VALUES (\(bind: contact), 'Bench', \(bind: "Floor \(index)"), \(bind: "Bench Floor \(index)"), \(bind: "floor\(index)@example.com"), 0, 0, 1, 0, 1)"
                                ).run()
                                try await db.raw(
                                    "INSERT INTO asyncoperation (asyncoperationid, name, operationtype, messagename, primaryentitytype, regardingobjectid, data, statecode, statuscode, versionnumber) VALUES (\(bind: job), 'floor', 1, 'Create', 'contact', \(bind: contact), \(bind: data), 0, 0, 1)"
                                ).run()
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            return Double(rows) / ((ContinuousClock.now - start).milliseconds / 1000)
        }
    }
}

extension BenchCommand {
    /// Where a benchmark runs: its logger (level from `CONDUIT_LOG_LEVEL`, warning by default), a temporary
    /// directory, and its database (SQLite in that directory, or the PostgreSQL URL given).
    struct Setup: Sendable {
        var logger: Logger
        var directory: String
        var backend: StoreConfiguration.Backend
        /// "SQLite" or "PostgreSQL", for the results.
        var backendName: String
    }

    /// Runs `body` with a fresh setup and removes the temporary directory afterwards.
    static func withSetup<T>(database: String?, _ body: (Setup) async throws -> T) async throws -> T {
        var logger = Logger(label: "conduit.bench")
        logger.logLevel =
            Logger.Level(rawValue: ProcessInfo.processInfo.environment["CONDUIT_LOG_LEVEL"] ?? "") ?? .warning
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-bench-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let backend: StoreConfiguration.Backend =
            database.map { .postgres(url: $0) }
            ?? .sqlite(path: (directory as NSString).appendingPathComponent("conduit.sqlite"))
        return try await body(
            Setup(
                logger: logger,
                directory: directory,
                backend: backend,
                backendName: database == nil ? "SQLite" : "PostgreSQL"
            )
        )
    }

    /// Runs `body` against a private server (Web API and bus REST on a free loopback port) on the setup's database,
    /// with the asynchronous service when `jobs` is given; stops the server afterwards.
    static func withServer<T: Sendable>(
        _ setup: Setup,
        jobs: AsyncServiceConfiguration?,
        amqp: Bool = false,
        _ body: (ServerReady, Store) async throws -> T
    ) async throws -> T {
        let logger = setup.logger
        let store = Store(configuration: StoreConfiguration(backend: setup.backend), logger: logger)
        let ready = AsyncStream<ServerReady>.makeStream()
        let server = ConduitHTTPServer(
            configuration: ServerConfiguration(
                port: 0,
                dataDirectory: setup.directory,
                jobs: jobs,
                amqpPort: amqp ? 0 : nil
            ),
            store: store,
            logger: logger
        ) { info in ready.continuation.yield(info) }
        let group = ServiceGroup(services: [store, server], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                defer { ready.continuation.finish() }
                try await group.run()
            }
            var iterator = ready.stream.makeAsyncIterator()
            guard let info = await iterator.next() else {
                try await tasks.waitForAll()  // the server's error, if it failed to start
                throw CommandFailure("the server stopped before it was ready")
            }
            let result: T
            do {
                result = try await body(info, store)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        }
    }

    /// The administrator's API key of a started server.
    static func administratorKey(_ info: ServerReady) throws -> String {
        try String(contentsOfFile: info.administratorKeyPath, encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines
        )
    }

    /// Runs `body` with an HTTP client that keeps up to `connections` connections to the server, and shuts the
    /// client down afterwards.
    static func withHTTPClient<T>(connections: Int, _ body: (HTTPClient) async throws -> T) async throws -> T {
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: HTTPClient.Configuration(
                connectionPool: .init(
                    idleTimeout: .seconds(60),
                    concurrentHTTP1ConnectionsPerHostSoftLimit: connections
                )
            )
        )
        do {
            let value = try await body(client)
            try await client.shutdown()
            return value
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Sends one Web API request with the API key and a JSON body; returns the status (the body is read and
    /// dropped).
    static func send(
        _ client: HTTPClient,
        _ method: HTTPMethod,
        url: String,
        key: String,
        json: String
    ) async throws -> UInt {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: json))
        let response = try await client.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        return response.status.code
    }

    /// Writes a benchmark's results as pretty-printed JSON with sorted keys.
    static func write(json object: [String: Any], to path: String) throws {
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]).write(
            to: URL(fileURLWithPath: path)
        )
    }
}

/// Hands out request numbers to concurrent clients.
final class RequestCounter: Sendable {
    private let state: Mutex<Int>
    let total: Int
    init(total: Int) {
        self.total = total
        self.state = Mutex(0)
    }
    func next() -> Int? {
        state.withLock { value in
            guard value < total else { return nil }
            value += 1
            return value
        }
    }
}

struct BenchResult {
    var requests: Int
    var clients: Int
    var seconds: Double
    var latencies: [Double]
    var jobs: Int
    var floorRowsPerSecond: Double

    var perSecond: Double { Double(requests) / seconds }
    func percentile(_ p: Double) -> Double { latencies.percentile(p) }

    func table(backend: String) -> String {
        """
        Creates through the Web API with one async step (\(backend), \(clients) clients, \(requests) requests)
          creates/s:        \(String(format: "%.0f", perSecond))
          latency p50:      \(String(format: "%.2f", percentile(0.50))) ms
          latency p99:      \(String(format: "%.2f", percentile(0.99))) ms
          latency max:      \(String(format: "%.2f", latencies.last ?? 0)) ms
          system jobs:      \(jobs) (one per create)
          floor (plain SQL inserts of contact + job, one transaction each): \(String(format: "%.0f", floorRowsPerSecond)) rows/s
        """
    }

    func write(json path: String, backend: String) throws {
        let object: [String: Any] = [
            "benchmark": "creates", "backend": backend, "requests": requests, "clients": clients,
            "createsPerSecond": perSecond, "p50Milliseconds": percentile(0.5), "p99Milliseconds": percentile(0.99),
            "maxMilliseconds": latencies.last ?? 0, "jobs": jobs, "floorRowsPerSecond": floorRowsPerSecond,
        ]
        try BenchCommand.write(json: object, to: path)
    }
}

extension [Double] {
    /// The value at fraction `p` (0…1) of an ascending array; 0 when it is empty.
    func percentile(_ p: Double) -> Double {
        guard !isEmpty else { return 0 }
        return self[Swift.min(count - 1, Int(Double(count) * p))]
    }
}

extension Duration {
    var milliseconds: Double {
        let parts = components
        return Double(parts.seconds) * 1000 + Double(parts.attoseconds) / 1e15
    }
}

import ArgumentParser
import AsyncHTTPClient
import ConduitBus
import ConduitContext
import ConduitListener
import ConduitPlatform
import ConduitServer
import ConduitStore
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

extension BenchCommand {
    /// `conduit bench relay`: two-way posts through the embedded relay to a listener, round trips per second.
    struct Relay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Two-way relay round trips per second and latency: a post, the listener's answer back.",
            discussion: """
                Starts a private server (a temporary SQLite database, no asynchronous service), creates a hybrid \
                connection 'bench' and a two-way service endpoint (contract 4) on it, and connects a relay listener \
                (ConduitListener's RelayListener, over a WebSocket to the server's HTTP port) that answers each post \
                'OK'. Then --concurrency callers post an Update context of a contact (--format) for --seconds, each \
                calling the notification service (IServiceEndpointNotificationService.execute, as a custom plug-in \
                does) one post after another and checking the answer. With --sender http the callers instead send the \
                context to the relay in HTTP request mode (POST /bench with a SAS token), as a remote sender does. \
                Reports round trips per second and latency p50/p99/max.
                """
        )

        enum Sender: String, ExpressibleByArgument, CaseIterable { case notification, http }

        @OptionGroup var common: ContractBench.Options
        @Option(help: "The endpoint's message format: json, xml or binary.") var format = Post.Format.json
        @Option(help: "Who posts: notification (the notification service) or http (HTTP request mode).")
        var sender = Sender.notification

        var concurrency: Int { common.concurrency }
        var seconds: Int { common.seconds }
        var json: String? { common.json }

        func run() async throws {
            let options = self
            try await BenchCommand.withSetup(database: nil) { setup in
                try await BenchCommand.withServer(setup, jobs: nil) { info, store in
                    try await BusNamespace(store: store).relays.createRelay(
                        HybridConnection(name: "bench"),
                        now: Int64(Date().timeIntervalSince1970 * 1000)
                    )
                    let endpoint = try await ContractBench.createEndpoint(
                        info,
                        [
                            ("name", .string("bench relay")), ("contract", .optionSetValue(OptionSetValue(4))),
                            ("authtype", .optionSetValue(OptionSetValue(2))),
                            ("messageformat", .optionSetValue(OptionSetValue(Int32(options.format.messageFormat)))),
                            ("namespaceaddress", .string("sb://localhost/")), ("path", .string("bench")),
                            ("saskeyname", .string(BusNamespace.rootRuleName)),
                            ("saskey", .string(try ConnectionString(parsing: info.busConnectionString).key ?? "")),
                            ("userclaim", .optionSetValue(OptionSetValue(1))),
                            ("connectionmode", .optionSetValue(OptionSetValue(1))),
                        ]
                    )
                    var logger = setup.logger
                    logger.logLevel = .error
                    let listener = try RelayListener(
                        connectionString: info.busConnectionString,
                        relay: "bench",
                        logger: logger
                    ) { _ in .text("OK") }
                    let run = try await withThrowingTaskGroup(of: ContractBench.Run?.self) {
                        group -> ContractBench.Run in
                        group.addTask {
                            try await listener.run()
                            return nil
                        }
                        await listener.waitUntilConnected()
                        let context = ContractBench.context()
                        let body = ContextCodec.encode(context, format: options.format.wireFormat)
                        let connection = try ConnectionString(parsing: info.busConnectionString)
                        let url = "http://127.0.0.1:\(info.port)/bench"
                        let result = try await BenchCommand.withHTTPClient(connections: options.concurrency) { client in
                            try await ContractBench.drive(
                                concurrency: options.concurrency,
                                seconds: options.seconds
                            ) {
                                switch options.sender {
                                case .notification:
                                    let answer = try await info.platform.notificationService().execute(
                                        EntityReference(logicalName: "serviceendpoint", id: endpoint),
                                        context: context,
                                        transaction: nil,
                                        messageId: nil,
                                        traceparent: nil
                                    )
                                    guard answer == "OK" else {
                                        throw CommandFailure("the listener answered '\(answer ?? "nothing")', not OK")
                                    }
                                case .http:
                                    let status = try await ContractBench.post(
                                        client,
                                        url,
                                        headers: [
                                            ("ServiceBusAuthorization", connection.token(for: "bench")),
                                            ("Content-Type", options.format.wireFormat.contentType),
                                        ],
                                        body: body
                                    )
                                    guard status == 200 else { throw CommandFailure("the relay answered \(status)") }
                                }
                            }
                        }
                        group.cancelAll()
                        return result
                    }
                    let title =
                        "Two-way relay round trips (\(options.sender == .notification ? "notification service" : "HTTP request mode") → embedded relay → RelayListener over WebSocket, \(options.format.rawValue), \(options.concurrency) callers, \(options.seconds) s)"
                    print(run.table(title: title, unit: "round trips"))
                    if let path = options.json {
                        try run.write(
                            json: path,
                            benchmark: "relay-two-way",
                            extra: ["sender": options.sender.rawValue, "format": options.format.rawValue]
                        )
                    }
                }
            }
        }
    }

    /// `conduit bench webhook`: posts of a context to a webhook on a local receiver, posts per second.
    struct Webhook: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Webhook posts per second and latency to a local receiver.",
            discussion: """
                Starts a private server (a temporary SQLite database, no asynchronous service) and a local HTTP \
                receiver on a loopback port that answers 200 to every POST, registers a webhook service endpoint \
                (contract 8, WebhookKey) for it, and lets --concurrency callers post an Update context of a contact \
                through the notification service for --seconds, one post after another (what a synchronous step or \
                the system jobs do for each change). Reports posts per second and latency p50/p99/max.
                """
        )

        @OptionGroup var common: ContractBench.Options

        var concurrency: Int { common.concurrency }
        var seconds: Int { common.seconds }
        var json: String? { common.json }

        func run() async throws {
            let options = self
            try await BenchCommand.withSetup(database: nil) { setup in
                try await BenchCommand.withServer(setup, jobs: nil) { info, _ in
                    let received = Mutex(0)
                    let router = Router()
                    router.post("hook") { request, _ -> HTTPResponse.Status in
                        _ = try await request.body.collect(upTo: 1 << 20)
                        received.withLock { $0 += 1 }
                        return .ok
                    }
                    let port = AsyncStream<Int>.makeStream()
                    var logger = setup.logger
                    // Quiet: stopping the receiver at the end logs a harmless "already closed".
                    logger.logLevel = .critical
                    let receiver = Application(
                        router: router,
                        configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                        onServerRunning: { port.continuation.yield($0.localAddress?.port ?? 0) },
                        logger: logger
                    )
                    let run = try await withThrowingTaskGroup(of: ContractBench.Run?.self) {
                        group -> ContractBench.Run in
                        group.addTask {
                            try await receiver.runService()
                            return nil
                        }
                        var ports = port.stream.makeAsyncIterator()
                        guard let receiverPort = await ports.next() else {
                            throw CommandFailure("the receiver did not start")
                        }
                        let endpoint = try await ContractBench.createEndpoint(
                            info,
                            [
                                ("name", .string("bench webhook")), ("contract", .optionSetValue(OptionSetValue(8))),
                                ("authtype", .optionSetValue(OptionSetValue(4))),
                                ("url", .string("http://127.0.0.1:\(receiverPort)/hook")),
                                ("authvalue", .string("bench-key")),
                            ]
                        )
                        let context = ContractBench.context()
                        let result = try await ContractBench.drive(
                            concurrency: options.concurrency,
                            seconds: options.seconds
                        ) {
                            _ = try await info.platform.notificationService().execute(
                                EntityReference(logicalName: "serviceendpoint", id: endpoint),
                                context: context,
                                transaction: nil,
                                messageId: nil,
                                traceparent: nil
                            )
                        }
                        group.cancelAll()
                        return result
                    }
                    guard received.withLock({ $0 }) == run.count else {
                        throw CommandFailure(
                            "the receiver got \(received.withLock { $0 }) posts, the callers made \(run.count)"
                        )
                    }
                    print(
                        run.table(
                            title:
                                "Webhook posts (notification service → local receiver, JSON, \(options.concurrency) callers, \(options.seconds) s)",
                            unit: "posts"
                        )
                    )
                    if let path = options.json { try run.write(json: path, benchmark: "webhook", extra: [:]) }
                }
            }
        }
    }
}

/// What the contract benchmarks share: the context posted, the endpoint, a closed-loop driver and its report.
enum ContractBench {
    /// The options every contract benchmark takes.
    struct Options: ParsableArguments {
        @Option(help: "Concurrent callers.") var concurrency = 16
        @Option(help: "Seconds the callers post for.") var seconds = 10
        @Option(help: "Write the results as JSON to this file.") var json: String?

        func validate() throws {
            guard concurrency > 0, seconds > 0 else {
                throw ValidationError("--concurrency and --seconds must be positive.")
            }
        }
    }

    /// A closed-loop run: each caller calls one after another for the run's length.
    struct Run: Sendable {
        var count: Int
        var seconds: Double
        /// Ascending, in milliseconds.
        var latencies: [Double]

        var perSecond: Double { Double(count) / seconds }

        func table(title: String, unit: String) -> String {
            """
            \(title)
              \(unit)/s: \(String(format: "%.0f", perSecond)) (\(count) in \(String(format: "%.1f", seconds)) s)
              latency p50: \(String(format: "%.2f", latencies.percentile(0.50))) ms
              latency p99: \(String(format: "%.2f", latencies.percentile(0.99))) ms
              latency max: \(String(format: "%.2f", latencies.last ?? 0)) ms
            """
        }

        func write(json path: String, benchmark: String, extra: [String: Any]) throws {
            var object: [String: Any] = [
                "benchmark": benchmark, "count": count, "seconds": seconds, "perSecond": perSecond,
                "p50Milliseconds": latencies.percentile(0.5), "p99Milliseconds": latencies.percentile(0.99),
                "maxMilliseconds": latencies.last ?? 0,
            ]
            object.merge(extra) { _, new in new }
            try BenchCommand.write(json: object, to: path)
        }
    }

    /// Runs `call` from `concurrency` callers for `seconds`; any failure stops the run with its error.
    static func drive(
        concurrency: Int,
        seconds: Int,
        _ call: @escaping @Sendable () async throws -> Void
    ) async throws -> Run {
        let start = ContinuousClock.now
        let end = start + .seconds(seconds)
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var mine: [Double] = []
                    while ContinuousClock.now < end {
                        let began = ContinuousClock.now
                        try await call()
                        mine.append((ContinuousClock.now - began).milliseconds)
                    }
                    return mine
                }
            }
            var all: [Double] = []
            for try await mine in group { all += mine }
            return all
        }
        return Run(
            count: latencies.count,
            seconds: (ContinuousClock.now - start).milliseconds / 1000,
            latencies: latencies.sorted()
        )
    }

    /// POSTs `body`; returns the status.
    static func post(
        _ client: HTTPClient,
        _ url: String,
        headers: [(String, String)],
        body: [UInt8]
    ) async throws -> UInt {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        return response.status.code
    }

    /// A service endpoint created through the organization service, as the administrator.
    static func createEndpoint(_ info: ServerReady, _ columns: [(String, ContextValue)]) async throws -> Guid {
        var row = Entity(logicalName: "serviceendpoint")
        row.attributes = KeyedCollection(columns.map { KeyValuePair(key: $0.0, value: $0.1) })
        return try await info.platform.organizationService(userId: info.platform.administratorId).create(row)
    }

    /// The context of an Update of a contact, as a post carries it.
    static func context() -> RemoteExecutionContext {
        var context = RemoteExecutionContext()
        context.messageName = "Update"
        context.primaryEntityName = "contact"
        context.primaryEntityId = Guid.random()
        context.operationId = Guid.random()
        context.correlationId = Guid.random()
        context.stage = 40
        context.mode = 1
        context.depth = 1
        context.organizationName = "conduit"
        var target = Entity(logicalName: "contact", id: context.primaryEntityId)
        target.attributes = [
            ("firstname", .string("Ada")), ("lastname", .string("Lovelace")),
            ("emailaddress1", .string("ada@example.com")), ("jobtitle", .string("Analyst")),
            ("numberofchildren", .int(3)), ("donotemail", .boolean(false)),
        ]
        context.inputParameters["Target"] = .entity(target)
        return context
    }
}

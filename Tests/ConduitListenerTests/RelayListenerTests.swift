import AsyncHTTPClient
import ConduitBus
import ConduitContext
import ConduitListener
import ConduitPlatform
import ConduitServer
import ConduitStore
import ConduitTestSupport
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket
import ServiceLifecycle
import Synchronization
import Testing
import WSClient

/// The embedded relay over real sockets: `conduit serve`'s HTTP port with a ``RelayListener`` on its control
/// channel (WebSocket), and senders in HTTP request mode.
@Suite("relay (hybrid connections) over WebSockets")
struct RelayListenerTests {
    /// A started server, its bus connection string and its namespace's root key.
    struct Server: Sendable {
        var ready: ServerReady
        var store: Store

        var base: String { "http://127.0.0.1:\(ready.port)" }

        /// A Send/Listen token for `path` signed with the root rule.
        func token(_ path: String) throws -> String {
            try ConnectionString(parsing: ready.busConnectionString).token(for: path)
        }

        func createRelay(_ name: String, clientAuthorization: Bool = true) async throws {
            try await BusNamespace(store: store).relays.createRelay(
                HybridConnection(name: name, requiresClientAuthorization: clientAuthorization),
                now: Int64(Date().timeIntervalSince1970 * 1000)
            )
        }
    }

    /// Runs `body` against a private server on a free loopback port.
    static func withServer(
        jobs: AsyncServiceConfiguration? = nil,
        _ body: @Sendable (Server) async throws -> Void
    ) async throws {
        var logger = Logger(label: "conduit.test.relay")
        logger.logLevel = .warning
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-relay-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = Store(
            configuration: StoreConfiguration(backend: .sqlite(path: directory + "/conduit.sqlite")),
            logger: logger
        )
        let ready = AsyncStream<ServerReady>.makeStream()
        let server = ConduitHTTPServer(
            configuration: ServerConfiguration(port: 0, dataDirectory: directory, jobs: jobs),
            store: store,
            logger: logger
        ) { ready.continuation.yield($0) }
        let group = ServiceGroup(services: [store, server], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                defer { ready.continuation.finish() }
                try await group.run()
            }
            var iterator = ready.stream.makeAsyncIterator()
            let info = try #require(await iterator.next())
            do {
                try await body(Server(ready: info, store: store))
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    /// Runs `body` while `listener` listens (connected), then stops it.
    static func whileListening(
        _ listener: RelayListener,
        _ body: @Sendable () async throws -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await listener.run() }
            await listener.waitUntilConnected()
            do {
                try await body()
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }

    /// Sends one request; returns its status and body.
    static func send(
        _ method: HTTPMethod = .POST,
        _ url: String,
        headers: [(String, String)] = [],
        body: [UInt8] = []
    ) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if !body.isEmpty { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 4 * 1024 * 1024))
        return (Int(response.status.code), text)
    }

    static func logger() -> Logger {
        var logger = Logger(label: "conduit.test.relay-listener")
        logger.logLevel = .critical
        return logger
    }

    @Test("A relayed request reaches the listener without the relay's credentials, and its answer comes back")
    func requestAndAnswer() async throws {
        try await Self.withServer { server in
            try await server.createRelay("echo")
            let seen = Mutex<[RelayListener.Request]>([])
            let listener = try RelayListener(
                connectionString: server.ready.busConnectionString,
                relay: "echo",
                logger: Self.logger()
            ) { request in
                seen.withLock { $0.append(request) }
                return RelayListener.Response(
                    statusCode: 201,
                    headers: ["Content-Type": "text/plain", "X-Listener": "yes"],
                    body: Array("\(request.method) \(request.target) \(request.body.count) bytes".utf8)
                )
            }
            try await Self.whileListening(listener) {
                let token = try server.token("echo")
                let query = RelayListenerTestsSupport.encode(token)
                let answer = try await Self.send(
                    .POST,
                    "\(server.base)/echo/orders/new?x=1&sb-hc-token=\(query)",
                    headers: [("X-Custom", "kept"), ("Content-Type", "application/json")],
                    body: Array("{\"a\":1}".utf8)
                )
                #expect(answer.status == 201)
                #expect(answer.body == "POST /echo/orders/new?x=1 7 bytes")
                let request = try #require(seen.withLock { $0.first })
                #expect(request.header("X-Custom") == "kept")
                #expect(request.header("Content-Type") == "application/json")
                // The token in a header is stripped too.
                let viaHeader = try await Self.send(
                    .PUT,
                    "\(server.base)/echo",
                    headers: [("ServiceBusAuthorization", token)],
                    body: Array("hi".utf8)
                )
                #expect(viaHeader.status == 201 && viaHeader.body == "PUT /echo 2 bytes")
                #expect(seen.withLock { $0.last?.header("ServiceBusAuthorization") } == nil)
            }
        }
    }

    @Test("Without a listener 502; without a token 401; a listener on a missing relay or without a token is refused")
    func refusals() async throws {
        try await Self.withServer { server in
            try await server.createRelay("lonely")
            let token = try server.token("lonely")
            let noListener = try await Self.send(
                .POST,
                "\(server.base)/lonely",
                headers: [("ServiceBusAuthorization", token)],
                body: Array("x".utf8)
            )
            #expect(noListener.status == 502)
            #expect(noListener.body.contains("No listener is connected"))
            let noToken = try await Self.send(.POST, "\(server.base)/lonely", body: Array("x".utf8))
            #expect(noToken.status == 401)
            let missing = try await Self.send(
                .GET,
                "\(server.base)/$hc/ghost?sb-hc-action=listen&sb-hc-token=\(RelayListenerTestsSupport.encode(token))"
            )
            #expect(missing.status == 404)
            let unauthorized = try await Self.send(.GET, "\(server.base)/$hc/lonely?sb-hc-action=listen")
            #expect(unauthorized.status == 401)
            let senders = try await Self.send(
                .GET,
                "\(server.base)/$hc/lonely?sb-hc-action=connect&sb-hc-token=\(RelayListenerTestsSupport.encode(token))"
            )
            #expect(senders.status == 400 && senders.body.contains("connects as a WebSocket"))
        }
    }

    @Test("A body above 64 kB goes through a rendezvous; a failing handler answers 500; an open relay needs no token")
    func rendezvousAndFailures() async throws {
        try await Self.withServer { server in
            try await server.createRelay("big", clientAuthorization: false)
            let listener = try RelayListener(
                connectionString: server.ready.busConnectionString,
                relay: "big",
                logger: Self.logger()
            ) { request in
                if request.header("X-Fail") != nil { throw ListenerError("refused on purpose") }
                return .text("got \(request.body.count) bytes, last \(request.body.last ?? 0)")
            }
            try await Self.whileListening(listener) {
                let body = (0..<200_000).map { UInt8($0 % 251) }
                let large = try await Self.send(.POST, "\(server.base)/big", body: body)
                #expect(large.status == 200)
                #expect(large.body == "got 200000 bytes, last \(body.last ?? 0)")
                let failed = try await Self.send(.POST, "\(server.base)/big", headers: [("X-Fail", "1")])
                #expect(failed.status == 500)
                #expect(failed.body.contains("refused on purpose"))
                // Several at once share the control channel.
                try await withThrowingTaskGroup(of: (Int, String).self) { group in
                    for index in 0..<20 {
                        group.addTask {
                            try await Self.send(
                                .POST,
                                "\(server.base)/big/\(index)",
                                body: Array(repeating: 1, count: index)
                            )
                        }
                    }
                    var answers = 0
                    for try await (status, text) in group {
                        #expect(status == 200 && text.hasPrefix("got "))
                        answers += 1
                    }
                    #expect(answers == 20)
                }
            }
        }
    }
}

extension RelayListenerTests {
    @Test("ContextListener on a relay: each context handled once, answered with the relay answer; not a context is 400")
    func contextListenerOnRelay() async throws {
        try await Self.withServer { server in
            try await server.createRelay("contexts")
            let handled = Mutex<[Guid]>([])
            let listener = ContextListener(
                connectionString: server.ready.busConnectionString,
                source: .relay("contexts"),
                options: .init(relayAnswer: "Approved"),
                logger: Self.logger()
            ) { received in
                handled.withLock { $0.append(received.context.operationId) }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await listener.run() }
                let token = try server.token("contexts")
                var context = RemoteExecutionContext()
                context.messageName = "Update"
                context.operationId = Guid.random()
                let body = ContextCodec.encode(context, format: .xml)
                var answers: [(Int, String)] = []
                // The listener connects in the background: the first posts may find none yet (502).
                for _ in 0..<200 {
                    let answer = try await Self.send(
                        .POST,
                        "\(server.base)/contexts",
                        headers: [("ServiceBusAuthorization", token), ("Content-Type", "application/xml")],
                        body: body
                    )
                    if answer.status != 502 {
                        answers.append(answer)
                        if answers.count == 2 { break }
                    } else {
                        try await Task.sleep(for: .milliseconds(25))
                    }
                }
                #expect(answers.map(\.0) == [200, 200])
                #expect(answers.map(\.1) == ["Approved", "Approved"])
                #expect(handled.withLock { $0 } == [context.operationId])
                let notContext = try await Self.send(
                    .POST,
                    "\(server.base)/contexts",
                    headers: [("ServiceBusAuthorization", token), ("Content-Type", "text/plain")],
                    body: Array("hello".utf8)
                )
                #expect(notContext.status == 400)
                group.cancelAll()
            }
        }
    }
}

extension RelayListenerTests {
    @Test("A remote relay (another Conduit) is posted to over HTTP with SAS; a wrong key leaves the job waiting")
    func remoteRelay() async throws {
        let jobs = AsyncServiceConfiguration(workers: 2, pollInterval: .milliseconds(50))
        try await Self.withServer { remote in
            try await remote.createRelay("remote")
            let listener = try RelayListener(
                connectionString: remote.ready.busConnectionString,
                relay: "remote",
                logger: Self.logger()
            ) { request in
                .text("remote OK: \(request.header("x-conduit-contract") ?? "?")")
            }
            try await Self.whileListening(listener) {
                try await Self.withServer(jobs: jobs) { local in
                    let service = local.ready.platform.organizationService(userId: local.ready.platform.administratorId)
                    let key = try ConnectionString(parsing: remote.ready.busConnectionString).key ?? ""
                    var endpoints: [Guid] = []
                    for (name, saskey) in [("right", key), ("wrong", BusNamespace.randomKey())] {
                        var row = Entity(logicalName: "serviceendpoint")
                        row.attributes = [
                            ("name", .string(name)), ("contract", .optionSetValue(OptionSetValue(3))),
                            ("authtype", .optionSetValue(OptionSetValue(2))),
                            ("messageformat", .optionSetValue(OptionSetValue(3))),
                            ("namespaceaddress", .string("http://127.0.0.1:\(remote.ready.port)/")),
                            ("path", .string("remote")), ("saskeyname", .string(BusNamespace.rootRuleName)),
                            ("saskey", .string(saskey)), ("userclaim", .optionSetValue(OptionSetValue(1))),
                            ("connectionmode", .optionSetValue(OptionSetValue(1))),
                        ]
                        endpoints.append(try await service.create(row))
                    }
                    for endpoint in endpoints {
                        try await service.registerStep(
                            "relay \(endpoint)",
                            message: "Create",
                            table: "contact",
                            handler: EntityReference(logicalName: "serviceendpoint", id: endpoint)
                        )
                    }
                    _ = try await service.create(
                        Entity(logicalName: "contact", attributes: [("lastname", .string("Remote"))])
                    )
                    var rows: [Entity] = []
                    for _ in 0..<400 {
                        rows = try await service.retrieveMultiple(
                            QueryExpression(entityName: "asyncoperation", orders: [OrderExpression("name")])
                        ).entities
                        let statuses = rows.compactMap { $0.attributes["statuscode"]?.optionValue }
                        if statuses.contains(30) && statuses.contains(10) { break }
                        try await Task.sleep(for: .milliseconds(25))
                    }
                    let succeeded = rows.first { $0.attributes["statuscode"]?.optionValue == 30 }
                    #expect(succeeded?.attributes["conduit_response"] == .string("remote OK: Rest"))
                    let waiting = rows.first { $0.attributes["statuscode"]?.optionValue == 10 }
                    guard case .string(let message)? = waiting?.attributes["message"] else {
                        Issue.record("No job waits after the wrong key: \(rows.map(\.attributes))")
                        return
                    }
                    #expect(message.contains("refused the endpoint's credentials") && message.contains("(401)"))
                }
            }
        }
    }
}

extension RelayListenerTests {
    @Test("A WebSocket sender is joined with a listener (accept, rendezvous); a listener without a handler rejects it")
    func webSocketSenders() async throws {
        try await Self.withServer { server in
            try await server.createRelay("chat")
            try await server.createRelay("plain")
            let chat = try RelayListener(
                connectionString: server.ready.busConnectionString,
                relay: "chat",
                logger: Self.logger(),
                connections: { accept, inbound, outbound in
                    #expect(accept.connectHeaders["Host"] == "127.0.0.1:\(server.ready.port)")
                    for try await message in inbound.messages(maxSize: 1 << 16) {
                        if case .text(let text) = message { try await outbound.write(.text(text.uppercased())) }
                    }
                }
            ) { _ in .text("http") }
            let plain = try RelayListener(
                connectionString: server.ready.busConnectionString,
                relay: "plain",
                logger: Self.logger()
            ) { _ in .text("http") }
            try await Self.whileListening(chat) {
                try await Self.whileListening(plain) {
                    let replies = Mutex<[String]>([])
                    let token = RelayListenerTestsSupport.encode(try server.token("chat"))
                    let sender = WebSocketClient(
                        url: "ws://127.0.0.1:\(server.ready.port)/$hc/chat?sb-hc-action=connect&sb-hc-token=\(token)",
                        logger: Self.logger()
                    ) { inbound, outbound, _ in
                        try await outbound.write(.text("hello"))
                        try await outbound.write(.text("relay"))
                        for try await message in inbound.messages(maxSize: 1 << 16) {
                            guard case .text(let text) = message else { continue }
                            let count = replies.withLock { replies -> Int in
                                replies.append(text)
                                return replies.count
                            }
                            if count == 2 { try await outbound.close(.normalClosure, reason: nil) }
                        }
                    }
                    try await sender.run()
                    #expect(replies.withLock { $0 } == ["HELLO", "RELAY"])
                    // A listener with no connection handler rejects: the sender's handshake fails.
                    let plainToken = RelayListenerTestsSupport.encode(try server.token("plain"))
                    let rejected = WebSocketClient(
                        url:
                            "ws://127.0.0.1:\(server.ready.port)/$hc/plain?sb-hc-action=connect&sb-hc-token=\(plainToken)",
                        logger: Self.logger()
                    ) { _, _, _ in Issue.record("A rejected sender was connected") }
                    await #expect(throws: (any Error).self) { try await rejected.run() }
                    // A plain GET is told to upgrade; a sender without a token is refused.
                    let notUpgraded = try await Self.send(
                        .GET,
                        "\(server.base)/$hc/chat?sb-hc-action=connect&sb-hc-token=\(token)"
                    )
                    #expect(notUpgraded.status == 400)
                    let unauthorized = try await Self.send(.GET, "\(server.base)/$hc/chat?sb-hc-action=connect")
                    #expect(unauthorized.status == 401)
                }
            }
        }
    }
}

enum RelayListenerTestsSupport {
    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

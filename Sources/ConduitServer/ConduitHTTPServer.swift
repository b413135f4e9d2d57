import AsyncHTTPClient
import ConduitAMQP
import ConduitBus
import ConduitContext
import ConduitEndpoints
import ConduitPlatform
import ConduitStore
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOSSL
import NIOWebSocket
import SQLKit
import ServiceLifecycle
import Synchronization
import Tracing

/// What `conduit serve` listens on and where it keeps its data.
public struct ServerConfiguration: Sendable {
    /// The address to listen on (loopback by default).
    public var host: String
    /// The HTTP port (0 picks a free one).
    public var port: Int
    /// Where the embedded database and the administrator's key live.
    public var dataDirectory: String
    /// The organization's unique name.
    public var organizationName: String
    /// The asynchronous service that runs system jobs on this node; `nil` runs none (another node does).
    public var jobs: AsyncServiceConfiguration?
    /// The embedded bus's namespace name: service endpoints addressed `sb://<name>/` post to it.
    public var namespaceName: String
    /// The organization's URI, sent in the `…/Claims/Organization` message property; `nil` for
    /// `http://<host>:<port>/`.
    public var organizationURL: String?
    /// How long a post to a remote namespace may take.
    public var postTimeout: Duration
    /// A PEM file of the certificate authorities that remote namespaces' certificates must chain to; `nil` for the
    /// system's trust store.
    public var remoteCAFile: String?
    /// The AMQP 1.0 port of the embedded bus (0 picks a free one); `nil` serves no AMQP.
    public var amqpPort: Int?
    /// Whether to trace each change's way and log the spans (`ConduitTracer.logging`, label `conduit.trace`).
    public var traceLog: Bool
    /// The certificate of the TLS listeners (HTTPS on ``httpsPort``, AMQPS on ``amqpsPort``); `nil` serves no TLS.
    public var tls: ServerTLS?
    /// The HTTPS port when ``tls`` is set (0 picks a free one): the Web API, the console, the bus's REST and relay
    /// endpoints and AMQP over secure WebSockets, as on the HTTP port.
    public var httpsPort: Int
    /// The AMQPS port when ``tls`` is set (0 picks a free one); `nil` serves no AMQPS.
    public var amqpsPort: Int?
    /// Whether the plain-text listeners (HTTP on ``port``, AMQP on ``amqpPort``) run; with `false` only the TLS
    /// listeners do.
    public var plainListeners: Bool

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        dataDirectory: String = "./conduit-data",
        organizationName: String = "conduit",
        jobs: AsyncServiceConfiguration? = AsyncServiceConfiguration(),
        namespaceName: String = "localhost",
        organizationURL: String? = nil,
        postTimeout: Duration = .seconds(60),
        remoteCAFile: String? = nil,
        amqpPort: Int? = nil,
        traceLog: Bool = false,
        tls: ServerTLS? = nil,
        httpsPort: Int = 8443,
        amqpsPort: Int? = 5671,
        plainListeners: Bool = true
    ) {
        self.tls = tls
        self.httpsPort = httpsPort
        self.amqpsPort = amqpsPort
        self.plainListeners = plainListeners
        self.traceLog = traceLog
        self.amqpPort = amqpPort
        self.remoteCAFile = remoteCAFile
        self.namespaceName = namespaceName
        self.organizationURL = organizationURL
        self.postTimeout = postTimeout
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.organizationName = organizationName
        self.jobs = jobs
    }

    /// `<data-dir>/admin.key`.
    public var administratorKeyPath: String { (dataDirectory as NSString).appendingPathComponent("admin.key") }
}

/// What a started server tells its caller.
public struct ServerReady: Sendable {
    /// `http://host:port/api/data/v9.2/` (`https://…` on the HTTPS port when the plain listeners are off).
    public var webAPIURL: String
    /// The bound HTTP port (the HTTPS port when the plain listeners are off).
    public var port: Int
    /// The administrator's key file.
    public var administratorKeyPath: String
    /// The platform, for in-process use (tests, tools).
    public var platform: Platform
    /// The embedded bus's connection string for its REST data plane (on the HTTP port).
    public var busConnectionString: String
    /// The AMQP port, when AMQP is served.
    public var amqpPort: Int?
    /// The connection string for the Azure SDKs (AMQP, `UseDevelopmentEmulator=true`), when AMQP is served.
    public var amqpConnectionString: String?
    /// The bound HTTPS port, when TLS is served.
    public var httpsPort: Int?
    /// The bound AMQPS port, when AMQPS is served.
    public var amqpsPort: Int?
    /// The connection string for the Azure SDKs over AMQPS (no `UseDevelopmentEmulator`), when AMQPS is served.
    public var amqpsConnectionString: String?
}

/// The platform, its Web API and its asynchronous service (system jobs) as one long-running service (run it in a
/// `ServiceGroup` after the `Store`).
public final class ConduitHTTPServer: Service, Sendable {
    let configuration: ServerConfiguration
    let store: Store
    let logger: Logger
    let plugins: PluginRegistry
    let onReady: @Sendable (ServerReady) async -> Void

    public init(
        configuration: ServerConfiguration,
        store: Store,
        plugins: PluginRegistry = PluginRegistry(),
        logger: Logger,
        onReady: @escaping @Sendable (ServerReady) async -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.store = store
        self.plugins = plugins
        self.logger = logger
        self.onReady = onReady
    }

    public func run() async throws {
        let platform = try await Platform.open(
            store: store,
            plugins: plugins,
            organizationName: configuration.organizationName,
            migrations: [APIKeys.migration] + BusNamespace.migrations,
            tracer: configuration.traceLog
                ? ConduitTracer.logging(Logger(label: "conduit.trace")) as any Tracer : NoOpTracer(),
            logger: logger
        )
        let keys = APIKeys(store: store)
        try await ensureAdministratorKey(keys: keys, platform: platform)
        let bus = BusNamespace(store: store)
        let root = try await bus.ensureRootRule()
        let metrics = ServerMetrics()
        let httpClient = try ServiceEndpoints.makeHTTPClient(remoteCAFile: configuration.remoteCAFile)
        let notifications = try ServiceEndpoints.install(
            on: platform,
            bus: bus,
            embedded: EmbeddedNamespace(
                name: configuration.namespaceName,
                hosts: [configuration.host, "127.0.0.1", "localhost"],
                // The fixed ports of the listeners that run (a port picked at start is added once bound).
                ports: Set(
                    [
                        configuration.plainListeners ? configuration.port : 0,
                        configuration.tls == nil ? 0 : configuration.httpsPort,
                    ].filter { $0 != 0 }
                )
            ),
            httpClient: httpClient,
            remoteTLS: try ServiceEndpoints.remoteTLS(remoteCAFile: configuration.remoteCAFile),
            organizationURL: configuration.organizationURL
                ?? "http://\(configuration.host):\(configuration.port)/",
            postTimeout: configuration.postTimeout,
            metrics: metrics.factory,
            logger: logger
        )
        // Dataverse's sample custom Azure-aware plug-in, ready for steps (docs/endpoints.md).
        try await platform.registerPluginType(
            AzureAwarePlugin.self,
            typeName: AzureAwarePlugin.typeName,
            friendlyName: "Azure-aware plug-in (posts the context to the service endpoint in its configuration)"
        )
        try await platform.registerWorkflowActivity(
            ConcatenateActivity.self,
            typeName: ConcatenateActivity.typeName,
            friendlyName: "Concatenate (sample custom workflow activity)"
        )
        let configuration = self.configuration
        let logger = self.logger
        let tlsConfiguration = configuration.tls?.serverConfiguration()
        let amqp = configuration.plainListeners ? configuration.amqpPort : nil
        let amqpServer = amqp.map { bus.amqpServer(host: configuration.host, port: $0, logger: logger) }
        let amqpsServer: AMQPServer?
        if let tlsConfiguration, let port = configuration.amqpsPort {
            amqpsServer = bus.amqpServer(
                host: configuration.host,
                port: port,
                tls: try NIOSSLContext(configuration: tlsConfiguration),
                logger: logger
            )
        } else {
            amqpsServer = nil
        }
        let amqpServers = [amqpServer, amqpsServer].compactMap { $0 }
        let store = self.store
        let observability = Observability(
            metrics: metrics,
            amqpConnections: { amqpServers.isEmpty ? nil : amqpServers.reduce(0) { $0 + $1.connectionCount } },
            readiness: {
                var problems: [String] = []
                do {
                    try await store.withDatabase { db in _ = try await db.raw("SELECT 1 AS one").all() }
                } catch {
                    problems.append("The database cannot be reached: \(error)")
                }
                for server in amqpServers where server.localAddress == nil {
                    problems.append("The AMQP listener is not bound (port \(server.port)).")
                }
                return problems
            }
        )
        let namespaceName = configuration.namespaceName
        /// The routes of a listener (the HTTPS one marks its requests `https`).
        let router = { @Sendable (secure: Bool) in
            ConduitApplication.router(
                platform: platform,
                keys: keys,
                bus: bus,
                namespaceName: namespaceName,
                observability: observability,
                secure: secure,
                logger: logger
            )
        }
        let relays = RelayController(namespace: bus, logger: logger)
        let onReady = self.onReady
        // The HTTP and HTTPS listeners serve the same routes; once every one is bound, the server is ready.
        let listeners = ListenerPorts(
            expected: (configuration.plainListeners ? 1 : 0) + (tlsConfiguration == nil ? 0 : 1)
        )
        let announce: @Sendable () async -> Void = {
            let http = listeners.port(.http)
            let https = listeners.port(.https)
            let port = http ?? https ?? configuration.port
            let scheme = http == nil ? "https" : "http"
            let amqpPort = await amqpServer?.waitUntilListening()
            let amqpsPort = await amqpsServer?.waitUntilListening()
            for bound in [http, https].compactMap({ $0 }) { notifications.listening(port: bound) }
            notifications.listening(
                port: port,
                organizationURL: configuration.organizationURL == nil
                    ? "\(scheme)://\(configuration.host):\(port)/" : nil
            )
            await onReady(
                ServerReady(
                    webAPIURL: "\(scheme)://\(configuration.host):\(port)/api/data/v9.2/",
                    port: port,
                    administratorKeyPath: configuration.administratorKeyPath,
                    platform: platform,
                    // Over HTTPS (no plain port) without the development-emulator switch: clients then use TLS.
                    busConnectionString: BusNamespace.connectionString(
                        host: configuration.host,
                        port: port,
                        rule: root,
                        tls: scheme == "https"
                    ),
                    amqpPort: amqpPort,
                    amqpConnectionString: amqpPort.map {
                        BusNamespace.connectionString(host: configuration.host, port: $0, rule: root)
                    },
                    httpsPort: https,
                    amqpsPort: amqpsPort,
                    amqpsConnectionString: amqpsPort.map {
                        BusNamespace.connectionString(host: configuration.host, port: $0, rule: root, tls: true)
                    }
                )
            )
        }
        func application(port: Int, tls: TLSConfiguration?) throws -> any Service {
            let base = HTTPServerBuilder.http1WebSocketUpgrade(
                configuration: .init(ws: WebSocketServerConfiguration(maxFrameSize: RelayController.maximumBody))
            ) { request, channel, _ in
                // Relay listeners' control channels and rendezvous sockets (`/$hc/{path}?sb-hc-action=…`).
                if let relay = await relays.shouldUpgrade(request, connection: ObjectIdentifier(channel)) {
                    return relay
                }
                // AMQP over WebSockets, as the Azure SDKs open it (`TransportType.AmqpOverWebsocket`).
                guard let amqp = amqpServer ?? amqpsServer,
                    request.path?.split(separator: "?").first == "/$servicebus/websocket"
                else {
                    return .dontUpgrade
                }
                let offered = request.headerFields[values: .secWebSocketProtocol].flatMap {
                    $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                }
                guard offered.contains(AMQPServer.webSocketProtocol) else { return .dontUpgrade }
                let peer = channel.remoteAddress?.description ?? "?"
                return .upgrade([.secWebSocketProtocol: AMQPServer.webSocketProtocol]) { inbound, outbound, _ in
                    await amqp.serveConnection(
                        inbound: inbound.map(\.data),
                        peer: "websocket " + peer,
                        eventLoop: channel.eventLoop,
                        write: { try await outbound.write(.binary($0)) },
                        closeTransport: { try? await outbound.close(.normalClosure, reason: nil) }
                    )
                }
            }
            let kind: ListenerPorts.Kind = tls == nil ? .http : .https
            return Application(
                router: router(tls != nil),
                server: try tls.map { try .tls(base, tlsConfiguration: $0) } ?? base,
                configuration: ApplicationConfiguration(
                    address: .hostname(configuration.host, port: port),
                    serverName: "Conduit"
                ),
                onServerRunning: { channel in
                    if listeners.bound(kind, port: channel.localAddress?.port ?? port) { await announce() }
                },
                logger: logger
            )
        }
        var services: [any Service] = []
        if configuration.plainListeners { services.append(try application(port: configuration.port, tls: nil)) }
        if let tlsConfiguration {
            services.append(try application(port: configuration.httpsPort, tls: tlsConfiguration))
        }
        if let jobs = configuration.jobs {
            services.append(
                AsyncService(platform: platform, configuration: jobs, logger: logger, metrics: metrics.factory)
            )
        }
        services += amqpServers as [any Service]
        do {
            try await serve(services)
        } catch {
            await notifications.shutdown()
            try? await httpClient.shutdown()
            throw error
        }
        await notifications.shutdown()
        try await httpClient.shutdown()
    }

    /// Runs the Web API's listeners and the services beside them (the asynchronous service, the AMQP servers).
    private func serve(_ services: [any Service]) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services {
                group.addTask { try await service.run() }
            }
            // Graceful shutdown ends them all: the Web API stops taking requests, the workers finish their running
            // jobs, AMQP connections close. If one fails, the others are cancelled.
            do {
                for try await _ in group {}
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    /// Writes the administrator's key to `<data-dir>/admin.key` (mode 0600) unless the file holds a valid key.
    func ensureAdministratorKey(keys: APIKeys, platform: Platform) async throws {
        let path = configuration.administratorKeyPath
        if let existing = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines
        ),
            try await keys.user(for: existing) == platform.administratorId
        {
            return
        }
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        let key = try await keys.issue(for: platform.administratorId, name: "administrator (admin.key)")
        guard
            FileManager.default.createFile(
                atPath: path,
                contents: Data((key + "\n").utf8),
                attributes: [.posixPermissions: 0o600]
            )
        else {
            throw PlatformError(.unexpected, "Cannot write the administrator's key to \(path).")
        }
    }
}

/// The HTTP and HTTPS ports as their listeners bind.
private final class ListenerPorts: Sendable {
    enum Kind: Hashable, Sendable {
        case http
        case https
    }

    private let expected: Int
    private let ports = Mutex<[Kind: Int]>([:])

    init(expected: Int) {
        self.expected = expected
    }

    /// Records a bound listener; `true` for the last one expected (then every listener is up).
    func bound(_ kind: Kind, port: Int) -> Bool {
        ports.withLock { ports in
            ports[kind] = port
            return ports.count == expected
        }
    }

    func port(_ kind: Kind) -> Int? { ports.withLock { $0[kind] } }
}

import ConduitBus
import ConduitContext
import ConduitPlatform
import ConduitStore
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The HTTP side of `conduit serve`: the Web API behind API-key authentication.
public enum ConduitApplication {
    /// The router: `/api/data/v9.2/…` (API keys), the System Jobs console (`/`, its API at `/api/console/…`),
    /// `/health`, with ``Observability`` `/metrics` (Prometheus) and
    /// `/ready`, and, with a namespace, the embedded bus's Service Bus
    /// REST data plane (`/<queue>/messages…`, SAS tokens), its management API and its relay (hybrid connections).
    public static func router(
        platform: Platform,
        keys: APIKeys,
        bus: BusNamespace? = nil,
        namespaceName: String = "localhost",
        observability: Observability? = nil,
        secure: Bool = false,
        logger: Logger = Logger(label: "conduit")
    ) -> Router<ConduitRequestContext> {
        let router = Router(context: ConduitRequestContext.self)
        if secure { router.add(middleware: SecureSchemeMiddleware()) }
        if let observability {
            router.add(middleware: HTTPMetricsMiddleware(factory: observability.metrics.factory))
            router.get("metrics") { _, _ -> Response in
                let text = try await observability.metrics.scrape(
                    platform: platform,
                    bus: bus ?? BusNamespace(store: platform.store),
                    amqpConnections: observability.amqpConnections()
                )
                return Response(
                    status: .ok,
                    headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: text))
                )
            }
            router.get("ready") { _, _ -> Response in
                let problems = await observability.readiness()
                return Response(
                    status: problems.isEmpty ? .ok : .serviceUnavailable,
                    headers: [.contentType: "text/plain; charset=utf-8"],
                    body: .init(
                        byteBuffer: ByteBuffer(string: problems.isEmpty ? "ready" : problems.joined(separator: "\n"))
                    )
                )
            }
        }
        if let bus {
            // Before every route: requests to a hybrid connection's path go to its listeners.
            router.add(middleware: RelayRequestMiddleware(relays: RelayController(namespace: bus, logger: logger)))
        }
        router.get("health") { _, _ in "ok" }
        let console = ConsoleController(platform: platform, bus: bus)
        console.registerAssets(on: router)
        let api = router.group().add(middleware: APIKeyMiddleware(keys: keys))
        WebAPIController(platform: platform).register(on: api)
        console.registerAPI(on: api)
        if let bus {
            BusRESTController(namespace: bus).register(on: router)
            BusManagementController(namespace: bus, namespaceName: namespaceName).register(on: router)
            RelayController(namespace: bus, logger: logger).registerRefusals(on: router)
        }
        return router
    }
}

/// What `/metrics` and `/ready` read: the server's metrics, its AMQP connections, and whether it is ready.
public struct Observability: Sendable {
    public var metrics: ServerMetrics
    /// Open AMQP connections; `nil` when the server serves no AMQP.
    public var amqpConnections: @Sendable () -> Int?
    /// What keeps the server from serving (the database cannot be reached, a listener is not bound); empty when
    /// ready.
    public var readiness: @Sendable () async -> [String]

    public init(
        metrics: ServerMetrics,
        amqpConnections: @escaping @Sendable () -> Int? = { nil },
        readiness: @escaping @Sendable () async -> [String] = { [] }
    ) {
        self.metrics = metrics
        self.amqpConnections = amqpConnections
        self.readiness = readiness
    }
}

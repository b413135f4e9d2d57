import AsyncHTTPClient
import ConduitBus
import ConduitContext
import ConduitPlatform
import Logging
import Metrics
import NIOCore
import NIOSSL

/// Service endpoints on a platform: the `serviceendpoint` rules and the notification service, installed together.
public enum ServiceEndpoints {
    /// The message that posts a test context to an endpoint (Dataverse's `TriggerServiceEndpointCheck`), bound to
    /// the `serviceendpoint` row.
    public static let checkMessage = "TriggerServiceEndpointCheck"

    /// The HTTP client for posts to remote namespaces. A refused connection fails the attempt at once, and the
    /// system job's backoff (not the client's) decides when to try again. Certificates are always verified (chain
    /// and host name), against the system's trust store or, when given, only the CAs in `remoteCAFile` (PEM).
    /// Shut it down when done.
    public static func makeHTTPClient(remoteCAFile: String? = nil) throws -> HTTPClient {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(10)))
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.tlsConfiguration = try remoteTLS(remoteCAFile: remoteCAFile)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// The TLS configuration of posts to remote namespaces (HTTPS and AMQPS): full verification (chain and host
    /// name) against the system's trust store or, when given, only the CAs in `remoteCAFile` (PEM).
    public static func remoteTLS(remoteCAFile: String? = nil) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .fullVerification
        if let remoteCAFile {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(remoteCAFile))
            } catch {
                throw PlatformError(
                    .invalidArgument,
                    "The remote CA file \(remoteCAFile) cannot be read as PEM certificates: \(error)."
                )
            }
        }
        return tls
    }

    /// The context a check posts: a `TriggerServiceEndpointCheck` of the endpoint itself, from the `SYSTEM` user.
    static func testContext(for endpoint: EntityReference, platform: Platform) -> RemoteExecutionContext {
        var context = RemoteExecutionContext()
        context.messageName = checkMessage
        context.primaryEntityName = "serviceendpoint"
        context.primaryEntityId = endpoint.id
        context.organizationId = platform.organization.id
        context.organizationName = platform.organization.name
        context.businessUnitId = platform.organization.rootBusinessUnitId
        context.userId = platform.organization.systemUserId
        context.initiatingUserId = platform.organization.systemUserId
        context.operationId = Guid.random()
        context.correlationId = Guid.random()
        context.operationCreatedOn = DotNetDateTime.now()
        context.depth = 1
        context.stage = 40
        context.mode = 0
        return context
    }

    /// Installs the checks on `serviceendpoint` rows and the notification service that posts contexts (for steps
    /// whose handler is a service endpoint, and for plug-ins).
    ///
    /// - Parameters:
    ///   - embedded: How this server's embedded namespace is addressed.
    ///   - organizationURL: The organization's URI, sent as the `…/Claims/Organization` property.
    ///   - httpClient: Posts to `https://` and `http://` addresses (the Service Bus REST API).
    ///   - remoteTLS: Verifies the certificates of `sb://` (AMQP over TLS) namespaces; see ``remoteTLS(remoteCAFile:)``.
    ///   - postTimeout: How long a post to a remote namespace may take.
    /// - Throws: when `remoteTLS` cannot be used (an unreadable trust store).
    @discardableResult
    public static func install(
        on platform: Platform,
        bus: BusNamespace,
        embedded: EmbeddedNamespace = EmbeddedNamespace(),
        httpClient: HTTPClient = .shared,
        remoteTLS: TLSConfiguration? = nil,
        organizationURL: String,
        postTimeout: Duration = .seconds(60),
        metrics: any MetricsFactory = NOOPMetricsHandler.instance,
        logger: Logger
    ) throws -> NotificationService {
        let service = NotificationService(
            platform: platform,
            bus: bus,
            embedded: embedded,
            httpClient: httpClient,
            tls: try NIOSSLContext(configuration: remoteTLS ?? Self.remoteTLS()),
            organizationURL: organizationURL,
            postTimeout: postTimeout,
            metrics: metrics,
            logger: logger
        )
        platform.addRule(table: "serviceendpoint") { [service] target, current, _, _ in
            try ServiceEndpointRules(embedded: service.embedded).check(&target, current: current)
        }
        platform.install(notificationService: service)
        platform.registerMessage(Self.checkMessage) { [platform] request, services in
            guard case .entityReference(let target)? = request.parameters["Target"] ?? request.parameters["entity"],
                target.logicalName == "serviceendpoint"
            else {
                throw PlatformError(
                    .invalidArgument,
                    "\(Self.checkMessage) needs a service endpoint: POST serviceendpoints(<id>)/Microsoft.Dynamics.CRM.\(Self.checkMessage)."
                )
            }
            try await services.notificationService.execute(
                target,
                context: Self.testContext(for: target, platform: platform)
            )
            return []
        }
        return service
    }
}

import AsyncHTTPClient
import ConduitBus
import ConduitContext
import ConduitPlatform
import Foundation
import Logging
import Metrics
import NIOSSL
import SQLKit
import Synchronization
import Tracing

/// Conduit's `IServiceEndpointNotificationService`: reads the service endpoint, builds the message (format, 192 KB
/// rule, Claims properties, stable `MessageId`) and posts it — to the embedded bus as a durable enqueue, or to a
/// remote namespace over AMQP (`sb://`, `amqp://` addresses) or the Service Bus REST API (`https://`, `http://`) —
/// or to a relay listener through a hybrid connection (``RelayTransport``, contracts 1, 3 and 4), or posts the JSON
/// context to a webhook (``WebhookTransport``).
///
/// ```swift
/// let endpoints = try ServiceEndpoints.install(on: platform, bus: namespace, organizationURL: url, logger: logger)
/// ```
public final class NotificationService: ServiceEndpointNotificationService {
    let platform: Platform
    let logger: Logger
    private let addressing: Mutex<(embedded: EmbeddedNamespace, organizationURL: String)>
    private let local: EmbeddedBusTransport
    private let remote: ServiceBusRESTTransport
    private let remoteAMQP: ServiceBusAMQPTransport
    private let webhooks: WebhookTransport
    private let relays: RelayTransport
    private let metrics: PostMetrics
    private let cache = Mutex<[Guid: (endpoint: ServiceEndpoint, generation: Int, at: ContinuousClock.Instant)]>([:])
    /// How long a read endpoint is trusted when this node saw no change (other nodes' changes show after it).
    static let cacheLifetime: Duration = .seconds(5)

    init(
        platform: Platform,
        bus: BusNamespace,
        embedded: EmbeddedNamespace,
        httpClient: HTTPClient,
        tls: NIOSSLContext,
        organizationURL: String,
        postTimeout: Duration,
        metrics: any MetricsFactory,
        logger: Logger
    ) {
        self.metrics = PostMetrics(factory: metrics)
        self.platform = platform
        self.addressing = Mutex((embedded, organizationURL))
        self.logger = logger
        self.local = EmbeddedBusTransport(namespace: bus)
        self.remote = ServiceBusRESTTransport(client: httpClient, timeout: postTimeout)
        self.remoteAMQP = ServiceBusAMQPTransport(tls: tls, timeout: postTimeout, logger: logger)
        self.webhooks = WebhookTransport(client: httpClient, timeout: postTimeout)
        self.relays = RelayTransport(client: httpClient, namespace: bus, timeout: postTimeout)
    }

    /// Closes the AMQP connections kept to remote namespaces.
    public func shutdown() async {
        await remoteAMQP.shutdown()
    }

    /// How the embedded namespace is addressed.
    public var embedded: EmbeddedNamespace { addressing.withLock { $0.embedded } }

    /// The organization's URI (the `…/Claims/Organization` property).
    public var organizationURL: String { addressing.withLock { $0.organizationURL } }

    /// Tells the service the port the server listens on once it is bound: an address with this port is the
    /// embedded namespace. `organizationURL`, when given, replaces the organization's URI.
    public func listening(port: Int, organizationURL: String? = nil) {
        addressing.withLock {
            $0.embedded.ports.insert(port)
            if let organizationURL { $0.organizationURL = organizationURL }
        }
    }

    public func execute(
        _ serviceEndpoint: EntityReference,
        context: RemoteExecutionContext,
        transaction: (any SQLDatabase)?,
        messageId: String?,
        traceparent: String?
    ) async throws -> String? {
        // A span per post, continuing the job's (or the synchronous operation's) trace; the message carries this
        // span's `traceparent` so that a listener continues the trace.
        try await TraceSpans.run(
            "post to service endpoint",
            kind: .producer,
            continuing: traceparent,
            tracer: platform.tracer
        ) { span, traceparent in
            span.attributes["conduit.endpoint.id"] = serviceEndpoint.id.description
            if let messageId { span.attributes["messaging.message.id"] = messageId }
            let started = ContinuousClock.now
            var endpoint: ServiceEndpoint?
            do {
                let answer = try await post(
                    serviceEndpoint,
                    context: context,
                    transaction: transaction,
                    messageId: messageId,
                    traceparent: traceparent,
                    endpoint: &endpoint
                )
                metrics.record(endpoint, outcome: "ok", since: started)
                if let endpoint { span.operationName = "post to \(endpoint.name)" }
                return answer
            } catch {
                metrics.record(endpoint, outcome: error is ExternalServiceError ? "retry" : "failed", since: started)
                if let endpoint { span.operationName = "post to \(endpoint.name)" }
                throw error
            }
        }
    }

    /// Posts; `endpoint` is the row once it is read (for the metrics).
    private func post(
        _ serviceEndpoint: EntityReference,
        context: RemoteExecutionContext,
        transaction: (any SQLDatabase)?,
        messageId: String?,
        traceparent: String?,
        endpoint read: inout ServiceEndpoint?
    ) async throws -> String? {
        let endpoint = try await self.endpoint(serviceEndpoint.id, transaction: transaction)
        read = endpoint
        let (embedded, organizationURL) = addressing.withLock { ($0.embedded, $0.organizationURL) }
        if endpoint.contract == .webhook {
            // The environment's domain name, as Dataverse sends it.
            let organization = URLComponents(string: organizationURL)?.host ?? platform.organization.name
            _ = try await webhooks.post(
                context,
                to: endpoint,
                organization: organization,
                traceparent: traceparent,
                synchronous: transaction != nil
            )
            logger.debug("Posted a context to a webhook", metadata: ["endpoint": "\(endpoint.id)"])
            return nil
        }
        let message: EndpointMessage
        do {
            message = try EndpointMessage.build(
                context,
                for: endpoint,
                organizationURL: organizationURL,
                messageId: messageId,
                traceparent: traceparent
            )
        } catch {
            throw PlatformError(
                .unexpected,
                "The message for service endpoint '\(endpoint.name)' was not sent: \(error)"
            )
        }
        let isLocal: Bool
        do {
            isLocal = try embedded.contains(endpoint)
        } catch {
            throw PlatformError(.invalidArgument, error.message)
        }
        if endpoint.contract.isRelay {
            let answer = try await relays.post(
                message,
                context: context,
                to: endpoint,
                organization: URLComponents(string: organizationURL)?.host ?? platform.organization.name,
                isLocal: isLocal
            )
            logger.debug(
                "Posted a context to a relay listener",
                metadata: [
                    "endpoint": "\(endpoint.id)", "path": "\(endpoint.path)", "answer": "\(answer?.count ?? 0) chars",
                ]
            )
            return answer
        } else if isLocal {
            try await local.post(message, to: endpoint, transaction: transaction)
        } else if try EndpointAddress(parsing: endpoint.address).isAMQP {
            guard endpoint.contract.isServiceBus || endpoint.contract == .eventHub else {
                throw PlatformError(
                    .unexpected,
                    "Posting to a remote \(endpoint.contract.label) is not built yet (remote queues, topics and event hubs are)."
                )
            }
            try await remoteAMQP.post(message, to: endpoint)
        } else {
            guard endpoint.contract.isServiceBus else {
                throw PlatformError(
                    .unexpected,
                    "Posting to a remote \(endpoint.contract.label) over REST is not built (remote queues and topics are; event hubs take an sb:// address)."
                )
            }
            try await remote.post(message, to: endpoint)
        }
        logger.debug(
            "Posted a context",
            metadata: [
                "endpoint": "\(endpoint.id)", "path": "\(endpoint.path)", "messageId": "\(message.messageId)",
                "bytes": "\(message.body.count)", "truncated": "\(message.isTruncated)",
            ]
        )
        return nil
    }

    /// The endpoint, from the cache when this node changed no registration since it was read.
    func endpoint(_ id: Guid, transaction: (any SQLDatabase)?) async throws -> ServiceEndpoint {
        let generation = platform.registrationGeneration
        let now = ContinuousClock.now
        if transaction == nil, let cached = cache.withLock({ $0[id] }), cached.generation == generation,
            now - cached.at < Self.cacheLifetime
        {
            return cached.endpoint
        }
        guard
            let row = try await platform.rowWithSecrets(
                EntityReference(logicalName: "serviceendpoint", id: id),
                transaction: transaction
            )
        else {
            throw PlatformError(
                .objectDoesNotExist,
                "The service endpoint \(id) does not exist (it was deleted); nothing was posted."
            )
        }
        let endpoint: ServiceEndpoint
        do {
            endpoint = try ServiceEndpoint(row: row)
        } catch {
            throw PlatformError(.invalidArgument, "The service endpoint \(id) cannot be used: \(error.message)")
        }
        cache.withLock { $0[id] = (endpoint, generation, now) }
        return endpoint
    }
}

/// Posts counted and timed by endpoint, contract and outcome (`ok`, `retry`: the job will try again, `failed`).
struct PostMetrics: Sendable {
    let handles: MetricHandles

    init(factory: any MetricsFactory) {
        handles = MetricHandles(factory: factory)
    }

    func record(_ endpoint: ServiceEndpoint?, outcome: String, since started: ContinuousClock.Instant) {
        let dimensions = [
            ("endpoint", endpoint?.name ?? "unknown"), ("contract", endpoint?.contract.label ?? "unknown"),
            ("outcome", outcome),
        ]
        handles.timer("conduit_post_duration_seconds", dimensions).record(since: started)
    }
}

import AsyncHTTPClient
import ConduitBus
import ConduitPlatform
import Logging

/// Service endpoints on a platform: the `serviceendpoint` rules and the notification service, installed together.
public enum ServiceEndpoints {
    /// Installs the checks on `serviceendpoint` rows and the notification service that posts contexts (for steps
    /// whose handler is a service endpoint, and for plug-ins).
    ///
    /// - Parameters:
    ///   - embedded: How this server's embedded namespace is addressed.
    ///   - organizationURL: The organization's URI, sent as the `…/Claims/Organization` property.
    ///   - postTimeout: How long a post to a remote namespace may take.
    @discardableResult
    public static func install(
        on platform: Platform,
        bus: BusNamespace,
        embedded: EmbeddedNamespace = EmbeddedNamespace(),
        httpClient: HTTPClient = .shared,
        organizationURL: String,
        postTimeout: Duration = .seconds(60),
        logger: Logger
    ) -> NotificationService {
        let service = NotificationService(
            platform: platform,
            bus: bus,
            embedded: embedded,
            httpClient: httpClient,
            organizationURL: organizationURL,
            postTimeout: postTimeout,
            logger: logger
        )
        platform.addRule(table: "serviceendpoint") { [service] target, current, _ in
            try ServiceEndpointRules(embedded: service.embedded).check(&target, current: current)
        }
        platform.install(notificationService: service)
        return service
    }
}

import ConduitBus
import ConduitContext
import ConduitPlatform
import ConduitStore
import Foundation
import Hummingbird
import Logging

/// The HTTP side of `conduit serve`: the Web API behind API-key authentication.
public enum ConduitApplication {
    /// The router: `/api/data/v9.2/…` (API keys), `/health`, and, with a namespace, the embedded bus's Service Bus
    /// REST data plane (`/<queue>/messages…`, SAS tokens), its management API and its relay (hybrid connections).
    public static func router(
        platform: Platform,
        keys: APIKeys,
        bus: BusNamespace? = nil,
        namespaceName: String = "localhost",
        logger: Logger = Logger(label: "conduit")
    ) -> Router<ConduitRequestContext> {
        let router = Router(context: ConduitRequestContext.self)
        if let bus {
            // Before every route: requests to a hybrid connection's path go to its listeners.
            router.add(middleware: RelayRequestMiddleware(relays: RelayController(namespace: bus, logger: logger)))
        }
        router.get("health") { _, _ in "ok" }
        let api = router.group().add(middleware: APIKeyMiddleware(keys: keys))
        WebAPIController(platform: platform).register(on: api)
        if let bus {
            BusRESTController(namespace: bus).register(on: router)
            BusManagementController(namespace: bus, namespaceName: namespaceName).register(on: router)
            RelayController(namespace: bus, logger: logger).registerRefusals(on: router)
        }
        return router
    }
}

import ConduitContext
import ConduitPlatform
import ConduitStore
import Foundation
import Hummingbird
import Logging

/// The HTTP side of `conduit serve`: the Web API behind API-key authentication.
public enum ConduitApplication {
    /// The router: `/api/data/v9.2/…` (authenticated) and `/health`.
    public static func router(platform: Platform, keys: APIKeys) -> Router<ConduitRequestContext> {
        let router = Router(context: ConduitRequestContext.self)
        router.get("health") { _, _ in "ok" }
        let api = router.group().add(middleware: APIKeyMiddleware(keys: keys))
        WebAPIController(platform: platform).register(on: api)
        return router
    }
}

import Hummingbird

/// Marks the requests of the HTTPS listener with the scheme `https` (Hummingbird's HTTP/1 codec leaves every request
/// `http`), so that the URLs the server writes (`@odata.context`, `Location`, feed links) name the scheme the client
/// used.
struct SecureSchemeMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        var head = request.head
        head.scheme = "https"
        return try await next(Request(head: head, body: request.body), context)
    }
}

extension Request {
    /// `scheme://authority`, as the client addressed this server (`localhost` when the request named no host).
    var origin: String {
        "\(head.scheme ?? "http")://\(head.authority ?? "localhost")"
    }
}

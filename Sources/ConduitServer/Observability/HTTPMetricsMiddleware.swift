import ConduitPlatform
import Hummingbird
import Metrics

/// Counts and times every HTTP request by method, status and area (`webapi`, `bus`, `relay`, `ops`); the path itself
/// is left out so that ids in it do not make a series each.
struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let handles: MetricHandles

    init(factory: any MetricsFactory) {
        handles = MetricHandles(factory: factory)
    }

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        let area = Self.area(request.uri.path)
        do {
            let response = try await next(request, context)
            record(request, status: Int(response.status.code), area: area, since: started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            record(request, status: Int(status), area: area, since: started)
            throw error
        }
    }

    private func record(_ request: Request, status: Int, area: String, since started: ContinuousClock.Instant) {
        let dimensions = [("method", request.method.rawValue), ("status", String(status)), ("area", area)]
        handles.counter("conduit_http_requests_total", dimensions).increment()
        handles.timer("conduit_http_request_duration_seconds", [("method", request.method.rawValue), ("area", area)])
            .record(since: started)
    }

    static func area(_ path: String) -> String {
        let first = path.split(separator: "/").first.map(String.init) ?? ""
        switch first {
        case "api": return "webapi"
        case "$hc": return "relay"
        case "metrics", "health", "ready", "": return "ops"
        default: return "bus"
        }
    }
}

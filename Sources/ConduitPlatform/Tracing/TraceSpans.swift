import ServiceContextModule
import Tracing

/// Spans around the steps of a change's way, continuing a `traceparent` given as text (from a request header, a
/// system job's row, a message) and giving the new span's `traceparent` to what comes next.
public enum TraceSpans {
    /// Runs `body` in a span of `tracer` named `name` that continues `traceparent` (or the current context). `body`
    /// gets the span and the `traceparent` to carry on: the new span's, or `traceparent` itself when the tracer
    /// records nothing (so that a caller's trace still reaches the messages).
    public static func run<T>(
        _ name: String,
        kind: SpanKind,
        continuing traceparent: String?,
        tracer: some Tracer,
        _ body: (any Span, String?) async throws -> T
    ) async rethrows -> T {
        var context = ServiceContext.current ?? .topLevel
        if let traceparent { tracer.extract(["traceparent": traceparent], into: &context, using: TraceparentCarrier()) }
        return try await tracer.withSpan(name, context: context, ofKind: kind) { span in
            var carrier: [String: String] = [:]
            tracer.inject(span.context, into: &carrier, using: TraceparentCarrier())
            return try await body(span, carrier["traceparent"] ?? traceparent)
        }
    }
}

/// Injects into and extracts from a `[String: String]` (the `traceparent` header as text).
public struct TraceparentCarrier: Injector, Extractor {
    public init() {}

    public func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key] = value
    }

    public func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}

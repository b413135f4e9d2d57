import Foundation
import Instrumentation
import Logging
import ServiceContextModule
import Synchronization
import Tracing

/// A span that has ended, as ``ConduitTracer`` hands it to its exporter.
public struct FinishedSpan: Sendable, Hashable {
    public var name: String
    public var kind: String
    public var traceID: String
    public var spanID: String
    /// The parent's span id; `nil` for a trace's first span.
    public var parentSpanID: String?
    /// Unix nanoseconds.
    public var start: UInt64
    public var end: UInt64
    public var attributes: [String: String]
    /// `nil` (unset), `ok` or `error`.
    public var status: String?
    public var statusMessage: String?
    public var errors: [String]

    public var durationMilliseconds: Double { Double(end &- start) / 1_000_000 }
}

/// A tracer (swift-distributed-tracing) with W3C trace context propagation (`traceparent`) that hands every ended
/// span to an exporter: ``logging(_:)`` writes one log line per span (`conduit serve --trace-log`); tests collect them.
///
/// Any other `Tracer` works in its place (an OpenTelemetry one, say): Conduit only starts spans and injects and
/// extracts `traceparent` through the `Tracer` API.
public final class ConduitTracer: Tracer, Sendable {
    public typealias Span = ConduitSpan

    let export: @Sendable (FinishedSpan) -> Void

    /// A tracer that hands ended spans to `export`.
    public init(export: @escaping @Sendable (FinishedSpan) -> Void) {
        self.export = export
    }

    /// A tracer that logs each ended span at `info` (with `--log-format json`, one JSON object per span): `trace.id`,
    /// `span.id`, `span.parent_id`, `span.kind`, `duration.ms`, status and attributes.
    public static func logging(_ logger: Logger) -> ConduitTracer {
        ConduitTracer { span in
            var metadata: Logger.Metadata = [
                "trace.id": "\(span.traceID)", "span.id": "\(span.spanID)", "span.kind": "\(span.kind)",
                "duration.ms": "\(String(format: "%.3f", span.durationMilliseconds))",
            ]
            if let parent = span.parentSpanID { metadata["span.parent_id"] = "\(parent)" }
            if let status = span.status { metadata["span.status"] = "\(status)" }
            if let message = span.statusMessage { metadata["span.status_message"] = "\(message)" }
            if !span.errors.isEmpty { metadata["span.errors"] = .array(span.errors.map { .string($0) }) }
            for (key, value) in span.attributes { metadata[key] = "\(value)" }
            logger.info("span \(span.name)", metadata: metadata)
        }
    }

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String,
        context: @autoclosure () -> ServiceContext,
        ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant,
        function: String,
        file fileID: String,
        line: UInt
    ) -> ConduitSpan {
        var context = context()
        let parent = context.w3cTraceContext
        let own = W3CTraceContext(
            traceID: parent?.traceID ?? W3CTraceContext.newTraceID(),
            spanID: W3CTraceContext.newSpanID(),
            sampled: parent?.sampled ?? true
        )
        context.w3cTraceContext = own
        return ConduitSpan(
            name: operationName,
            kind: kind,
            context: context,
            trace: own,
            parentSpanID: parent?.spanID,
            start: instant().nanosecondsSinceEpoch,
            export: export
        )
    }

    public func forceFlush() {}

    public func inject<Carrier, Inject: Injector>(
        _ context: ServiceContext,
        into carrier: inout Carrier,
        using injector: Inject
    ) where Carrier == Inject.Carrier {
        guard let trace = context.w3cTraceContext else { return }
        injector.inject(trace.traceparent, forKey: "traceparent", into: &carrier)
    }

    public func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier,
        into context: inout ServiceContext,
        using extractor: Extract
    ) where Carrier == Extract.Carrier {
        guard let text = extractor.extract(key: "traceparent", from: carrier),
            let trace = W3CTraceContext(traceparent: text)
        else { return }
        context.w3cTraceContext = trace
    }
}

/// A span of ``ConduitTracer``.
public final class ConduitSpan: Tracing.Span, Sendable {
    public let context: ServiceContext
    let trace: W3CTraceContext
    let kind: SpanKind
    let parentSpanID: String?
    let start: UInt64
    let export: @Sendable (FinishedSpan) -> Void

    private struct State {
        var name: String
        var attributes: SpanAttributes = [:]
        var status: SpanStatus?
        var errors: [String] = []
        var ended = false
    }
    private let state: Mutex<State>

    init(
        name: String,
        kind: SpanKind,
        context: ServiceContext,
        trace: W3CTraceContext,
        parentSpanID: String?,
        start: UInt64,
        export: @escaping @Sendable (FinishedSpan) -> Void
    ) {
        self.context = context
        self.trace = trace
        self.kind = kind
        self.parentSpanID = parentSpanID
        self.start = start
        self.export = export
        self.state = Mutex(State(name: name))
    }

    public var operationName: String {
        get { state.withLock { $0.name } }
        set { state.withLock { $0.name = newValue } }
    }

    public var attributes: SpanAttributes {
        get { state.withLock { $0.attributes } }
        set { state.withLock { $0.attributes = newValue } }
    }

    public var isRecording: Bool { state.withLock { !$0.ended } }

    public func setStatus(_ status: SpanStatus) { state.withLock { $0.status = status } }

    public func addEvent(_ event: SpanEvent) {}

    public func addLink(_ link: SpanLink) {}

    public func recordError<Instant: TracerInstant>(
        _ error: any Error,
        attributes: SpanAttributes,
        at instant: @autoclosure () -> Instant
    ) {
        state.withLock { $0.errors.append("\(error)") }
    }

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        let end = instant().nanosecondsSinceEpoch
        let finished: State? = state.withLock { state in
            guard !state.ended else { return nil }
            state.ended = true
            return state
        }
        guard let finished else { return }
        var attributes: [String: String] = [:]
        finished.attributes.forEach { key, value in attributes[key] = Self.text(value) }
        export(
            FinishedSpan(
                name: finished.name,
                kind: "\(kind)",
                traceID: trace.traceID,
                spanID: trace.spanID,
                parentSpanID: parentSpanID,
                start: start,
                end: end,
                attributes: attributes,
                status: finished.status.map { $0.code == .ok ? "ok" : "error" },
                statusMessage: finished.status?.message,
                errors: finished.errors
            )
        )
    }

    /// An attribute's value as text (`204`, not `int64(204)`).
    static func text(_ value: SpanAttribute) -> String {
        switch value {
        case .int32(let number): String(number)
        case .int64(let number): String(number)
        case .double(let number): String(number)
        case .bool(let flag): String(flag)
        case .string(let text): text
        case .stringConvertible(let value): value.description
        case .int32Array(let items): items.map(String.init).joined(separator: ",")
        case .int64Array(let items): items.map(String.init).joined(separator: ",")
        case .doubleArray(let items): items.map { String($0) }.joined(separator: ",")
        case .boolArray(let items): items.map { String($0) }.joined(separator: ",")
        case .stringArray(let items): items.joined(separator: ",")
        case .stringConvertibleArray(let items): items.map(\.description).joined(separator: ",")
        default: "\(value)"
        }
    }
}

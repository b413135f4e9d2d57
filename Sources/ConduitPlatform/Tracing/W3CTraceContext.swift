import Foundation
import ServiceContextModule

/// A W3C trace context (`traceparent: 00-<trace id>-<span id>-<flags>`): which trace a span belongs to and which span
/// is its parent. It travels in HTTP headers, in `asyncoperation.conduit_traceparent` and in each posted message
/// (`traceparent`, `Diagnostic-Id`).
public struct W3CTraceContext: Sendable, Hashable, CustomStringConvertible {
    /// 32 lowercase hexadecimal digits, not all zero.
    public var traceID: String
    /// 16 lowercase hexadecimal digits, not all zero.
    public var spanID: String
    public var sampled: Bool

    public init(traceID: String, spanID: String, sampled: Bool = true) {
        self.traceID = traceID
        self.spanID = spanID
        self.sampled = sampled
    }

    /// Reads a `traceparent` value; `nil` unless it is version 00 with valid ids.
    public init?(traceparent text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "00", parts[3].count == 2,
            Self.isID(parts[1], length: 32), Self.isID(parts[2], length: 16),
            let flags = UInt8(parts[3], radix: 16)
        else { return nil }
        self.init(traceID: String(parts[1]), spanID: String(parts[2]), sampled: flags & 1 == 1)
    }

    /// The `traceparent` value.
    public var traceparent: String { "00-\(traceID)-\(spanID)-\(sampled ? "01" : "00")" }

    public var description: String { traceparent }

    static func isID(_ text: Substring, length: Int) -> Bool {
        text.count == length && text.allSatisfy { $0.isHexDigit && !$0.isUppercase } && text.contains { $0 != "0" }
    }

    /// A new random trace id.
    static func newTraceID() -> String {
        hex(UInt64.random(in: 1...UInt64.max)) + hex(UInt64.random(in: 0...UInt64.max))
    }

    /// A new random span id.
    static func newSpanID() -> String { hex(UInt64.random(in: 1...UInt64.max)) }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// The W3C trace context of the current span (or of the remote parent that a request or a job continues).
enum W3CTraceContextKey: ServiceContextKey {
    typealias Value = W3CTraceContext
    static var nameOverride: String? { "traceparent" }
}

extension ServiceContext {
    /// The W3C trace context this context carries, if any.
    public var w3cTraceContext: W3CTraceContext? {
        get { self[W3CTraceContextKey.self] }
        set { self[W3CTraceContextKey.self] = newValue }
    }
}

import ConduitContext
import Synchronization

/// A plug-in: code a step runs at a stage of the event pipeline (the SDK's `IPlugin`), compiled into the server
/// (isolation mode 1, None).
///
/// ```swift
/// struct Uppercase: Plugin {
///     init(configuration: String?, secureConfiguration: String?) throws {}
///     func execute(_ context: inout RemoteExecutionContext, services: PluginServices) async throws {
///         if case .entity(var target)? = context.inputParameters["Target"] { … }
///     }
/// }
/// ```
/// A plug-in may change `InputParameters` (in stages 10 and 20), `OutputParameters` (stage 40) and
/// `SharedVariables`; a thrown error stops the operation and, for a synchronous step, rolls it back.
public protocol Plugin: Sendable {
    /// Creates the plug-in with the step's unsecure and secure configuration strings.
    init(configuration: String?, secureConfiguration: String?) throws
    /// Runs the plug-in.
    func execute(_ context: inout RemoteExecutionContext, services: PluginServices) async throws
}

/// What a plug-in can call: the organization service (as the step's user, nested one level deeper), tracing, and
/// the notification service that posts contexts to service endpoints.
public struct PluginServices: Sendable {
    /// The organization service, as the step's user.
    public let organizationService: OrganizationService
    /// Trace lines for the step.
    public let tracing: TracingService
    /// Posts contexts to service endpoints (the SDK's `IServiceEndpointNotificationService`).
    public let notificationService: ServiceEndpointNotifier

    /// The services of a plug-in or custom message called by `caller` (already one level deeper).
    init(platform: Platform, caller: Caller) {
        organizationService = OrganizationService(platform: platform, caller: caller)
        tracing = TracingService()
        notificationService = ServiceEndpointNotifier(
            platform: platform,
            transaction: caller.transaction,
            traceparent: caller.traceparent
        )
    }
}

/// Collects a plug-in's trace lines (the SDK's `ITracingService`): the first 10 KB of them, as Dataverse keeps; a
/// failed system job's message ends with them.
public final class TracingService: Sendable {
    /// The trace text kept per execution, in bytes of UTF-8.
    public static let limit = 10 << 10
    /// The line that ends a trace cut at ``limit``.
    public static let cut = "[the trace was cut here: 10 KB of trace are kept per execution]"
    private struct Kept {
        var lines: [String] = []
        var bytes = 0
    }
    private let kept = Mutex(Kept())

    public init() {}

    /// Adds a line; past ``limit`` bytes in all, the line that crosses it is cut, ``cut`` follows, and later lines
    /// are dropped.
    public func trace(_ message: String) {
        kept.withLock { kept in
            guard kept.bytes <= Self.limit else { return }
            let room = Self.limit - kept.bytes
            kept.bytes += message.utf8.count
            if kept.bytes <= Self.limit {
                kept.lines.append(message)
            } else {
                kept.lines.append(String(decoding: message.utf8.prefix(room), as: UTF8.self))
                kept.lines.append(Self.cut)
            }
        }
    }

    /// The lines so far.
    public var text: [String] { kept.withLock { $0.lines } }
}

/// An error a plug-in throws to fail the operation with its own message (the SDK's
/// `InvalidPluginExecutionException`).
public struct InvalidPluginExecutionError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Thrown by an asynchronous plug-in (or the notification service) when a service outside Conduit failed — the
/// network, a remote bus, a timeout. Its system job waits and retries with backoff (Waiting, 1/10) instead of
/// failing; any other error fails the job at once.
public struct ExternalServiceError: Error, Sendable, CustomStringConvertible {
    /// What failed, for `message`.
    public var message: String
    /// What a person can do about it, for `friendlymessage` (defaults to `message`).
    public var friendlyMessage: String?
    /// The Dataverse error code, for `errorcode`.
    public var code: PlatformError.Code

    public init(_ message: String, friendlyMessage: String? = nil, code: PlatformError.Code = .unexpected) {
        self.message = message
        self.friendlyMessage = friendlyMessage
        self.code = code
    }

    public var description: String { message }
}

/// The plug-in types compiled into this server, by type name (`plugintype.typename`).
public final class PluginRegistry: Sendable {
    public typealias Factory = @Sendable (_ configuration: String?, _ secureConfiguration: String?) throws -> any Plugin
    private let factories = Mutex<[String: Factory]>([:])

    public init() {}

    /// Registers a plug-in type under `typeName`.
    public func register<P: Plugin>(_ type: P.Type, typeName: String) {
        factories.withLock { $0[typeName] = { try P(configuration: $0, secureConfiguration: $1) } }
    }

    /// Registers a factory under `typeName`.
    public func register(typeName: String, factory: @escaping Factory) {
        factories.withLock { $0[typeName] = factory }
    }

    func factory(_ typeName: String) -> Factory? {
        factories.withLock { $0[typeName] }
    }

    /// The registered type names.
    public var typeNames: [String] { factories.withLock { Array($0.keys) }.sorted() }
}

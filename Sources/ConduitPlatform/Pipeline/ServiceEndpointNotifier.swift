import ConduitContext
import SQLKit

/// Posts execution contexts to service endpoints: the SDK's `IServiceEndpointNotificationService`, implemented
/// outside the platform (by `ConduitEndpoints`) and installed with ``Platform/install(notificationService:)``.
public protocol ServiceEndpointNotificationService: Sendable {
    /// Posts `context` to the `serviceendpoint` row `serviceEndpoint`.
    ///
    /// - Parameters:
    ///   - transaction: The open transaction of a synchronous step, or `nil` outside one. A post to the embedded bus
    ///     joins it, so the message commits or rolls back with the operation.
    ///   - messageId: The message's id: the same for every attempt of one system job, so that retries collapse by
    ///     duplicate detection; `nil` for a fresh one.
    ///   - traceparent: The W3C trace context of the originating request, for the message's `Diagnostic-Id` and
    ///     `traceparent` properties.
    /// - Returns: The listener's answer for the two-way and REST contracts, otherwise `nil`.
    /// - Throws: ``ExternalServiceError`` when the bus or network failed (an asynchronous job retries), any other
    ///   error when the post can never succeed (the job fails; a synchronous operation rolls back).
    func execute(
        _ serviceEndpoint: EntityReference,
        context: RemoteExecutionContext,
        transaction: (any SQLDatabase)?,
        messageId: String?,
        traceparent: String?
    ) async throws -> String?
}

/// What a plug-in calls to post a context to a service endpoint (the SDK's `IServiceEndpointNotificationService`):
/// bound to the plug-in's transaction, so that a synchronous post to the embedded bus commits with the operation.
public struct ServiceEndpointNotifier: Sendable {
    let platform: Platform
    let transaction: (any SQLDatabase)?
    let traceparent: String?

    /// Posts `context` to the endpoint and returns the two-way or REST listener's answer (otherwise `nil`).
    /// - Throws: the endpoint's error: for an asynchronous step a network or bus failure makes the system job retry
    ///   the whole plug-in; for a synchronous step any error rolls the operation back.
    @discardableResult
    public func execute(_ serviceEndpoint: EntityReference, context: RemoteExecutionContext) async throws -> String? {
        try await platform.notificationService().execute(
            serviceEndpoint,
            context: context,
            transaction: transaction,
            messageId: nil,
            traceparent: traceparent
        )
    }
}

/// The notification service used until one is installed: says that posting is not available.
struct UnavailableNotificationService: ServiceEndpointNotificationService {
    func execute(
        _ serviceEndpoint: EntityReference,
        context: RemoteExecutionContext,
        transaction: (any SQLDatabase)?,
        messageId: String?,
        traceparent: String?
    ) async throws -> String? {
        throw PlatformError(
            .unexpected,
            "Posting to service endpoint \(serviceEndpoint.id) is not available: this platform was opened without the service endpoint module (ConduitEndpoints)."
        )
    }
}

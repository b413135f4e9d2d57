import ConduitBus
import ConduitPlatform
import Foundation
import SQLKit

/// Posts to this server's embedded bus: a durable enqueue in the Conduit database, in the caller's transaction
/// when there is one (a synchronous step's message commits or rolls back with the operation). The endpoint's SAS
/// credentials are checked against the namespace's and the entity's rules, with the Send right, as a remote namespace
/// would.
struct EmbeddedBusTransport: Sendable {
    let namespace: BusNamespace

    init(namespace: BusNamespace) {
        self.namespace = namespace
    }

    /// Checks the endpoint's SAS credentials against the namespace's and the entity's rules, with the Send right.
    /// - Throws: ``ExternalServiceError`` (the job retries once the credentials are fixed) when they are refused.
    static func authorize(
        _ endpoint: ServiceEndpoint,
        namespace: BusNamespace,
        transaction: (any SQLDatabase)?
    ) async throws {
        let now = Int64(Date().timeIntervalSince1970)
        let host = (try? EndpointAddress(parsing: endpoint.address))?.host ?? "localhost"
        let resource = "sb://\(host)/\(endpoint.path)"
        let header = try EndpointCredentials.authorization(for: endpoint, resource: resource, now: now)
        do {
            try await namespace.authorize(header, resource: resource, right: .send, now: now, transaction: transaction)
        } catch let error as AuthorizationError {
            throw PostFailure.refusedCredentials(
                "The embedded bus refused the endpoint's credentials (\(error.httpStatus)): \(error.message)"
            )
        }
    }

    func post(
        _ message: EndpointMessage,
        to endpoint: ServiceEndpoint,
        transaction: (any SQLDatabase)?
    ) async throws {
        let now = Date()
        try await Self.authorize(endpoint, namespace: namespace, transaction: transaction)
        let milliseconds = Int64(now.timeIntervalSince1970 * 1000)
        guard endpoint.contract.isServiceBus || endpoint.contract == .eventHub else {
            throw PlatformError(
                .unexpected,
                "Posting to a \(endpoint.contract.label) on the embedded bus is not built yet (queues, topics and event hubs are)."
            )
        }
        let kind = endpoint.contract == .topic ? "topic" : endpoint.contract == .eventHub ? "event hub" : "queue"
        do {
            try await namespace.send(
                [message.busMessage],
                to: endpoint.path,
                now: milliseconds,
                transaction: transaction
            )
        } catch let error as BusError where error.kind == .entityNotFound {
            throw ExternalServiceError(
                "The \(kind) '\(endpoint.path)' does not exist in the embedded namespace.",
                friendlyMessage:
                    "Create the \(kind) (conduit bus \(kind.replacingOccurrences(of: " ", with: "")) create \(endpoint.path)); the job posts on its next attempt."
            )
        }
    }
}

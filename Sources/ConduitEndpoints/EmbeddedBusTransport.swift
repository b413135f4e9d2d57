import ConduitBus
import ConduitPlatform
import Foundation
import SQLKit
import Synchronization

/// Posts to this server's embedded bus: a durable enqueue in the Conduit database, in the caller's transaction
/// when there is one (a synchronous step's message commits or rolls back with the operation). The endpoint's SAS
/// credentials are checked against the namespace's rules, with the Send right, as a remote namespace would.
final class EmbeddedBusTransport: Sendable {
    let namespace: BusNamespace
    private let cachedRules = Mutex<(rules: [AuthorizationRule], at: ContinuousClock.Instant)?>(nil)
    /// How long the namespace's rules are trusted without reading them again.
    static let rulesLifetime: Duration = .seconds(5)

    init(namespace: BusNamespace) {
        self.namespace = namespace
    }

    func post(
        _ message: EndpointMessage,
        to endpoint: ServiceEndpoint,
        transaction: (any SQLDatabase)?
    ) async throws {
        let now = Date()
        let host = (try? EndpointAddress(parsing: endpoint.address))?.host ?? "localhost"
        let resource = "sb://\(host)/\(endpoint.path)"
        let header = try EndpointCredentials.authorization(
            for: endpoint,
            resource: resource,
            now: Int64(now.timeIntervalSince1970)
        )
        do {
            do {
                try await authorize(header, resource: resource, now: now, fresh: false, transaction: transaction)
            } catch is AuthorizationError {
                // A rule made in the last seconds is not in the cached set yet.
                try await authorize(header, resource: resource, now: now, fresh: true, transaction: transaction)
            }
        } catch let error as AuthorizationError {
            throw ExternalServiceError(
                "The embedded bus refused the endpoint's credentials (\(error.httpStatus)): \(error.message)",
                friendlyMessage: "Fix the service endpoint's SAS key or token, then retry the job."
            )
        }
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

    /// `fresh`: read the rules again rather than use the cached ones.
    private func authorize(
        _ header: String,
        resource: String,
        now: Date,
        fresh: Bool,
        transaction: (any SQLDatabase)?
    ) async throws {
        let rules = try await rules(fresh: fresh, transaction: transaction)
        _ = try SASAuthorizer(rules: rules, ignoresHost: true).authorize(
            header,
            resource: resource,
            right: .send,
            now: Int64(now.timeIntervalSince1970)
        )
    }

    private func rules(fresh: Bool, transaction: (any SQLDatabase)?) async throws -> [AuthorizationRule] {
        let now = ContinuousClock.now
        if !fresh, let cached = cachedRules.withLock({ $0 }), now - cached.at < Self.rulesLifetime {
            return cached.rules
        }
        // In a transaction the rules are read through it: an SQLite writer must not wait for itself.
        let rules: [AuthorizationRule]
        if let transaction {
            rules = try await namespace.rules(transaction: transaction)
        } else {
            rules = try await namespace.rules()
        }
        cachedRules.withLock { $0 = (rules, now) }
        return rules
    }
}

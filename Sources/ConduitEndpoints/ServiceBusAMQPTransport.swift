import ConduitAMQP
import ConduitBus
import ConduitPlatform
import Foundation
import Logging
import NIOSSL

/// Posts to a remote Service Bus or Event Hubs namespace (Azure, or another Conduit) over AMQP 1.0, as the Azure
/// SDKs do: TLS on port 5671 for `sb://` addresses (verified against the system's trust store or the given CA),
/// plain AMQP on 5672 for `amqp://` addresses and connection strings with `UseDevelopmentEmulator=true`; SASL
/// ANONYMOUS, then a SAS token per entity through `$cbs`; one unsettled transfer per message, posted once the
/// namespace accepts it. Connections, tokens and sender links are kept and reused; a failed connection is dropped
/// and opened again by the next attempt.
final class ServiceBusAMQPTransport: Sendable {
    /// TLS for `sb://` addresses.
    let tls: NIOSSLContext
    /// How long one post may take (connecting, authorizing, sending).
    let timeout: Duration
    private let pool: AMQPConnectionPool

    /// How often a kept token is put again (tokens are made for an hour).
    static let tokenRefresh: Duration = .seconds(15 * 60)

    init(tls: NIOSSLContext, timeout: Duration, logger: Logger) {
        self.tls = tls
        self.timeout = timeout
        self.pool = AMQPConnectionPool(logger: logger)
    }

    /// Where and how an endpoint's posts go.
    struct Route: Hashable, Sendable {
        var host: String
        var port: Int
        var secure: Bool
    }

    static func route(for endpoint: ServiceEndpoint, address: EndpointAddress) -> Route {
        let emulator =
            endpoint.authType == .connectionString
            && ((try? ConnectionString(parsing: endpoint.authValue ?? ""))?.useDevelopmentEmulator ?? false)
        let secure = address.scheme == "sb" && !emulator
        return Route(host: address.host, port: address.port ?? (secure ? 5671 : 5672), secure: secure)
    }

    func post(_ message: EndpointMessage, to endpoint: ServiceEndpoint) async throws {
        let address = try EndpointAddress(parsing: endpoint.address)
        let route = Self.route(for: endpoint, address: address)
        let audience = "sb://\(address.host)\(address.port.map { ":\($0)" } ?? "")/\(endpoint.path)"
        let token = try EndpointCredentials.authorization(
            for: endpoint,
            resource: audience,
            now: Int64(Date().timeIntervalSince1970)
        )
        let payload = try message.amqpMessage.encoded()
        let outcome: AMQPDeliveryState?
        do {
            outcome = try await withDeadline(timeout, onTimeout: { [pool] in await pool.dropAll(route) }) { [self] in
                let connection = try await pool.connection(to: route, tls: route.secure ? tls : nil)
                do {
                    let sender = try await connection.sender(path: endpoint.path, audience: audience, token: token)
                    do {
                        return try await sender.send(encoded: payload)
                    } catch {
                        connection.forget(path: endpoint.path)
                        throw error
                    }
                } catch let error as AMQPError where !Self.isLinkLevel(error) {
                    await pool.drop(route, connection)
                    throw error
                }
            }
        } catch let error as AMQPError {
            throw Self.failure(error, address: address, endpoint: endpoint, route: route)
        } catch let error as AMQPPostTimeout {
            throw ExternalServiceError(
                "The namespace \(address) did not take the message to '\(endpoint.path)' within \(error.timeout).",
                friendlyMessage: "The remote namespace is slow or unreachable; the job will try again."
            )
        } catch {
            // The transport's own errors (a refused TCP connection, a name that does not resolve).
            throw Self.failure(
                AMQPError(condition: "amqp:connection:forced", description: "\(error)"),
                address: address,
                endpoint: endpoint,
                route: route
            )
        }
        switch outcome {
        case .accepted?:
            return
        case .rejected(let error)?:
            throw Self.failure(
                error ?? AMQPError(condition: AMQPError.notAllowed, description: "no reason given"),
                address: address,
                endpoint: endpoint,
                route: route
            )
        default:
            throw ExternalServiceError(
                "The namespace \(address) did not accept the message to '\(endpoint.path)' (its outcome: \(outcome.map { "\($0)" } ?? "none"))."
            )
        }
    }

    /// Whether an error concerns one link (a refused attach or token, a rejected message) and leaves the connection
    /// usable.
    static func isLinkLevel(_ error: AMQPError) -> Bool {
        !error.condition.hasPrefix("amqp:connection:") && error.condition != AMQPError.framingError
            && error.condition != "com.microsoft:timeout"
    }

    /// The platform error for an AMQP failure: a transient one lets the job retry, a refused message does not.
    static func failure(
        _ error: AMQPError,
        address: EndpointAddress,
        endpoint: ServiceEndpoint,
        route: Route
    ) -> any Error {
        let reason = error.errorDescription ?? error.condition
        switch error.condition {
        case AMQPError.unauthorizedAccess:
            return PostFailure.refusedCredentials(
                "The namespace \(address) refused the endpoint's credentials for '\(endpoint.path)': \(reason)"
            )
        case AMQPError.notFound, "com.microsoft:entity-disabled":
            return PostFailure.missingEntity(
                "The namespace \(address) has no entity '\(endpoint.path)' (or it is disabled): \(reason)",
                path: endpoint.path
            )
        case "amqp:link:message-size-exceeded", "com.microsoft:message-size-exceeded", AMQPError.decodeError:
            return PlatformError(
                .unexpected,
                "The namespace \(address) refused the message to '\(endpoint.path)': \(reason)"
            )
        default:
            if PostFailure.isCertificateProblem(reason) { return PostFailure.untrustedCertificate(address, reason) }
            let how = route.secure ? "AMQP over TLS" : "plain AMQP"
            return PostFailure.unreachable(
                "The namespace \(address) could not be reached over \(how) on port \(route.port): \(reason)."
            )
        }
    }

    /// Closes every kept connection.
    func shutdown() async {
        await pool.closeAll()
    }
}

/// The post took longer than its time.
struct AMQPPostTimeout: Error {
    var timeout: Duration
}

/// Runs `body`, throwing ``AMQPPostTimeout`` if it takes longer than `timeout`. `onTimeout` must make the body
/// return (by closing the connection it waits on); the body is also cancelled.
func withDeadline<T: Sendable>(
    _ timeout: Duration,
    onTimeout: @escaping @Sendable () async -> Void,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            await onTimeout()
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw AMQPPostTimeout(timeout: timeout) }
        return value
    }
}

import ConduitAMQP
import Foundation
import Logging
import NIOSSL
import Synchronization

/// The AMQP connections kept to remote namespaces, one per host, port and transport; the first post to a route
/// opens it and the others wait for that one.
actor AMQPConnectionPool {
    typealias Route = ServiceBusAMQPTransport.Route
    private var connections: [Route: Task<RemoteNamespaceConnection, any Error>] = [:]
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    /// The open connection to `route`, opened now if there is none.
    func connection(to route: Route, tls: NIOSSLContext?) async throws -> RemoteNamespaceConnection {
        if let opening = connections[route] {
            if let connection = try? await opening.value, !connection.client.isClosed { return connection }
            connections[route] = nil
        }
        let logger = logger
        let opening = Task {
            let client = try await AMQPClient.connect(
                host: route.host,
                port: route.port,
                credentials: .anonymous,
                hostname: route.host,
                tls: tls,
                logger: logger
            )
            do {
                let cbs = try await client.openRequester(node: "$cbs")
                return RemoteNamespaceConnection(client: client, cbs: cbs)
            } catch {
                await client.close()
                throw error
            }
        }
        connections[route] = opening
        do {
            return try await opening.value
        } catch {
            connections[route] = nil
            throw error
        }
    }

    /// Closes and forgets `connection` (after a connection-level failure).
    func drop(_ route: Route, _ connection: RemoteNamespaceConnection) async {
        if let current = connections[route], let open = try? await current.value, open === connection {
            connections[route] = nil
        }
        await connection.client.close()
    }

    /// Closes and forgets the connection to `route` (a post that took too long).
    func dropAll(_ route: Route) async {
        guard let opening = connections.removeValue(forKey: route) else { return }
        opening.cancel()
        if let connection = try? await opening.value { await connection.client.close() }
    }

    /// Closes every connection.
    func closeAll() async {
        for route in Array(connections.keys) { await dropAll(route) }
    }
}

/// One connection to a remote namespace, with its `$cbs` link and a sender per entity, each authorized by a token
/// put when the sender was opened and put again every ``ServiceBusAMQPTransport/tokenRefresh``.
final class RemoteNamespaceConnection: Sendable {
    let client: AMQPClient
    let cbs: AMQPClientRequester
    private let senders = Mutex<[String: (sender: AMQPClientSender, authorizedAt: ContinuousClock.Instant)]>([:])
    /// Opening senders and putting tokens, one at a time.
    private let setup = AMQPClientTurn()

    init(client: AMQPClient, cbs: AMQPClientRequester) {
        self.client = client
        self.cbs = cbs
    }

    /// The sender to `path`, authorized for `audience` with `token` (a `SharedAccessSignature …` value).
    func sender(path: String, audience: String, token: String) async throws -> AMQPClientSender {
        let key = path.lowercased()
        return try await setup.run {
            let now = ContinuousClock.now
            if let kept = senders.withLock({ $0[key] }) {
                if now - kept.authorizedAt < ServiceBusAMQPTransport.tokenRefresh { return kept.sender }
                try await AMQPClient.putToken(token, audience: audience, on: cbs)
                senders.withLock { $0[key]?.authorizedAt = now }
                return kept.sender
            }
            try await AMQPClient.putToken(token, audience: audience, on: cbs)
            let sender = try await client.openSender(address: path)
            senders.withLock { $0[key] = (sender, now) }
            return sender
        }
    }

    /// Forgets the sender to `path` after it failed; the next post opens a new one.
    func forget(path: String) {
        _ = senders.withLock { $0.removeValue(forKey: path.lowercased()) }
    }
}

import ConduitAMQP
import Logging
import NIOCore
import NIOSSL

extension BusNamespace {
    /// The namespace's AMQP 1.0 front door, as the Azure Service Bus and Event Hubs SDKs use it: plain TCP, as with
    /// `UseDevelopmentEmulator=true`, or TLS (AMQPS) with `tls`.
    /// - Parameters:
    ///   - port: 5672 by default; 0 picks a free port (`onListening` tells which).
    ///   - tls: the certificate and key of AMQPS, or `nil` for plain AMQP.
    public func amqpServer(
        host: String = "127.0.0.1",
        port: Int = 5672,
        configuration: AMQPConnectionStateMachine.Configuration = .init(containerId: "conduit"),
        tls: NIOSSLContext? = nil,
        logger: Logger,
        onListening: @escaping @Sendable (SocketAddress) async -> Void = { _ in }
    ) -> AMQPServer {
        AMQPServer(
            host: host,
            port: port,
            configuration: configuration,
            tls: tls,
            logger: logger,
            onListening: onListening
        ) { connection in
            BusAMQPHandler(namespace: self, connection: connection, logger: connection.logger)
        }
    }
}

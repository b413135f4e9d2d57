import HTTPTypes
import Logging
import NIOCore
import NIOWebSocket
import WSClient

extension AMQPClient {
    /// Connects over AMQP over WebSockets (`ws://host:port/$servicebus/websocket`, subprotocol `AMQPWSB10`), as the
    /// Azure SDKs' `AmqpOverWebsocket` transport does.
    public static func connectWebSocket(
        url: String,
        credentials: AMQPSASLCredentials?,
        hostname: String?,
        logger: Logger
    ) async throws -> AMQPClient {
        try await connect(credentials: credentials, hostname: hostname, logger: logger) { inbound, outbound in
            var configuration = WebSocketClientConfiguration()
            configuration.additionalHeaders = [.secWebSocketProtocol: AMQPServer.webSocketProtocol]
            let client = WebSocketClient(url: url, configuration: configuration, logger: logger) {
                arriving,
                leaving,
                _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await bytes in outbound { try await leaving.write(.binary(bytes)) }
                        try await leaving.close(.normalClosure, reason: nil)
                    }
                    for try await frame in arriving { inbound.yield(frame.data) }
                    group.cancelAll()
                }
            }
            do {
                try await client.run()
                inbound.finish()
            } catch {
                inbound.finish(throwing: error)
            }
        }
    }
}

import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// An AMQP 1.0 server on a TCP port: each connection runs an ``AMQPConnection`` with a handler the application makes
/// for it. A `Service`: graceful shutdown stops accepting and closes the connections.
public final class AMQPServer: Service, Sendable {
    public let host: String
    public let port: Int
    public let configuration: AMQPConnectionStateMachine.Configuration
    /// TLS on every connection (AMQPS), or `nil` for plain TCP.
    let tls: NIOSSLContext?
    let makeHandler: @Sendable (AMQPConnection) -> any AMQPConnectionHandler
    let logger: Logger
    let onListening: @Sendable (SocketAddress) async -> Void
    private let bound = Mutex<SocketAddress?>(nil)
    private let failed = Mutex(false)
    private let connections = Mutex<[ObjectIdentifier: AMQPConnection]>([:])
    /// The server's own event loops: its connections write to the database on them (see ``EventLoopTaskExecutor``),
    /// which must not hold up the HTTP server's loops or the process's clients.
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)

    /// - Parameters:
    ///   - port: the TCP port (0 picks a free one; ``onListening`` tells which).
    ///   - tls: serve AMQPS (TLS first, as Azure's port 5671) with this context (certificate and key).
    ///   - makeHandler: the application's handler for a new connection.
    public init(
        host: String = "127.0.0.1",
        port: Int = 5672,
        configuration: AMQPConnectionStateMachine.Configuration = .init(),
        tls: NIOSSLContext? = nil,
        logger: Logger,
        onListening: @escaping @Sendable (SocketAddress) async -> Void = { _ in },
        makeHandler: @escaping @Sendable (AMQPConnection) -> any AMQPConnectionHandler
    ) {
        self.host = host
        self.port = port
        self.configuration = configuration
        self.tls = tls
        self.logger = logger
        self.onListening = onListening
        self.makeHandler = makeHandler
    }

    /// The WebSocket subprotocol of AMQP over WebSockets (`/$servicebus/websocket`).
    public static let webSocketProtocol = "AMQPWSB10"

    /// The address it listens on, once it does.
    public var localAddress: SocketAddress? { bound.withLock { $0 } }

    /// The connections open now (TCP and WebSocket).
    public var connectionCount: Int { connections.withLock { $0.count } }

    /// Waits (up to `timeout`) until ``run()`` listens, and returns the port; `nil` if it did not.
    public func waitUntilListening(timeout: Duration = .seconds(30)) async -> Int? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline, !failed.withLock({ $0 }) {
            if let port = localAddress?.port { return port }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return localAddress?.port
    }

    public func run() async throws {
        defer { group.shutdownGracefully { _ in } }
        do {
            try await listen()
        } catch {
            failed.withLock { $0 = true }
            throw error
        }
    }

    private func listen() async throws {
        let server: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
        do {
            server = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .bind(host: host, port: port) { [tls] channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                        }
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw AMQPServerError(
                "Cannot listen for AMQP on \(host):\(port) (\(error)). Is another broker using the port? Choose another one (conduit serve --amqp-port), or serve no AMQP (--no-amqp)."
            )
        }
        if let address = server.channel.localAddress {
            bound.withLock { $0 = address }
            logger.info("AMQP listening", metadata: ["address": "\(address)"])
            await onListening(address)
        }
        try await withGracefulShutdownHandler {
            try await server.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await child in inbound {
                        group.addTask { await self.serve(child) }
                    }
                }
            }
        } onGracefulShutdown: {
            server.channel.close(promise: nil)
            let open = self.connections.withLock { Array($0.values) }
            for connection in open {
                connection.close(
                    error: AMQPError(condition: "amqp:connection:forced", description: "The server is shutting down.")
                )
            }
        }
    }

    /// Runs one connection over TCP.
    func serve(_ child: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let channel = child.channel
        do {
            try await child.executeThenClose { inbound, _ in
                await serveConnection(
                    inbound: inbound,
                    peer: channel.remoteAddress?.description ?? "?",
                    eventLoop: channel.eventLoop,
                    // Awaited until written, so that closing after the last write loses nothing.
                    write: { try await channel.writeAndFlush($0) },
                    writeNow: { bytes in
                        guard channel.isWritable else { return false }
                        channel.writeAndFlush(bytes, promise: nil)
                        return true
                    },
                    closeTransport: { try? await channel.close() }
                )
            }
        } catch {
            logger.debug("AMQP connection ended", metadata: ["error": "\(error)"])
        }
    }

    /// Runs one connection over another byte transport (AMQP over WebSockets): `inbound` yields the bytes that
    /// arrive, `write` sends bytes (returning once they are written), `closeTransport` ends it. Returns when the
    /// connection is over. With `eventLoop` (the transport channel's), the connection's tasks run on that loop.
    public func serveConnection<Inbound: AsyncSequence<ByteBuffer, any Error>>(
        inbound: Inbound,
        peer: String,
        eventLoop: (any EventLoop)? = nil,
        write: @escaping @Sendable (ByteBuffer) async throws -> Void,
        writeNow: (@Sendable (ByteBuffer) -> Bool)? = nil,
        closeTransport: @escaping @Sendable () async -> Void
    ) async {
        var logger = self.logger
        logger[metadataKey: "amqp.peer"] = "\(peer)"
        let connection = AMQPConnection(
            configuration: configuration,
            taskExecutor: eventLoop.map(EventLoopTaskExecutor.init),
            logger: logger
        )
        let handler = makeHandler(connection)
        let key = ObjectIdentifier(connection)
        connections.withLock { $0[key] = connection }
        defer { connections.withLock { _ = $0.removeValue(forKey: key) } }
        await connection.run(
            inbound: inbound,
            handler: handler,
            write: write,
            writeNow: writeNow,
            closeTransport: closeTransport
        )
    }
}

/// Why the AMQP server could not start.
public struct AMQPServerError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

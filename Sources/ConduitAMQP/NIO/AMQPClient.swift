import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A client connection to an AMQP 1.0 broker (Conduit, Azure Service Bus in emulator mode, RabbitMQ's AMQP 1.0
/// plugin), with one session, on which it opens senders and receivers.
///
/// ```swift
/// let client = try await AMQPClient.connect(host: "127.0.0.1", port: 5672, credentials: .plain(user: "guest", password: "guest"), logger: logger)
/// let sender = try await client.openSender(address: "orders")
/// let outcome = try await sender.send(AMQPMessage(body: .data([Array("hello".utf8)])))
/// ```
public final class AMQPClient: Sendable {
    let connection: AMQPConnection
    let events: AMQPClientEvents
    let channel: UInt16
    private let runner: Mutex<Task<Void, Never>?>
    private let tags = Atomic<UInt64>(0)

    /// The event loop of the connection's channel, as a task executor (`nil` over WebSockets): tasks that send and
    /// receive on this client spend fewer thread hops when they prefer it (`withTaskExecutorPreference`).
    public var taskExecutor: EventLoopTaskExecutor? { connection.taskExecutor }

    private init(connection: AMQPConnection, events: AMQPClientEvents, channel: UInt16, runner: Task<Void, Never>) {
        self.connection = connection
        self.events = events
        self.channel = channel
        self.runner = Mutex(runner)
    }

    /// Connects, authenticates, opens the connection and begins a session.
    /// - Parameters:
    ///   - credentials: the SASL mechanism; `nil` sends the AMQP header without SASL.
    ///   - hostname: the `hostname` of `sasl-init` and `open` (RabbitMQ: `vhost:NAME` picks a virtual host).
    ///   - tls: TLS (AMQPS, port 5671) with this context, which decides the trust roots; the host name is checked
    ///     against the certificate and sent as SNI. `nil` is plain TCP.
    ///   - connectTimeout: how long the TCP connection may take to open.
    ///   - openTimeout: how long SASL and the broker's `open` may take after that.
    /// - Throws: ``AMQPError`` when the broker refuses (the login, the connection) or the transport fails (its
    ///   description says how: a refused connection, a certificate that is not trusted).
    public static func connect(
        host: String,
        port: Int,
        credentials: AMQPSASLCredentials?,
        hostname: String? = nil,
        tls: NIOSSLContext? = nil,
        connectTimeout: Duration = .seconds(10),
        openTimeout: Duration = .seconds(20),
        configuration: AMQPConnectionStateMachine.Configuration = .init(containerId: "conduit-client-\(UUID())"),
        logger: Logger
    ) async throws -> AMQPClient {
        let serverName = tls != nil && !host.isIPAddress ? host : nil
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.nanoseconds(Int64(connectTimeout.components.seconds) * 1_000_000_000))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: tls, serverHostname: serverName)
                        )
                    }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let nio = channel.channel
        let executor = EventLoopTaskExecutor(nio.eventLoop)
        let connection = AMQPConnection(configuration: configuration, taskExecutor: executor, logger: logger)
        let events = AMQPClientEvents(timers: nio.eventLoop)
        let runner = Task<Void, Never>(executorPreference: executor) {
            try? await channel.executeThenClose { inbound, _ in
                await connection.run(
                    inbound: inbound,
                    handler: events,
                    write: { try await nio.writeAndFlush($0) },
                    writeNow: { bytes in
                        guard nio.isWritable else { return false }
                        nio.writeAndFlush(bytes, promise: nil)
                        return true
                    },
                    closeTransport: { try? await nio.close() }
                )
            }
        }
        return try await open(
            connection: connection,
            events: events,
            runner: runner,
            credentials: credentials,
            hostname: hostname ?? host,
            openTimeout: openTimeout
        )
    }

    /// Connects over another byte transport (AMQP over WebSockets): `run` must feed the bytes that arrive to the
    /// `inbound` continuation it is given, send the bytes `write` gets, and return when the transport is over.
    public static func connect(
        credentials: AMQPSASLCredentials?,
        hostname: String?,
        configuration: AMQPConnectionStateMachine.Configuration = .init(containerId: "conduit-client-\(UUID())"),
        logger: Logger,
        transport run:
            @escaping @Sendable (
                _ inbound: AsyncThrowingStream<ByteBuffer, any Error>.Continuation,
                _ outbound: AsyncStream<ByteBuffer>
            ) async -> Void
    ) async throws -> AMQPClient {
        let connection = AMQPConnection(configuration: configuration, logger: logger)
        let events = AMQPClientEvents()
        let (inbound, arriving) = AsyncThrowingStream.makeStream(of: ByteBuffer.self)
        let (outbound, leaving) = AsyncStream.makeStream(of: ByteBuffer.self)
        let runner = Task<Void, Never> {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await run(arriving, outbound)
                    arriving.finish()
                }
                await connection.run(
                    inbound: inbound,
                    handler: events,
                    write: { leaving.yield($0) },
                    closeTransport: { leaving.finish() }
                )
                leaving.finish()
                await group.waitForAll()
            }
        }
        return try await open(
            connection: connection,
            events: events,
            runner: runner,
            credentials: credentials,
            hostname: hostname
        )
    }

    /// SASL, open and a session over a connection whose transport runs in `runner`.
    private static func open(
        connection: AMQPConnection,
        events: AMQPClientEvents,
        runner: Task<Void, Never>,
        credentials: AMQPSASLCredentials?,
        hostname: String?,
        openTimeout: Duration = .seconds(20)
    ) async throws -> AMQPClient {
        do {
            connection.apply { $0.startClient(credentials: credentials, hostname: hostname) }
            guard try await events.next(.opened, timeout: openTimeout) != nil else {
                throw AMQPError(
                    condition: "amqp:connection:forced",
                    description: "The broker did not open the connection within \(openTimeout)."
                )
            }
            var begun: UInt16?
            connection.apply { machine in
                let (channel, actions) = machine.beginSession()
                begun = channel
                return actions
            }
            guard let session = begun else {
                throw AMQPError(condition: AMQPError.internalError, description: "No session could be begun.")
            }
            _ = try await events.next(.session(session))
            return AMQPClient(connection: connection, events: events, channel: session, runner: runner)
        } catch {
            connection.close(error: nil)
            await runner.value
            throw error
        }
    }

    /// Whether the connection is over (closed by either side, or its transport failed).
    public var isClosed: Bool { connection.isClosed }

    /// A new delivery tag.
    func nextTag() -> [UInt8] {
        let value = tags.add(1, ordering: .relaxed).newValue
        return withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    /// Attaches a link and waits for the broker's answer; a refusal throws its error.
    func attach(
        name: String,
        role: AMQPRole,
        source: AMQPValue,
        target: AMQPValue,
        senderSettleMode: UInt8?,
        receiverSettleMode: UInt8?,
        properties: [AMQPMapEntry]?
    ) async throws -> AMQPLinkID {
        var attached: AMQPLinkID?
        connection.apply { machine in
            let (link, actions) = machine.attach(
                channel: channel,
                name: name,
                role: role,
                source: source,
                target: target,
                senderSettleMode: senderSettleMode,
                receiverSettleMode: receiverSettleMode,
                properties: properties
            )
            attached = link
            return actions
        }
        guard let link = attached else { throw events.closedError() }
        guard case .attached(let reply) = try await events.next(.attached(link)) else {
            throw AMQPError(condition: AMQPError.internalError, description: "Unexpected answer to attach.")
        }
        let node = role == .sender ? reply.target : reply.source
        if node == .null {
            // A refusal: its detach carries the reason.
            if case .detached(let error) = try await events.next(.detached(link)) {
                throw error ?? AMQPError(condition: AMQPError.notFound, description: "The broker refused the link.")
            }
        }
        return link
    }

    /// Opens a sender to `address` (unsettled transfers: each send waits for the broker's outcome).
    public func openSender(address: String, properties: [AMQPMapEntry]? = nil) async throws -> AMQPClientSender {
        let name = "sender-\(UUID())"
        let link = try await attach(
            name: name,
            role: .sender,
            source: AMQPSource(address: name).value,
            target: AMQPTarget(address: address).value,
            senderSettleMode: 0,
            receiverSettleMode: 0,
            properties: properties
        )
        return AMQPClientSender(client: self, link: link)
    }

    /// Opens a receiver from `address`: peek-lock (`settled: false`, the caller settles each message) or
    /// receive-and-delete (`settled: true`). It keeps the configured credit (prefetch) open.
    /// - Parameter targetAddress: the address of this end (a reply address); by default the link's name.
    public func openReceiver(
        address: String,
        settled: Bool = false,
        filter: [AMQPMapEntry]? = nil,
        properties: [AMQPMapEntry]? = nil,
        targetAddress: String? = nil
    ) async throws -> AMQPClientReceiver {
        let name = "receiver-\(UUID())"
        let link = try await attach(
            name: name,
            role: .receiver,
            source: AMQPSource(address: address, filter: filter).value,
            target: AMQPTarget(address: targetAddress ?? name).value,
            senderSettleMode: settled ? 1 : 0,
            receiverSettleMode: 0,
            properties: properties
        )
        return AMQPClientReceiver(client: self, link: link)
    }

    /// Detaches a link (closing it) and waits for the broker's detach.
    func detach(_ link: AMQPLinkID) async throws {
        connection.detach(link, error: nil)
        _ = try await events.next(.detached(link))
    }

    /// Closes the connection and waits until it is over.
    public func close() async {
        connection.close(error: nil)
        let task = runner.withLock { $0 }
        await task?.value
    }
}

/// A link on which the client sends.
public struct AMQPClientSender: Sendable {
    let client: AMQPClient
    public let link: AMQPLinkID

    /// Detaches the link and waits for the broker's answer.
    public func close() async throws {
        try await client.detach(link)
    }

    /// Sends a message and waits for the broker's outcome (`accepted` once it is stored).
    public func send(_ message: AMQPMessage, messageFormat: UInt32 = 0) async throws -> AMQPDeliveryState? {
        try await send(encoded: try message.encoded(), messageFormat: messageFormat)
    }

    /// Sends an encoded message and waits for the broker's outcome.
    public func send(encoded payload: ByteBuffer, messageFormat: UInt32 = 0) async throws -> AMQPDeliveryState? {
        while true {
            if let id = client.connection.send(
                link,
                tag: client.nextTag(),
                payload: payload,
                settled: false,
                messageFormat: messageFormat
            ) {
                guard case .settled(let settlement) = try await client.events.next(.settled(link, id)) else {
                    return nil
                }
                return settlement.state
            }
            guard !client.connection.isClosed else { throw client.events.closedError() }
            // No credit yet: wait for the broker to give some.
            _ = try await client.events.next(.credit(link))
        }
    }
}

/// A message the client received.
public struct AMQPClientDelivery: Sendable {
    public var deliveryId: UInt32
    public var deliveryTag: [UInt8]
    public var settled: Bool
    public var message: AMQPMessage
}

/// A link on which the client receives.
public struct AMQPClientReceiver: Sendable {
    let client: AMQPClient
    public let link: AMQPLinkID

    /// The next message, waiting up to `timeout`; `nil` if none came. A message the broker sent settled needs no
    /// settlement.
    public func receive(timeout: Duration) async throws -> AMQPClientDelivery? {
        let value = try await client.events.next(.message(link), timeout: timeout)
        guard case .message(let delivery) = value else { return nil }
        var payload = delivery.payload
        let message = try AMQPMessage.decode(&payload)
        if delivery.settled {
            // Nothing goes back, but the credit is restored.
            client.connection.settleIncoming(link, deliveryId: delivery.deliveryId, state: .accepted)
        }
        return AMQPClientDelivery(
            deliveryId: delivery.deliveryId,
            deliveryTag: delivery.deliveryTag,
            settled: delivery.settled,
            message: message
        )
    }

    /// Detaches the link (messages it holds unsettled go back to the broker) and waits for the broker's answer.
    public func close() async throws {
        try await client.detach(link)
    }

    /// Settles a peek-locked message: `accepted` completes it, `released` gives it back, `rejected` dead-letters it
    /// (Service Bus), `modified` abandons it.
    public func settle(_ delivery: AMQPClientDelivery, _ state: AMQPDeliveryState = .accepted) {
        guard !delivery.settled else { return }
        client.connection.settleIncoming(link, deliveryId: delivery.deliveryId, state: state)
    }
}

extension String {
    /// Whether the string is an IPv4 or IPv6 address (which TLS does not send as SNI).
    var isIPAddress: Bool {
        (try? SocketAddress(ipAddress: self, port: 0)) != nil
    }
}

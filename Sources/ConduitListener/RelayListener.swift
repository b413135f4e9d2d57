import ConduitBus
import Foundation
import Logging
import NIOCore
import NIOSSL
import NIOWebSocket
import ServiceLifecycle
import Synchronization
import WSClient

/// A listener on a hybrid connection, Azure Relay's or Conduit's embedded relay (reference §5.2): keeps the control
/// channel `…/$hc/{relay}?sb-hc-action=listen` open, hands each relayed HTTP request to the handler and sends back its
/// answer. Requests too large for the control channel are fetched at their rendezvous address. WebSocket senders
/// are joined at their rendezvous and served by the `connections` handler (rejected without one).
///
/// The connection string is the namespace's (`Endpoint=sb://host[:port]/;SharedAccessKeyName=…;SharedAccessKey=…`):
/// with `UseDevelopmentEmulator=true` (the embedded bus, on the HTTP port of `conduit serve`) it connects over
/// `ws://`, otherwise over `wss://` (port 443 unless given), verified against the system's trust store or `caFile`.
/// A lost control channel is opened again after a pause that grows to 30 s.
///
/// ```swift
/// let listener = RelayListener(connectionString: text, relay: "orders", logger: logger) { request in
///     .text("received \(request.body.count) bytes")
/// }
/// try await listener.run()
/// ```
public final class RelayListener: Service, Sendable {
    /// A relayed HTTP request.
    public struct Request: Sendable, Hashable {
        public var method: String
        /// Path and query as the sender sent them (the hybrid connection's path first).
        public var target: String
        public var headers: [String: String]
        public var body: [UInt8]

        /// A header by name, any case.
        public func header(_ name: String) -> String? {
            headers.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
        }
    }

    /// The answer to a relayed request.
    public struct Response: Sendable, Hashable {
        public var statusCode: Int
        public var headers: [String: String]
        public var body: [UInt8]

        public init(statusCode: Int = 200, headers: [String: String] = [:], body: [UInt8] = []) {
            self.statusCode = statusCode
            self.headers = headers
            self.body = body
        }

        /// 200 with a `text/plain` body.
        public static func text(_ text: String, statusCode: Int = 200) -> Response {
            Response(
                statusCode: statusCode,
                headers: ["Content-Type": "text/plain; charset=utf-8"],
                body: Array(text.utf8)
            )
        }
    }

    public typealias Handler = @Sendable (Request) async throws -> Response

    /// Serves a WebSocket sender the relay joined with this listener (its `accept`): the sender's connect headers,
    /// and the socket's two directions. The socket closes when it returns.
    public typealias ConnectionHandler =
        @Sendable (RelayAccept, WebSocketInboundStream, WebSocketOutboundWriter) async throws -> Void

    let relay: String
    let connection: ConnectionString
    let caFile: String?
    let logger: Logger
    let handler: Handler
    let answered: (@Sendable (Request, Response) -> Void)?
    let connections: ConnectionHandler?
    private let state = Mutex<(connected: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// - Parameters:
    ///   - answered: Called after an answer was written to the relay (the sender has it, unless the socket breaks).
    ///   - connections: Serves WebSocket senders; without it they are rejected (501).
    /// - Throws: ``ListenerError`` when the connection string cannot be read.
    public init(
        connectionString: String,
        relay: String,
        caFile: String? = nil,
        logger: Logger,
        answered: (@Sendable (Request, Response) -> Void)? = nil,
        connections: ConnectionHandler? = nil,
        handler: @escaping Handler
    ) throws {
        self.answered = answered
        self.connections = connections
        do {
            connection = try ConnectionString(parsing: connectionString.trimmingCharacters(in: .whitespacesAndNewlines))
        } catch {
            throw ListenerError("\(error)")
        }
        self.relay = relay.lowercased()
        self.caFile = caFile
        self.logger = logger
        self.handler = handler
    }

    /// Where the relay is: `ws://host:port` or `wss://host:port`.
    public var base: String {
        let secure = !connection.useDevelopmentEmulator
        let port = connection.port ?? (secure ? 443 : 80)
        return "\(secure ? "wss" : "ws")://\(connection.host):\(port)"
    }

    /// Returns once the control channel is open (at once when it is).
    public func waitUntilConnected() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Bool in
                if state.connected { return true }
                state.waiters.append(continuation)
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Listens until graceful shutdown or cancellation, opening the control channel again when it is lost.
    /// - Throws: ``ListenerError`` when the CA file cannot be read.
    public func run() async throws {
        let tls = try tlsConfiguration()
        try? await cancelWhenGracefulShutdown {
            var pause: Duration = .milliseconds(250)
            while !Task.isCancelled {
                let opened = await self.listenOnce(tls: tls)
                self.setConnected(false)
                if Task.isCancelled { break }
                pause = opened ? .milliseconds(250) : min(pause * 2, .seconds(30))
                self.logger.warning(
                    "The relay's control channel is closed; opening it again",
                    metadata: ["relay": "\(self.relay)", "in": "\(pause)"]
                )
                try await Task.sleep(for: pause)
            }
        }
    }

    /// One control channel, until it closes: whether it was open at all.
    private func listenOnce(tls: TLSConfiguration?) async -> Bool {
        let token = connection.token(for: relay)
        let url =
            "\(base)/$hc/\(relay)?sb-hc-action=listen&sb-hc-id=\(UUID().uuidString.lowercased())&sb-hc-token=\(Self.encode(token))"
        let opened = Mutex(false)
        let client = WebSocketClient(
            url: url,
            configuration: Self.configuration,
            tlsConfiguration: tls,
            logger: logger
        ) { inbound, outbound, _ in
            opened.withLock { $0 = true }
            self.setConnected(true)
            try await self.serve(inbound: inbound, outbound: outbound, tls: tls)
        }
        do {
            try await client.run()
        } catch {
            if !Task.isCancelled {
                logger.warning(
                    "The relay refused or lost the control channel",
                    metadata: [
                        "relay": "\(relay)", "url": "\(base)/$hc/\(relay)", "error": "\(error)",
                        "hint": "check the hybrid connection's name and that the key has the Listen right",
                    ]
                )
            }
        }
        return opened.withLock { $0 }
    }

    /// Reads requests from a control channel; each is handled in its own task, answers are written one at a time.
    private func serve(
        inbound: WebSocketInboundStream,
        outbound: WebSocketOutboundWriter,
        tls: TLSConfiguration?
    ) async throws {
        let (answers, answer) = AsyncStream.makeStream(of: Answer.self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await reply in answers {
                    try await Self.write(reply.head, body: reply.response.body, to: outbound)
                    self.answered?(reply.request, reply.response)
                }
            }
            var waiting: RelayRequestHead?
            for try await message in inbound.messages(maxSize: Self.maximumMessage) {
                switch message {
                case .text(let text):
                    let control = try RelayControlMessage(json: Array(text.utf8))
                    if case .accept(let accept) = control {
                        group.addTask { await self.accept(accept, tls: tls) }
                        continue
                    }
                    guard case .request(let head) = control else { continue }
                    if head.method == nil, let address = head.address {
                        group.addTask { await self.rendezvous(address, tls: tls) }
                    } else if head.body {
                        waiting = head
                    } else {
                        group.addTask { answer.yield(await self.answer(head, body: [])) }
                    }
                case .binary(let buffer):
                    guard let head = waiting else { continue }
                    waiting = nil
                    let body = Array(buffer.readableBytesView)
                    group.addTask { answer.yield(await self.answer(head, body: body)) }
                }
            }
            answer.finish()
            group.cancelAll()
        }
    }

    /// Joins a WebSocket sender at its rendezvous address, or rejects it (no ``connections`` handler: 501).
    private func accept(_ accept: RelayAccept, tls: TLSConfiguration?) async {
        guard let connections else {
            let reason = "This listener takes HTTP requests only."
            let rejection =
                "\(accept.address)&sb-hc-statusCode=501&sb-hc-statusDescription=\(Self.encode(reason))"
            // The relay answers a rejection's handshake with 410, on purpose.
            _ = try? await WebSocketClient(
                url: rejection,
                configuration: Self.configuration,
                tlsConfiguration: tls,
                logger: logger
            ) { _, _, _ in }
            .run()
            return
        }
        let client = WebSocketClient(
            url: accept.address,
            configuration: Self.configuration,
            tlsConfiguration: tls,
            logger: logger
        ) { inbound, outbound, _ in
            try await connections(accept, inbound, outbound)
        }
        do {
            try await client.run()
        } catch {
            logger.warning("A relayed WebSocket connection failed", metadata: ["error": "\(error)"])
        }
    }

    /// Fetches a large request at its rendezvous address and answers it there.
    private func rendezvous(_ address: String, tls: TLSConfiguration?) async {
        let client = WebSocketClient(
            url: address,
            configuration: Self.configuration,
            tlsConfiguration: tls,
            logger: logger
        ) { inbound, outbound, _ in
            var waiting: RelayRequestHead?
            for try await message in inbound.messages(maxSize: Self.maximumMessage) {
                var request: (RelayRequestHead, [UInt8])?
                switch message {
                case .text(let text):
                    guard case .request(let head) = try RelayControlMessage(json: Array(text.utf8)) else { continue }
                    if head.body { waiting = head } else { request = (head, []) }
                case .binary(let buffer):
                    if let head = waiting { request = (head, Array(buffer.readableBytesView)) }
                }
                if let (head, body) = request {
                    let reply = await self.answer(head, body: body)
                    try await Self.write(reply.head, body: reply.response.body, to: outbound)
                    self.answered?(reply.request, reply.response)
                    try await outbound.close(.normalClosure, reason: nil)
                    return
                }
            }
        }
        do {
            try await client.run()
        } catch {
            logger.warning("A relayed request's rendezvous failed", metadata: ["error": "\(error)"])
        }
    }

    /// A handled request and its answer, to be written.
    private struct Answer: Sendable {
        var request: Request
        var response: Response
        var head: RelayResponseHead
    }

    /// Runs the handler for one request: its answer, or 500 with the error.
    private func answer(_ head: RelayRequestHead, body: [UInt8]) async -> Answer {
        let request = Request(
            method: head.method ?? "GET",
            target: head.requestTarget ?? "/",
            headers: head.requestHeaders,
            body: body
        )
        let response: Response
        do {
            response = try await handler(request)
        } catch {
            logger.warning("The relay handler failed; answered 500", metadata: ["error": "\(error)"])
            response = .text("The listener failed: \(error)", statusCode: 500)
        }
        return Answer(
            request: request,
            response: response,
            head: RelayResponseHead(
                requestId: head.id,
                statusCode: response.statusCode,
                statusDescription: nil,
                responseHeaders: response.headers,
                body: !response.body.isEmpty
            )
        )
    }

    private static func write(
        _ head: RelayResponseHead,
        body: [UInt8],
        to outbound: WebSocketOutboundWriter
    ) async throws {
        try await outbound.write(.text(String(decoding: RelayControlMessage.response(head).json, as: UTF8.self)))
        if head.body { try await outbound.write(.binary(ByteBuffer(bytes: body))) }
    }

    private func setConnected(_ connected: Bool) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.connected = connected
            guard connected else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    private func tlsConfiguration() throws -> TLSConfiguration? {
        guard !connection.useDevelopmentEmulator else { return nil }
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .fullVerification
        if let caFile {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            } catch {
                throw ListenerError("the CA file \(caFile) cannot be read as PEM certificates: \(error)")
            }
        }
        return configuration
    }

    static let maximumMessage = 1024 * 1024

    static var configuration: WebSocketClientConfiguration {
        WebSocketClientConfiguration(maxFrameSize: maximumMessage)
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

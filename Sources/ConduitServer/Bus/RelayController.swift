import ConduitBus
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket

/// The embedded relay's front doors on the HTTP port (Azure Relay Hybrid Connections, reference §5.2):
/// - listeners' control channels: `GET /$hc/{path}?sb-hc-action=listen` upgraded to a WebSocket, SAS token with
///   Listen (in `sb-hc-token`, `ServiceBusAuthorization` or `Authorization`);
/// - rendezvous sockets for requests too large for the control channel (`sb-hc-action=request&sb-hc-id=…`);
/// - HTTP request mode: any request to `/{path}[/…]` is forwarded to a listener and its answer returned; 502 when
///   no listener is connected, 504 when it does not answer within 60 s;
/// - WebSocket senders: `GET /$hc/{path}?sb-hc-action=connect` (SAS Send unless the hybrid connection is open); a
///   listener gets an `accept` and opens its rendezvous (`sb-hc-action=accept&sb-hc-id=…`), or rejects it
///   (`…&sb-hc-statusCode=…`: the sender's handshake fails with that status), within 30 s; then frames pass both ways.
struct RelayController: Sendable {
    let namespace: BusNamespace
    let logger: Logger

    var hub: RelayHub { namespace.relays.hub }

    /// Largest relayed request body, and largest message on a listener's socket.
    static let maximumBody = 1024 * 1024

    // MARK: - WebSocket upgrades

    /// Decides a WebSocket upgrade of `/$hc/…`: `nil` when the path is not the relay's. A refused upgrade is not
    /// upgraded; the router then answers it with the reason (``registerRefusals(on:)``).
    func shouldUpgrade(
        _ request: HTTPRequest,
        connection: ObjectIdentifier
    ) async -> ShouldUpgradeResult<
        WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>
    >? {
        guard let target = RelayTarget(request) else { return nil }
        guard case .success(let relay) = await check(target, request: request) else { return .dontUpgrade }
        switch target.action {
        case "connect":
            // The sender's handshake completes once a listener accepts (or fails with its rejection).
            var headers: [String: String] = [:]
            // HTTP types keep Host as the request's authority.
            if let host = request.authority { headers["Host"] = host }
            for name in ["Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions"] {
                if let value = request.headerFields[HTTPField.Name(name)!] { headers[name] = value }
            }
            let bridge: RelayBridge
            do {
                bridge = try await hub.connect(relay: relay, address: target.rendezvousBase, headers: headers)
            } catch let failure as RelayFailure {
                hub.noteRefusal(failure, connection: connection)
                return .dontUpgrade
            } catch {
                return .dontUpgrade
            }
            return .upgrade([:]) { inbound, outbound, _ in
                await Self.pipe(inbound, outbound, receive: bridge.toSender, send: bridge.fromSender)
            }
        case "accept":
            guard let id = target.id else { return .dontUpgrade }
            if let status = target.statusCode {
                // A rejection: the sender gets the status; this handshake fails on purpose (410).
                hub.reject(id, status: status, description: target.statusDescription ?? "Rejected by the listener.")
                return .dontUpgrade
            }
            guard let bridge = hub.accept(id) else { return .dontUpgrade }
            return .upgrade([:]) { inbound, outbound, _ in
                await Self.pipe(inbound, outbound, receive: bridge.toListener, send: bridge.fromListener)
            }
        case "listen":
            let channel: RelayHub.Channel
            do {
                channel = try hub.openListener(relay: relay, address: target.rendezvousBase)
            } catch {
                return .dontUpgrade
            }
            logger.debug("A relay listener connected", metadata: ["relay": "\(relay)", "channel": "\(channel.id)"])
            return .upgrade([:]) { inbound, outbound, _ in
                await self.serve(channel, inbound: inbound, outbound: outbound)
            }
        case "request":
            guard let id = target.id, let channel = hub.openRendezvous(request: id) else { return .dontUpgrade }
            return .upgrade([:]) { inbound, outbound, _ in
                await self.serve(channel, inbound: inbound, outbound: outbound)
            }
        default:
            return .dontUpgrade
        }
    }

    /// Answers `/$hc/…` requests that were not upgraded, with the status Azure gives.
    func registerRefusals(on router: Router<ConduitRequestContext>) {
        for path in ["$hc/:relay", "$hc/:relay/**"] {
            router.get(RouterPath(path)) { request, context -> Response in
                guard let target = RelayTarget(request.head) else { return Self.refusal(404, "Not a relay address.") }
                if case .failure(let refusal) = await self.check(target, request: request.head) {
                    return Self.refusal(refusal.status, refusal.message)
                }
                switch target.action {
                case "listen":
                    if request.headers[.upgrade]?.lowercased() != "websocket" {
                        return Self.refusal(
                            400,
                            "A listener opens its control channel as a WebSocket (Upgrade: websocket)."
                        )
                    }
                    return Self.refusal(
                        403,
                        "The hybrid connection '\(target.relay)' has the most listeners it takes (25)."
                    )
                case "request":
                    return Self.refusal(
                        404,
                        "No request waits for a rendezvous with id '\(target.id ?? "")' (it was answered, or timed out)."
                    )
                case "connect":
                    if request.headers[.upgrade]?.lowercased() != "websocket" {
                        return Self.refusal(400, "A sender connects as a WebSocket (Upgrade: websocket).")
                    }
                    let failure = hub.takeRefusal(connection: context.connection)
                    return Self.refusal(
                        failure?.httpStatus ?? 502,
                        failure?.message ?? "No listener is connected to the hybrid connection '\(target.relay)'."
                    )
                case "accept":
                    if target.statusCode != nil {
                        return Self.refusal(410, "The connection was rejected, as the listener asked.")
                    }
                    return Self.refusal(
                        404,
                        "No sender waits with id '\(target.id ?? "")' (it gave up, or the address was used)."
                    )
                default:
                    return Self.refusal(
                        400,
                        "sb-hc-action must be listen, request, connect or accept, not '\(target.action)'."
                    )
                }
            }
        }
    }

    /// Whether `target`'s hybrid connection exists and its token allows the action.
    private func check(_ target: RelayTarget, request: HTTPRequest) async -> Result<String, Refusal> {
        do {
            guard let relay = try await namespace.relays.relay(target.relay) else {
                return .failure(Refusal(404, "The hybrid connection '\(target.relay)' does not exist."))
            }
            switch target.action {
            case "listen":
                try await authorize(target.token ?? Self.credentials(request), path: relay.name, right: .listen)
            case "request", "accept":
                // The rendezvous id is the credential: random, for one use, valid while its request waits.
                break
            case "connect":
                if relay.requiresClientAuthorization {
                    try await authorize(target.token ?? Self.credentials(request), path: relay.name, right: .send)
                }
            default:
                break
            }
            return .success(relay.name)
        } catch let error as AuthorizationError {
            return .failure(Refusal(error.httpStatus, error.message))
        } catch {
            return .failure(Refusal(500, "The relay could not check the request: \(error)"))
        }
    }

    private func authorize(_ token: String?, path: String, right: AccessRight) async throws {
        try await namespace.authorize(
            token,
            resource: "sb://relay/\(path)",
            right: right,
            now: Int64(Date().timeIntervalSince1970)
        )
    }

    /// Joins a WebSocket to its bridge: what it sends goes to `send`, what `receive` brings is written to it. When
    /// its socket closes the other side's stream ends; when the other side's ends, this socket is closed.
    private static func pipe(
        _ inbound: WebSocketInboundStream,
        _ outbound: WebSocketOutboundWriter,
        receive: AsyncStream<RelayHub.Frame>,
        send: AsyncStream<RelayHub.Frame>.Continuation
    ) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await frame in receive {
                    guard (try? await write(frame, to: outbound)) == true else { break }
                }
                try? await outbound.close(.normalClosure, reason: nil)
            }
            do {
                for try await message in inbound.messages(maxSize: maximumBody) {
                    switch message {
                    case .text(let text): send.yield(.text(Array(text.utf8)))
                    case .binary(let buffer): send.yield(.binary(Array(buffer.readableBytesView)))
                    }
                }
            } catch {
                // The socket broke: the other side is closed as if it had closed.
            }
            send.finish()
            group.cancelAll()
        }
    }

    /// Writes one frame; `false` after a close frame.
    private static func write(_ frame: RelayHub.Frame, to outbound: WebSocketOutboundWriter) async throws -> Bool {
        switch frame {
        case .text(let bytes): try await outbound.write(.text(String(decoding: bytes, as: UTF8.self)))
        case .binary(let bytes): try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
        case .close(let code, let reason):
            try await outbound.close(.init(codeNumber: code), reason: reason)
            return false
        }
        return true
    }

    /// Runs one listener socket: writes what the hub sends it, hands the hub the listener's responses.
    private func serve(
        _ channel: RelayHub.Channel,
        inbound: WebSocketInboundStream,
        outbound: WebSocketOutboundWriter
    ) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Until the socket is gone or closed; the reader below then ends too.
                for await frame in channel.frames {
                    guard (try? await Self.write(frame, to: outbound)) == true else { return }
                }
            }
            var awaitingBody: RelayResponseHead?
            do {
                for try await message in inbound.messages(maxSize: Self.maximumBody) {
                    switch message {
                    case .text(let text):
                        let control = try RelayControlMessage(json: Array(text.utf8))
                        switch control {
                        case .response(let head) where head.body:
                            awaitingBody = head
                        case .response(let head):
                            hub.respond(head, body: [], from: channel.id)
                        case .renewToken:
                            // Tokens are checked when a channel opens; a renewed one is taken as it is.
                            break
                        case .accept, .request:
                            throw RelayProtocolError("A listener does not send '\(text.prefix(20))…' operations.")
                        }
                    case .binary(let buffer):
                        guard let head = awaitingBody else {
                            throw RelayProtocolError("A binary frame came without a response that announced a body.")
                        }
                        hub.respond(head, body: Array(buffer.readableBytesView), from: channel.id)
                        awaitingBody = nil
                    }
                }
            } catch {
                logger.debug(
                    "A relay socket closed with an error",
                    metadata: ["channel": "\(channel.id)", "error": "\(error)"]
                )
                try? await outbound.close(.policyViolation, reason: "\(error)".prefix(120).description)
            }
            hub.close(channel.id)
            group.cancelAll()
        }
    }

    // MARK: - HTTP request mode

    /// Forwards a request for `/{relay}[/…]` to a listener; `nil` when the path is not a hybrid connection's.
    func forward(_ request: Request) async throws -> Response? {
        let path = request.uri.path
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        guard let first = segments.first.map(String.init), !first.hasPrefix("$"), first != "api", first != "health"
        else { return nil }
        let name = first.removingPercentEncoding ?? first
        guard try await namespace.relays.isRelay(name) else { return nil }
        // The management API (`PUT/GET/DELETE /{name}?api-version=…`) is not forwarded.
        let query = Self.queryItems(request.uri.query)
        if segments.count == 1, query.contains(where: { $0.name == "api-version" }) { return nil }
        guard let relay = try await namespace.relays.relay(name) else { return nil }
        let token = query.first { $0.name == "sb-hc-token" }?.value
        let relayHeader = request.headers[HTTPField.Name("ServiceBusAuthorization")!]
        var authorizationWasRelayToken = false
        if relay.requiresClientAuthorization {
            let credentials = token ?? relayHeader ?? request.headers[.authorization]
            authorizationWasRelayToken = token == nil && relayHeader == nil
            do {
                try await authorize(credentials, path: relay.name, right: .send)
            } catch let error as AuthorizationError {
                return Self.refusal(error.httpStatus, error.message)
            }
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maximumBody)
        } catch {
            return Self.refusal(413, "A relayed request body holds at most \(Self.maximumBody) bytes.")
        }
        let kept = query.filter { !$0.name.lowercased().hasPrefix("sb-hc-") }
        let target = path + (kept.isEmpty ? "" : "?" + kept.map { $0.raw }.joined(separator: "&"))
        let forwarded = RelayHub.forwardedHeaders(
            request.headers.map { (name: $0.name.canonicalName, value: $0.value) },
            authorizationWasRelayToken: authorizationWasRelayToken
        )
        do {
            let answer = try await hub.send(
                RelayHub.Request(
                    method: request.method.rawValue,
                    target: target,
                    headers: forwarded,
                    body: Array(body.readableBytesView)
                ),
                to: relay.name
            )
            var headers = HTTPFields()
            for (name, value) in answer.head.responseHeaders where !RelayHub.hopByHop.contains(name.lowercased()) {
                if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
            }
            // A listener may not answer 502 or 504: those are the relay's own.
            let code = [502, 504].contains(answer.head.statusCode) ? 500 : answer.head.statusCode
            return Response(
                status: HTTPResponse.Status(code: code, reasonPhrase: answer.head.statusDescription ?? ""),
                headers: headers,
                body: .init(byteBuffer: ByteBuffer(bytes: answer.body))
            )
        } catch let failure as RelayFailure {
            return Self.refusal(failure.httpStatus, failure.message)
        }
    }

    // MARK: - Helpers

    private static func credentials(_ request: HTTPRequest) -> String? {
        request.headerFields[HTTPField.Name("ServiceBusAuthorization")!] ?? request.headerFields[.authorization]
    }

    struct QueryItem {
        var name: String
        var value: String
        /// As it was sent (percent-encoded).
        var raw: String
    }

    static func queryItems(_ query: String?) -> [QueryItem] {
        guard let query, !query.isEmpty else { return [] }
        return query.split(separator: "&").map { part in
            let pieces = part.split(separator: "=", maxSplits: 1)
            let decode = { (text: Substring) in
                text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
            }
            return QueryItem(
                name: decode(pieces[0]),
                value: pieces.count > 1 ? decode(pieces[1]) : "",
                raw: String(part)
            )
        }
    }

    private struct Refusal: Error {
        var status: Int
        var message: String

        init(_ status: Int, _ message: String) {
            self.status = status
            self.message = message
        }
    }

    private static func refusal(_ status: Int, _ message: String) -> Response {
        Response(
            status: HTTPResponse.Status(code: status),
            headers: [.contentType: "text/plain; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: message))
        )
    }
}

/// A `/$hc/{path}?sb-hc-action=…` address, read.
struct RelayTarget {
    var relay: String
    var action: String
    var id: String?
    var token: String?
    /// A listener's rejection of a sender (`sb-hc-statusCode`, `sb-hc-statusDescription`).
    var statusCode: Int?
    var statusDescription: String?
    /// `ws://host/$hc/{path}` as the caller reached it, for rendezvous addresses.
    var rendezvousBase: String

    init?(_ request: HTTPRequest) {
        guard let full = request.path else { return nil }
        let parts = full.split(separator: "?", maxSplits: 1)
        let segments = parts[0].split(separator: "/")
        guard segments.count >= 2, segments[0] == "$hc" else { return nil }
        relay = (String(segments[1]).removingPercentEncoding ?? String(segments[1])).lowercased()
        let query = RelayController.queryItems(parts.count > 1 ? String(parts[1]) : nil)
        action = query.first { $0.name == "sb-hc-action" }?.value ?? ""
        id = query.first { $0.name == "sb-hc-id" }?.value
        // `sbc-hc-token` is a spelling in Azure's documentation; both are taken.
        token = query.first { $0.name == "sb-hc-token" || $0.name == "sbc-hc-token" }?.value
        statusCode = query.first { $0.name == "sb-hc-statusCode" }.flatMap { Int($0.value) }
        statusDescription = query.first { $0.name == "sb-hc-statusDescription" }?.value
        rendezvousBase = "ws://\(request.authority ?? "localhost")/$hc/\(relay)"
    }
}

/// Forwards HTTP requests to hybrid connections (``RelayController/forward(_:)``) before the routes see them.
struct RelayRequestMiddleware: RouterMiddleware {
    typealias Context = ConduitRequestContext
    let relays: RelayController

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if let response = try await relays.forward(request) { return response }
        return try await next(request, context)
    }
}

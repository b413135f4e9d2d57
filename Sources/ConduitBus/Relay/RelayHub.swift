import Foundation
import Synchronization

/// The live side of the embedded relay on this node: listeners' control channels on hybrid connections, the HTTP
/// requests forwarded to them and their answers (reference §5.2, HTTP request mode). The WebSocket adapter of the
/// server and in-process senders (the notification service) use it; ``RelayState`` decides the routing.
///
/// A request travels as a `request` text frame and, when it has a body, one binary frame. When the body is larger
/// than ``controlChannelBodyLimit`` the control channel carries only the request's id and rendezvous address; the
/// listener opens that address (`sb-hc-action=request`) and gets the whole request there.
public final class RelayHub: Sendable {
    /// What the adapter writes to a channel's WebSocket.
    public enum Frame: Sendable, Hashable {
        case text([UInt8])
        case binary([UInt8])
        /// Close the WebSocket with this code (1001: the hybrid connection was deleted).
        case close(code: Int, reason: String)
    }

    /// A connected listener socket: its id and the frames to write to it.
    public struct Channel: Sendable {
        public let id: Int
        public let frames: AsyncStream<Frame>
    }

    /// A request to forward to a listener.
    public struct Request: Sendable, Hashable {
        public var method: String
        /// The request target (path and query) as the listener sees it.
        public var target: String
        public var headers: [String: String]
        public var body: [UInt8]

        public init(method: String, target: String, headers: [String: String], body: [UInt8]) {
            self.method = method
            self.target = target
            self.headers = headers
            self.body = body
        }
    }

    /// A listener's answer.
    public struct Response: Sendable, Hashable {
        public var head: RelayResponseHead
        public var body: [UInt8]

        public init(head: RelayResponseHead, body: [UInt8]) {
            self.head = head
            self.body = body
        }
    }

    /// Bodies above this go through a rendezvous (Azure: 64 kB on the control channel).
    public static let controlChannelBodyLimit = 64 * 1024
    /// How long a listener has to answer (Azure: 60 s; then 504).
    public static let responseTimeout: Duration = .seconds(60)

    private struct Live: Sendable {
        var state: RelayState
        var outbound: [Int: AsyncStream<Frame>.Continuation] = [:]
        /// Each control channel's rendezvous base (`ws://host:port/$hc/{path}`), as its listener reached it.
        var addresses: [Int: String] = [:]
        var waiters: [String: CheckedContinuation<Response, any Error>] = [:]
        var timers: [String: Task<Void, Never>] = [:]
        /// Requests waiting for their rendezvous.
        var parked: [String: (head: RelayRequestHead, body: [UInt8])] = [:]
        /// WebSocket senders waiting for a listener to accept (or reject) them, by the accept's id.
        var accepts: [String: PendingAccept] = [:]
        /// Why a sender's upgrade was refused, by its connection, for the answer the HTTP side gives.
        var refusals: [ObjectIdentifier: RelayFailure] = [:]
    }

    struct PendingAccept: Sendable {
        var channel: Int
        var bridge: RelayBridge
        var waiter: CheckedContinuation<RelayBridge, any Error>?
    }

    private let live: Mutex<Live>

    public init(listenerLimit: Int = 25) {
        live = Mutex(Live(state: RelayState(listenerLimit: listenerLimit)))
    }

    /// The listeners connected to `relay` on this node.
    public func listenerCount(_ relay: String) -> Int {
        live.withLock { $0.state.listenerCount(relay.lowercased()) }
    }

    /// A listener's control channel connects to `relay`.
    /// - Parameter address: Where its rendezvous sockets connect: `ws://host:port/$hc/{path}` as it reached the relay.
    /// - Throws: ``RelayFailure`` when the hybrid connection has the most listeners it takes.
    public func openListener(relay: String, address: String) throws(RelayFailure) -> Channel {
        let (stream, continuation) = AsyncStream.makeStream(of: Frame.self)
        let id = live.withLock { live -> Int? in
            guard let id = live.state.openListener(relay: relay.lowercased()) else { return nil }
            live.outbound[id] = continuation
            live.addresses[id] = address
            return id
        }
        guard let id else {
            throw RelayFailure(
                .listenerLimit,
                "The hybrid connection '\(relay)' has \(live.withLock { $0.state.listenerLimit }) listeners, the most it takes."
            )
        }
        return Channel(id: id, frames: stream)
    }

    /// A listener opens the rendezvous for `request`: the channel that carries the whole request and its answer, or
    /// `nil` when no request waits for one with that id.
    public func openRendezvous(request: String) -> Channel? {
        let (stream, continuation) = AsyncStream.makeStream(of: Frame.self)
        let opened = live.withLock { live -> Int? in
            guard let id = live.state.openRendezvous(request: request),
                let parked = live.parked.removeValue(forKey: request)
            else { return nil }
            live.outbound[id] = continuation
            Self.enqueue(parked.head, body: parked.body, on: continuation)
            return id
        }
        guard let opened else {
            continuation.finish()
            return nil
        }
        return Channel(id: opened, frames: stream)
    }

    /// A listener answered on `channel`. Returns whether the answer was taken: an answer to an unknown or finished
    /// request (late, after the 504), or to another channel's request, is dropped.
    @discardableResult
    public func respond(_ head: RelayResponseHead, body: [UInt8], from channel: Int) -> Bool {
        let waiter = live.withLock { live -> CheckedContinuation<Response, any Error>? in
            guard live.state.answer(request: head.requestId, from: channel) else { return nil }
            return Self.finish(head.requestId, in: &live)
        }
        guard let waiter else { return false }
        waiter.resume(returning: Response(head: head, body: body))
        return true
    }

    /// A channel's WebSocket closed: requests it can no longer answer fail with 502, and so do WebSocket senders
    /// it was asked to accept.
    public func close(_ channel: Int) {
        let (lost, senders) = live.withLock {
            live -> ([CheckedContinuation<Response, any Error>], [CheckedContinuation<RelayBridge, any Error>]) in
            live.outbound.removeValue(forKey: channel)?.finish()
            live.addresses[channel] = nil
            let waiting = live.accepts.filter { $0.value.channel == channel && $0.value.waiter != nil }
            for id in waiting.keys { live.accepts[id] = nil }
            return (
                live.state.close(channel: channel).compactMap { Self.finish($0, in: &live) },
                waiting.values.compactMap(\.waiter)
            )
        }
        for waiter in lost {
            waiter.resume(
                throwing: RelayFailure(.listenerGone, "The listener disconnected before it answered the request.")
            )
        }
        for waiter in senders {
            waiter.resume(throwing: RelayFailure(.listenerGone, "The listener disconnected before it accepted."))
        }
    }

    // MARK: - WebSocket senders (accept and rendezvous)

    /// A WebSocket sender connects to `relay`: one of its listeners gets an `accept` with a rendezvous address and
    /// has `timeout` to open it (accept) or open it with a status (reject).
    /// - Parameters:
    ///   - address: `ws://host:port/$hc/{path}` as the sender reached the relay.
    ///   - headers: The sender's `Host`, `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions`.
    /// - Returns: The bridge to the listener's rendezvous socket.
    /// - Throws: ``RelayFailure``: no listener, the listener rejected (its status) or did not answer in time.
    public func connect(
        relay: String,
        address: String,
        headers: [String: String],
        timeout: Duration = .seconds(30)
    ) async throws -> RelayBridge {
        let id = UUID().uuidString.lowercased()
        let relay = relay.lowercased()
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            guard !Task.isCancelled else { return }
            self?.failAccept(
                id,
                RelayFailure(.timeout, "No listener accepted the connection within \(timeout.components.seconds) s.")
            )
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<RelayBridge, any Error>) in
                let sent = live.withLock { live -> Bool in
                    guard let channel = live.state.listener(of: relay, pick: { Int.random(in: 0..<$0) }),
                        let outbound = live.outbound[channel]
                    else { return false }
                    live.accepts[id] = PendingAccept(channel: channel, bridge: RelayBridge(id: id), waiter: waiter)
                    let accept = RelayAccept(
                        address: "\(address)?sb-hc-action=accept&sb-hc-id=\(id)",
                        id: id,
                        connectHeaders: headers
                    )
                    outbound.yield(.text(RelayControlMessage.accept(accept).json))
                    return true
                }
                if !sent {
                    waiter.resume(
                        throwing: RelayFailure(
                            .noListener,
                            "No listener is connected to the hybrid connection '\(relay)'."
                        )
                    )
                }
            }
        } onCancel: {
            failAccept(id, RelayFailure(.listenerGone, "The sender went away."))
        }
    }

    /// The listener opened the rendezvous of accept `id`: the bridge to its sender, or `nil` when no sender waits
    /// with that id (it gave up, or the address was used).
    public func accept(_ id: String) -> RelayBridge? {
        let (bridge, waiter) = live.withLock { live -> (RelayBridge?, CheckedContinuation<RelayBridge, any Error>?) in
            guard var pending = live.accepts[id], let waiter = pending.waiter else { return (nil, nil) }
            pending.waiter = nil
            live.accepts[id] = nil
            return (pending.bridge, waiter)
        }
        if let bridge { waiter?.resume(returning: bridge) }
        return bridge
    }

    /// The listener rejected accept `id` with an HTTP status and a description: the sender's handshake fails with
    /// them. Returns whether a sender waited.
    @discardableResult
    public func reject(_ id: String, status: Int, description: String) -> Bool {
        failAccept(id, RelayFailure(.rejected(status: status), description))
    }

    @discardableResult
    private func failAccept(_ id: String, _ failure: RelayFailure) -> Bool {
        let waiter = live.withLock { live -> CheckedContinuation<RelayBridge, any Error>? in
            live.accepts.removeValue(forKey: id)?.waiter
        }
        waiter?.resume(throwing: failure)
        return waiter != nil
    }

    /// Keeps why a sender's upgrade on `connection` was refused, for the HTTP answer that follows.
    public func noteRefusal(_ failure: RelayFailure, connection: ObjectIdentifier) {
        live.withLock { $0.refusals[connection] = failure }
    }

    /// The refusal kept for `connection` (once).
    public func takeRefusal(connection: ObjectIdentifier) -> RelayFailure? {
        live.withLock { $0.refusals.removeValue(forKey: connection) }
    }

    /// Disconnects every listener of `relay` (it was deleted or disabled): close code 1001, as Azure sends.
    public func disconnectAll(relay: String, reason: String) {
        live.withLock { live in
            for channel in live.state.channels(of: relay.lowercased()) {
                live.outbound[channel]?.yield(.close(code: 1001, reason: reason))
            }
        }
    }

    /// Forwards `request` to one of `relay`'s listeners (chosen at random) and waits for its answer.
    /// - Throws: ``RelayFailure``: no listener (502), the listener disconnected (502) or did not answer within
    ///   `timeout` (504); `CancellationError` when the caller is cancelled.
    public func send(
        _ request: Request,
        to relay: String,
        timeout: Duration = RelayHub.responseTimeout
    ) async throws
        -> Response
    {
        let id = UUID().uuidString.lowercased()
        let relay = relay.lowercased()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Response, any Error>) in
                let routed = live.withLock { live -> Bool in
                    let large = request.body.count > Self.controlChannelBodyLimit
                    guard
                        case .forward(let channel) = live.state.route(
                            request: id,
                            relay: relay,
                            needsRendezvous: large,
                            pick: { Int.random(in: 0..<$0) }
                        ), let outbound = live.outbound[channel]
                    else { return false }
                    live.waiters[id] = waiter
                    let head = RelayRequestHead(
                        address: live.addresses[channel].map { Self.rendezvousAddress($0, request: id) },
                        id: id,
                        requestTarget: request.target,
                        method: request.method,
                        requestHeaders: request.headers,
                        body: !request.body.isEmpty
                    )
                    if large {
                        // Only the id and the address: the listener fetches the rest at the rendezvous.
                        live.parked[id] = (head, request.body)
                        let notice = RelayRequestHead(
                            address: head.address,
                            id: id,
                            requestTarget: nil,
                            method: nil,
                            body: false
                        )
                        outbound.yield(.text(RelayControlMessage.request(notice).json))
                    } else {
                        Self.enqueue(head, body: request.body, on: outbound)
                    }
                    live.timers[id] = Task { [weak self] in
                        try? await Task.sleep(for: timeout)
                        guard !Task.isCancelled else { return }
                        self?.expire(id, after: timeout)
                    }
                    return true
                }
                if !routed {
                    waiter.resume(
                        throwing: RelayFailure(
                            .noListener,
                            "No listener is connected to the hybrid connection '\(relay)'."
                        )
                    )
                }
            }
        } onCancel: {
            let waiter = live.withLock { live -> CheckedContinuation<Response, any Error>? in
                guard live.state.expire(request: id) else { return nil }
                return Self.finish(id, in: &live)
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    private func expire(_ id: String, after timeout: Duration) {
        let waiter = live.withLock { live -> CheckedContinuation<Response, any Error>? in
            guard live.state.expire(request: id) else { return nil }
            return Self.finish(id, in: &live)
        }
        waiter?.resume(
            throwing: RelayFailure(
                .timeout,
                "The listener did not answer within \(timeout.components.seconds) s."
            )
        )
    }

    /// Removes a finished request's waiter, timer and parked body.
    private static func finish(_ id: String, in live: inout Live) -> CheckedContinuation<Response, any Error>? {
        live.timers.removeValue(forKey: id)?.cancel()
        live.parked[id] = nil
        return live.waiters.removeValue(forKey: id)
    }

    private static func enqueue(
        _ head: RelayRequestHead,
        body: [UInt8],
        on outbound: AsyncStream<Frame>.Continuation
    ) {
        outbound.yield(.text(RelayControlMessage.request(head).json))
        if head.body { outbound.yield(.binary(body)) }
    }

    /// `base` (`ws://host/$hc/{path}`) with `sb-hc-action=request&sb-hc-id={id}`.
    static func rendezvousAddress(_ base: String, request id: String) -> String {
        "\(base)?sb-hc-action=request&sb-hc-id=\(id)"
    }

    /// The headers a relay forwards: without the hop-by-hop headers of RFC 7230 (except `Via`) and the relay's
    /// own credentials (`ServiceBusAuthorization`; `Authorization` too when it carried the relay token).
    public static func forwardedHeaders(
        _ headers: some Sequence<(name: String, value: String)>,
        authorizationWasRelayToken: Bool
    ) -> [String: String] {
        var result: [String: String] = [:]
        for (name, value) in headers {
            let lower = name.lowercased()
            if hopByHop.contains(lower) || lower == "servicebusauthorization" { continue }
            if lower == "authorization" && authorizationWasRelayToken { continue }
            if let existing = result[name] {
                result[name] = existing + ", " + value
            } else {
                result[name] = value
            }
        }
        return result
    }

    /// The hop-by-hop headers of RFC 7230 (lower case), which a relay does not forward.
    public static let hopByHop: Set<String> = [
        "connection", "content-length", "host", "te", "trailer", "transfer-encoding", "upgrade", "close",
        "keep-alive", "proxy-connection",
    ]
}

/// Why a relay request or listener failed.
public struct RelayFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// No listener is connected (502).
        case noListener
        /// The listener closed its channel before it answered (502).
        case listenerGone
        /// The listener did not answer in time (504).
        case timeout
        /// The hybrid connection has the most listeners it takes.
        case listenerLimit
        /// The listener rejected a WebSocket sender with this HTTP status.
        case rejected(status: Int)
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The HTTP status a sender gets.
    public var httpStatus: Int {
        switch kind {
        case .noListener, .listenerGone: 502
        case .timeout: 504
        case .listenerLimit: 403
        case .rejected(let status): (400...599).contains(status) ? status : 403
        }
    }

    public var description: String { message }
}

/// A WebSocket sender joined with a listener's rendezvous socket: what each side sends goes to the other. Either side
/// finishing (its socket closed) finishes the other's stream, and the adapter closes that socket.
public final class RelayBridge: Sendable {
    public let id: String
    /// What the sender sends, for the listener.
    public let toListener: AsyncStream<RelayHub.Frame>
    public let fromSender: AsyncStream<RelayHub.Frame>.Continuation
    /// What the listener sends, for the sender.
    public let toSender: AsyncStream<RelayHub.Frame>
    public let fromListener: AsyncStream<RelayHub.Frame>.Continuation

    init(id: String) {
        self.id = id
        (toListener, fromSender) = AsyncStream.makeStream(of: RelayHub.Frame.self)
        (toSender, fromListener) = AsyncStream.makeStream(of: RelayHub.Frame.self)
    }
}

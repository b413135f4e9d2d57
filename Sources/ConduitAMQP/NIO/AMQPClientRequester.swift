import Foundation
import Synchronization

/// A request-response pair of links to a node such as `$cbs` or `<entity>/$management` (the AMQP management
/// pattern): a sender to the node and a receiver from it whose target is the reply address. Each request carries a
/// message id and the reply address; the answer is the message whose correlation id is that id.
///
/// ```swift
/// let cbs = try await client.openRequester(node: "$cbs")
/// let answer = try await cbs.request(message, timeout: .seconds(30))
/// ```
public final class AMQPClientRequester: Sendable {
    let sender: AMQPClientSender
    let receiver: AMQPClientReceiver
    /// Where the node sends its answers.
    public let replyAddress: String
    private let requests = Atomic<UInt64>(0)
    /// One request at a time: answers are read in order from one receiver.
    private let turn = AMQPClientTurn()

    init(sender: AMQPClientSender, receiver: AMQPClientReceiver, replyAddress: String) {
        self.sender = sender
        self.receiver = receiver
        self.replyAddress = replyAddress
    }

    /// Sends `message` with a fresh message id and the reply address, and waits up to `timeout` for its answer.
    /// - Throws: ``AMQPError`` when the node refuses the request, no answer comes in time, or the link closes.
    public func request(_ message: AMQPMessage, timeout: Duration) async throws -> AMQPMessage {
        try await turn.run {
            var request = message
            let id = AMQPValue.ulong(requests.add(1, ordering: .relaxed).newValue)
            var properties = request.properties ?? AMQPMessage.Properties()
            properties.messageId = id
            properties.replyTo = replyAddress
            request.properties = properties
            let outcome = try await sender.send(request)
            if case .rejected(let error) = outcome {
                throw error
                    ?? AMQPError(condition: AMQPError.notAllowed, description: "The node rejected the request.")
            }
            let deadline = ContinuousClock.now + timeout
            while true {
                let left = deadline - ContinuousClock.now
                guard left > .zero, let delivery = try await receiver.receive(timeout: left) else {
                    throw AMQPError(
                        condition: "com.microsoft:timeout",
                        description: "No answer to the request came within \(timeout)."
                    )
                }
                receiver.settle(delivery)
                if delivery.message.properties?.correlationId == id { return delivery.message }
                // An answer to an earlier request that timed out: not ours.
            }
        }
    }

    /// Detaches both links.
    public func close() async throws {
        try await sender.close()
        try await receiver.close()
    }
}

/// Runs bodies one at a time, in arrival order (an async lock).
public final class AMQPClientTurn: Sendable {
    private let state = Mutex<(busy: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    public init() {}

    /// Waits for the turn, runs `body`, and gives the turn to the next waiter.
    public func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let proceed = state.withLock { state -> Bool in
                if state.busy {
                    state.waiting.append(continuation)
                    return false
                }
                state.busy = true
                return true
            }
            if proceed { continuation.resume() }
        }
        defer {
            let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
                if state.waiting.isEmpty {
                    state.busy = false
                    return nil
                }
                return state.waiting.removeFirst()
            }
            next?.resume()
        }
        return try await body()
    }
}

extension AMQPClient {
    /// Opens a request-response pair to `node` (`$cbs`, `<entity>/$management`).
    public func openRequester(node: String) async throws -> AMQPClientRequester {
        let replyAddress = "\(node)-reply-\(UUID())"
        let receiver = try await openReceiver(address: node, settled: true, targetAddress: replyAddress)
        let sender = try await openSender(address: node)
        return AMQPClientRequester(sender: sender, receiver: receiver, replyAddress: replyAddress)
    }

    /// Authorizes the connection for `audience` (`sb://host/entity`) with a token through the `$cbs` node (Azure's
    /// claims-based security), over `requester` (opened on `$cbs`).
    /// - Parameters:
    ///   - type: `servicebus.windows.net:sastoken` for a SAS token, `jwt` for an Entra ID token.
    /// - Throws: ``AMQPError`` with the node's `status-code` and `status-description` when it refuses the token.
    public static func putToken(
        _ token: String,
        audience: String,
        type: String = "servicebus.windows.net:sastoken",
        expiresAt: Date? = nil,
        on requester: AMQPClientRequester,
        timeout: Duration = .seconds(30)
    ) async throws {
        var applicationProperties = [
            AMQPMapEntry(.string("operation"), .string("put-token")),
            AMQPMapEntry(.string("type"), .string(type)),
            AMQPMapEntry(.string("name"), .string(audience)),
        ]
        if let expiresAt {
            applicationProperties.append(
                AMQPMapEntry(.string("expiration"), .timestamp(Int64(expiresAt.timeIntervalSince1970 * 1000)))
            )
        }
        let answer = try await requester.request(
            AMQPMessage(applicationProperties: applicationProperties, body: .value(.string(token))),
            timeout: timeout
        )
        let status = answer.applicationProperty("status-code")?.integer
        guard let status, (200..<300).contains(status) else {
            var description = "The $cbs node refused the token for \(audience)"
            if let status { description += " (\(status))" }
            if case .string(let reason)? = answer.applicationProperty("status-description") {
                description += ": \(reason)"
            }
            throw AMQPError(
                condition: status == 401 || status == 403 ? AMQPError.unauthorizedAccess : AMQPError.notAllowed,
                description: description
            )
        }
    }
}

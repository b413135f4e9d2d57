import ConduitAMQP
@_exported import ConduitContext
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// A context as a ``ContextListener`` hands it to its handler.
public struct ListenedContext: Sendable {
    /// The decoded execution context.
    public var context: RemoteExecutionContext
    /// The wire format it came in.
    public var format: WireFormat
    /// The message as it arrived (body, content type, message id, sequence number, truncation).
    public var message: ListenedMessage
}

/// Receives Dataverse execution contexts from a queue, a topic subscription or an event hub over AMQP, or from a
/// relay's hybrid connection (of `conduit serve`'s embedded bus or Azure), and hands each, decoded from whatever
/// format it came in, to a handler:
///
/// - the message is completed after the handler returns, and abandoned (delivered again, dead-lettered after the
///   entity's maximum delivery count) when it throws or the body is not a context;
/// - a context whose `OperationId` was handled within the last ``Options/deduplicationWindow`` contexts is
///   completed without calling the handler again (a system job retried after a post whose answer was lost sends the
///   same context twice);
/// - ``Options/concurrency`` handlers run at once;
/// - it is a `Service`: graceful shutdown (or cancelling its task) stops receiving, lets running handlers finish,
///   and gives back what was received but not handled.
///
/// ```swift
/// let listener = ContextListener(
///     connectionString: try String(contentsOfFile: "conduit-data/amqp.connection", encoding: .utf8),
///     source: .queue("contacts")
/// ) { received in
///     print(received.context.messageName ?? "", received.context.primaryEntityId)
/// }
/// try await listener.run()   // or in a ServiceGroup
/// ```
public final class ContextListener: Service, Sendable {
    /// Where the contexts come from.
    public enum Source: Sendable, Hashable {
        case queue(String)
        case subscription(topic: String, subscription: String)
        /// Every partition of an event hub, from the start of each (or only new events with `latest`). Events are
        /// not settled: one whose handler throws is logged and not seen again, and each partition is handled in
        /// order, one event at a time.
        case eventHub(String, consumerGroup: String = "$Default", latest: Bool = false)
        /// A relay's hybrid connection (one-way, two-way and REST endpoints), on the HTTP port of the namespace (use
        /// `bus.connection` of `conduit serve`). Each post is answered after the handler: 200 with
        /// ``Options/relayAnswer``, 500 when the handler throws (the system job retries), 400 when the body is not
        /// a context.
        case relay(String)

        /// The AMQP address (an event hub's name).
        public var address: String {
            switch self {
            case .queue(let name): name
            case .subscription(let topic, let subscription): "\(topic)/Subscriptions/\(subscription)"
            case .eventHub(let hub, _, _): hub
            case .relay(let name): name
            }
        }
    }

    public struct Options: Sendable {
        /// How many handlers run at once.
        public var concurrency: Int
        /// How many handled operations are remembered to recognise duplicates.
        public var deduplicationWindow: Int
        /// How many messages the bus sends ahead (AMQP link credit).
        public var prefetch: UInt32
        /// AMQP over TLS: the PEM file of the certificate authorities to trust instead of the system's.
        public var caFile: String?
        /// How long a shutdown may wait for the bus before it ends a receive.
        public var receiveWait: Duration
        /// Relays: the answer a two-way or REST post gets (the calling plug-in receives it).
        public var relayAnswer: String

        public init(
            concurrency: Int = 1,
            deduplicationWindow: Int = 10_000,
            prefetch: UInt32 = 20,
            caFile: String? = nil,
            receiveWait: Duration = .seconds(1),
            relayAnswer: String = "Success"
        ) {
            self.relayAnswer = relayAnswer
            self.concurrency = max(1, concurrency)
            self.deduplicationWindow = deduplicationWindow
            self.prefetch = max(1, prefetch)
            self.caFile = caFile
            self.receiveWait = receiveWait
        }
    }

    public typealias Handler = @Sendable (ListenedContext) async throws -> Void

    public let connectionString: String
    public let source: Source
    public let options: Options
    let handler: Handler
    let logger: Logger
    private let window: Mutex<OperationWindow>

    public init(
        connectionString: String,
        source: Source,
        options: Options = Options(),
        logger: Logger = Logger(label: "conduit.listener"),
        handler: @escaping Handler
    ) {
        self.connectionString = connectionString.trimmingCharacters(in: .whitespacesAndNewlines)
        self.source = source
        self.options = options
        self.logger = logger
        self.handler = handler
        self.window = Mutex(OperationWindow(capacity: options.deduplicationWindow))
    }

    /// Receives and handles until graceful shutdown or cancellation.
    /// - Throws: ``ListenerError`` when the namespace cannot be reached, refuses the credentials, or has no such
    ///   entity, or when the connection is lost.
    public func run() async throws {
        if case .relay(let name) = source {
            try await listen(relay: name)
            return
        }
        let bus = try await BusAMQPClient.connect(
            connectionString: connectionString,
            caFile: options.caFile,
            linkCredit: options.prefetch
        )
        if case .eventHub(let hub, let group, let latest) = source {
            do {
                try await read(bus, hub: hub, consumerGroup: group, latest: latest)
            } catch {
                await bus.close()
                if error is CancellationError { return }
                throw error
            }
            await bus.close()
            return
        }
        do {
            let receiver = try await bus.receiver(entity: source.address)
            try await cancelWhenGracefulShutdown {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<self.options.concurrency {
                        group.addTask { try await self.work(receiver) }
                    }
                    try await group.waitForAll()
                }
            }
            // The detach gives back what the link holds unsettled, once the settlements before it are in.
            try? await receiver.close()
        } catch {
            await bus.close()
            if error is CancellationError { return }
            throw error
        }
        await bus.close()
    }

    /// Answers the posts to a hybrid connection until cancelled. Requests are handled as they come (the relay's
    /// listener runs each in its own task); ``Options/concurrency`` does not apply.
    private func listen(relay: String) async throws {
        let answer = options.relayAnswer
        let listener = try RelayListener(
            connectionString: connectionString,
            relay: relay,
            caFile: options.caFile,
            logger: logger
        ) { request in
            switch await self.handle(ListenedMessage(relayed: request)) {
            case .handled, .duplicate: .text(answer)
            // Answered while the same operation is handled elsewhere: the sender tries again later.
            case .inProgress: .text("The same operation is being handled.", statusCode: 503)
            case .notContext(let reason): .text(reason, statusCode: 400)
            case .failed(let reason): .text("The listener failed: \(reason)", statusCode: 500)
            }
        }
        try await listener.run()
    }

    /// Reads every partition of `hub`, one worker each, until cancelled.
    private func read(_ bus: BusAMQPClient, hub: String, consumerGroup: String, latest: Bool) async throws {
        let partitions = try await bus.partitionReceivers(hub: hub, consumerGroup: consumerGroup, latest: latest)
        try await cancelWhenGracefulShutdown {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for receiver in partitions {
                    group.addTask { try await self.work(receiver) }
                }
                try await group.waitForAll()
            }
        }
    }

    /// One worker: receives and handles until cancelled.
    private func work(_ receiver: AMQPClientReceiver) async throws {
        while !Task.isCancelled {
            let delivery: AMQPClientDelivery?
            do {
                delivery = try await receiver.receive(timeout: options.receiveWait)
            } catch {
                if Task.isCancelled { return }
                throw ListenerError("the bus ended the receive from '\(source.address)': \(error)")
            }
            guard let delivery else { continue }
            if Task.isCancelled {
                receiver.settle(delivery, .released)
                return
            }
            receiver.settle(delivery, await handle(delivery))
        }
    }

    /// Handles one delivery; returns how to settle it.
    func handle(_ delivery: AMQPClientDelivery) async -> AMQPDeliveryState {
        switch await handle(ListenedMessage(delivery.message)) {
        case .handled, .duplicate: .accepted
        case .inProgress: .released
        case .notContext, .failed:
            .modified(deliveryFailed: true, undeliverableHere: false, messageAnnotations: nil)
        }
    }

    /// How handling one message ended.
    enum Verdict: Sendable, Hashable {
        case handled
        /// Its operation was handled already.
        case duplicate
        /// Its operation is being handled by another worker.
        case inProgress
        case notContext(String)
        case failed(String)
    }

    /// Decodes, de-duplicates and hands one message to the handler.
    func handle(_ message: ListenedMessage) async -> Verdict {
        let received: ListenedContext
        do {
            let (context, format) = try message.decodedContext()
            received = ListenedContext(context: context, format: format, message: message)
        } catch {
            logger.warning(
                "A message is not an execution context; abandoned",
                metadata: ["messageId": "\(message.messageId ?? "")", "error": "\(error)"]
            )
            return .notContext("\(error)")
        }
        let operation = received.context.operationId.description
        switch window.withLock({ $0.claim(operation) }) {
        case .handled:
            logger.debug("A duplicate context; completed unhandled", metadata: ["operationId": "\(operation)"])
            return .duplicate
        case .inProgress:
            return .inProgress
        case .new:
            break
        }
        do {
            try await handler(received)
            window.withLock { $0.finished(operation, handled: true) }
            return .handled
        } catch {
            window.withLock { $0.finished(operation, handled: false) }
            logger.warning(
                "The handler failed; the message is abandoned",
                metadata: ["operationId": "\(operation)", "error": "\(error)"]
            )
            return .failed("\(error)")
        }
    }
}

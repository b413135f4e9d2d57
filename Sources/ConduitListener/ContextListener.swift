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

/// Receives Dataverse execution contexts from a queue or a topic subscription (of `conduit serve`'s embedded bus or
/// an Azure namespace) over AMQP and hands each, decoded from whatever format it came in, to a handler:
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

        /// The AMQP address (an event hub's name).
        public var address: String {
            switch self {
            case .queue(let name): name
            case .subscription(let topic, let subscription): "\(topic)/Subscriptions/\(subscription)"
            case .eventHub(let hub, _, _): hub
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

        public init(
            concurrency: Int = 1,
            deduplicationWindow: Int = 10_000,
            prefetch: UInt32 = 20,
            caFile: String? = nil,
            receiveWait: Duration = .seconds(1)
        ) {
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
        let abandon = AMQPDeliveryState.modified(
            deliveryFailed: true,
            undeliverableHere: false,
            messageAnnotations: nil
        )
        let message = ListenedMessage(delivery.message)
        let received: ListenedContext
        do {
            let (context, format) = try message.decodedContext()
            received = ListenedContext(context: context, format: format, message: message)
        } catch {
            logger.warning(
                "A message is not an execution context; abandoned",
                metadata: ["messageId": "\(message.messageId ?? "")", "error": "\(error)"]
            )
            return abandon
        }
        let operation = received.context.operationId.description
        switch window.withLock({ $0.claim(operation) }) {
        case .handled:
            logger.debug("A duplicate context; completed unhandled", metadata: ["operationId": "\(operation)"])
            return .accepted
        case .inProgress:
            return .released
        case .new:
            break
        }
        do {
            try await handler(received)
            window.withLock { $0.finished(operation, handled: true) }
            return .accepted
        } catch {
            window.withLock { $0.finished(operation, handled: false) }
            logger.warning(
                "The handler failed; the message is abandoned",
                metadata: ["operationId": "\(operation)", "error": "\(error)"]
            )
            return abandon
        }
    }
}

import ConduitAMQP
import Foundation
import Synchronization

/// A link on which a client sends messages to a queue, a topic or an event hub (partition). Messages are committed
/// in arrival order, those that arrived together in one transaction (group commit), and each is accepted only once
/// it is committed — or rejected with the reason.
final class BusAMQPSender: Sendable {
    let node: BusAMQPNode
    let link: AMQPLinkID
    let handler: BusAMQPHandler
    /// Whether the node is an event hub, whose batches stay together on one partition.
    let eventHub: Bool
    private let pending = Mutex<(items: [AMQPIncomingDelivery], writing: Bool)>(([], false))

    init(node: BusAMQPNode, link: AMQPLinkID, handler: BusAMQPHandler, eventHub: Bool) {
        self.eventHub = eventHub
        self.node = node
        self.link = link
        self.handler = handler
    }

    /// Queues a message; a writer task commits what is queued, round after round.
    func enqueue(_ delivery: AMQPIncomingDelivery) {
        let starts = pending.withLock { state -> Bool in
            state.items.append(delivery)
            guard !state.writing else { return false }
            state.writing = true
            return true
        }
        guard starts else { return }
        Task(executorPreference: handler.connection.taskExecutor) { await self.write() }
    }

    private func write() async {
        while true {
            let batch = pending.withLock { state -> [AMQPIncomingDelivery] in
                defer { state.items = [] }
                if state.items.isEmpty { state.writing = false }
                return state.items
            }
            guard !batch.isEmpty else { return }
            await commit(batch)
        }
    }

    private func commit(_ batch: [AMQPIncomingDelivery]) async {
        // Decode each; a message that cannot be read is rejected alone.
        var decoded: [(AMQPIncomingDelivery, [BusMessage])] = []
        for delivery in batch {
            do {
                decoded.append(
                    (
                        delivery,
                        try BusAMQPMessages.busMessages(payload: delivery.payload, format: delivery.messageFormat)
                    )
                )
            } catch let error as BusAMQPError {
                settle(delivery, .rejected(error.amqpError))
            } catch {
                settle(delivery, .rejected(AMQPError(condition: AMQPError.decodeError, description: "\(error)")))
            }
        }
        guard !decoded.isEmpty else { return }
        if eventHub {
            // Each transfer (a batch) lands on one partition.
            for (delivery, messages) in decoded {
                do {
                    try await handler.namespace.eventHubs.sendBatch(
                        messages,
                        to: node.entityPath,
                        now: BusAMQPHandler.nowMilliseconds()
                    )
                    settle(delivery, .accepted)
                } catch {
                    settle(delivery, .rejected(Self.error(error)))
                }
            }
            return
        }
        do {
            try await send(decoded.flatMap { $0.1 })
            for (delivery, _) in decoded { settle(delivery, .accepted) }
        } catch {
            if decoded.count == 1 {
                settle(decoded[0].0, .rejected(Self.error(error)))
                return
            }
            // One of them may be at fault: each on its own, so that the others go in.
            for (delivery, messages) in decoded {
                do {
                    try await send(messages)
                    settle(delivery, .accepted)
                } catch {
                    settle(delivery, .rejected(Self.error(error)))
                }
            }
        }
    }

    private func send(_ messages: [BusMessage]) async throws {
        let now = BusAMQPHandler.nowMilliseconds()
        switch node {
        case .eventHubPartition(let hub, let partition):
            _ = try await handler.namespace.eventHubs.send(messages, to: hub, partition: partition, now: now)
        default:
            try await handler.namespace.send(messages, to: node.entityPath, now: now)
        }
    }

    private func settle(_ delivery: AMQPIncomingDelivery, _ state: AMQPDeliveryState) {
        handler.connection.settleIncoming(delivery.link, deliveryId: delivery.deliveryId, state: state)
    }

    static func error(_ error: any Error) -> AMQPError {
        BusAMQPHandler.amqpError(error, context: "The message was not stored: ")
    }
}

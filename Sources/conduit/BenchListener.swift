import AsyncHTTPClient
import ConduitAMQP
import ConduitListener
import ConduitServer
import Foundation
import NIOCore

/// The whole-system benchmark's listener: receivers that note, by the marker in each context, when its message
/// arrived and its `MessageId`. Over AMQP (as the Azure SDKs receive: peek-lock links on the queue or subscription,
/// accepted as they come; every partition of an event hub) or over the Service Bus REST API (receive-and-delete).
struct BenchListener: Sendable {
    typealias Receiver = @Sendable (Receipts, Noted<Int, Guid>) async throws -> Void

    let receivers: [Receiver]
    let close: @Sendable () async -> Void

    static func make(
        _ kind: BenchCommand.Post.Listener,
        contract: BenchCommand.Post.Contract,
        info: ServerReady,
        client: HTTPClient,
        links: Int
    ) async throws -> BenchListener {
        switch kind {
        case .rest:
            let bus = try BenchQueueClient(info: info, queue: contract.source, client: client)
            return BenchListener(
                receivers: Array(
                    repeating: { receipts, ids in try await receive(bus, into: receipts, messageIds: ids) },
                    count: links
                ),
                close: {}
            )
        case .amqp:
            guard let connection = info.amqpConnectionString else {
                throw CommandFailure("the benchmark's server serves no AMQP")
            }
            let bus = try await BusAMQPClient.connect(connectionString: connection, caFile: nil, linkCredit: 200)
            var receivers: [Receiver] = []
            if contract == .eventhub {
                for receiver in try await bus.partitionReceivers(
                    hub: contract.source,
                    consumerGroup: "$Default",
                    latest: true
                ) {
                    receivers.append { receipts, ids in
                        try await receive(receiver, settle: false, into: receipts, messageIds: ids)
                    }
                }
            } else {
                for _ in 0..<links {
                    let receiver = try await bus.receiver(entity: contract.source)
                    receivers.append { receipts, ids in
                        try await receive(receiver, settle: true, into: receipts, messageIds: ids)
                    }
                }
            }
            return BenchListener(receivers: receivers, close: { await bus.close() })
        }
    }

    /// Notes one message: its marker's number (none for the warm-up) and its `MessageId` (the system job's id).
    static func note(_ body: ByteBuffer, messageId: String?, into receipts: Receipts, messageIds: Noted<Int, Guid>) {
        let at = ContinuousClock.now
        let number = body.number(after: BenchCommand.Post.marker)
        receipts.note(number, at)
        if let number, let id = messageId.flatMap(Guid.init) { messageIds.note(number, id) }
    }

    /// Receives over AMQP until cancelled; accepts each message (events are not settled).
    static func receive(
        _ receiver: AMQPClientReceiver,
        settle: Bool,
        into receipts: Receipts,
        messageIds: Noted<Int, Guid>
    ) async throws {
        while !Task.isCancelled {
            let delivery: AMQPClientDelivery?
            do {
                delivery = try await receiver.receive(timeout: .seconds(1))
            } catch {
                if Task.isCancelled { return }
                throw error
            }
            guard let delivery else { continue }
            let message = ListenedMessage(delivery.message)
            note(ByteBuffer(bytes: message.body), messageId: message.messageId, into: receipts, messageIds: messageIds)
            if settle { receiver.settle(delivery, .accepted) }
        }
    }

    /// Takes messages off the queue or subscription over REST (receive-and-delete) until cancelled.
    static func receive(_ bus: BenchQueueClient, into receipts: Receipts, messageIds: Noted<Int, Guid>) async throws {
        while !Task.isCancelled {
            let message: BenchQueueClient.Received?
            do {
                message = try await bus.receive(lock: false, timeout: 5)
            } catch {
                if Task.isCancelled { return }
                throw error
            }
            guard let message else { continue }
            note(message.body, messageId: message.messageId, into: receipts, messageIds: messageIds)
        }
    }
}

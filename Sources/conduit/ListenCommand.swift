import ArgumentParser
import AsyncHTTPClient
import ConduitAMQP
import ConduitContext
import ConduitListener
import Foundation
import Logging
import NIOHTTP1
import Synchronization
import UnixSignals

/// `conduit listen`: receives execution contexts from a queue, a topic subscription, an event hub or a relay's hybrid
/// connection and prints them.
struct ListenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Receive execution contexts from a queue, topic subscription, event hub or relay and print them.",
        discussion: """
            Receives with peek-lock over AMQP 1.0, as the Azure SDKs do (the embedded bus of 'conduit serve', or an \
            Azure namespace: UseDevelopmentEmulator=true in the connection string means plain AMQP, anything else \
            AMQP over TLS on port 5671), or over the Service Bus REST API with --transport rest. Decodes each body by \
            its content type (application/msbin1, application/json, application/xml), prints a one-line summary (or \
            the whole context with --output json|xml) and completes the message once it is printed. A body that \
            cannot be decoded is abandoned (the bus redelivers it and dead-letters it after its maximum delivery \
            count). Ctrl-C stops: a message received but not yet handled is abandoned, so it stays on the bus. With \
            --eventhub it reads every partition of the hub from --from (start or latest); events stay in the hub.

            'conduit serve' writes two connection strings: conduit-data/amqp.connection (its AMQP port, for AMQP) \
            and conduit-data/bus.connection (its HTTP port, for --transport rest and the 'conduit bus' commands).

            Example: conduit listen --connection-string "$(cat conduit-data/amqp.connection)" --queue contacts
                     conduit listen --connection-string "$(cat conduit-data/bus.connection)" --relay approvals --reply OK
            """
    )

    enum Output: String, ExpressibleByArgument, CaseIterable { case summary, json, xml }
    enum Transport: String, ExpressibleByArgument, CaseIterable { case amqp, rest }

    @Option(
        name: .customLong("connection-string"),
        help: "The namespace's connection string (as 'conduit serve' prints it); also CONDUIT_CONNECTION_STRING."
    )
    var connectionString: String? = ProcessInfo.processInfo.environment["CONDUIT_CONNECTION_STRING"]
    @Option(help: "How to reach the namespace: amqp (AMQP 1.0, as the Azure SDKs) or rest (the Service Bus REST API).")
    var transport: Transport = .amqp
    @Option(
        help:
            "TLS (AMQPS, HTTPS with --transport rest, wss with --relay): the PEM file of the certificate authorities to trust instead of the system's, such as <data-dir>/tls/ca.pem of 'conduit serve --tls self-signed'."
    )
    var ca: String?
    @Option(help: "The queue to receive from.") var queue: String?
    @Option(help: "The topic (with --subscription).") var topic: String?
    @Option(help: "The topic's subscription.") var subscription: String?
    @Option(help: "The event hub.") var eventhub: String?
    @Option(
        help: "The relay's hybrid connection to listen on (one-way, two-way and REST contracts), on the HTTP port."
    ) var relay: String?
    @Option(help: "--relay: the answer returned to a two-way or REST post (the calling plug-in gets it).") var reply =
        "Success"
    @Option(name: .customLong("consumer-group"), help: "The event hub's consumer group.") var consumerGroup = "$Default"
    @Option(help: "Event hubs: read from the start of each partition, or only new events (latest).") var from:
        StartPosition = .start

    enum StartPosition: String, ExpressibleByArgument, CaseIterable { case start, latest }
    @Option(help: "What to print per message: summary, json or xml.") var output: Output = .summary
    @Option(name: .customLong("max-messages"), help: "Stop after this many messages.") var maxMessages: Int?
    @Option(help: "Seconds each receive waits for a message (1–60).") var wait = 30
    @Flag(help: "Stop when no message arrives within --wait seconds.") var untilIdle = false

    func validate() throws {
        guard connectionString?.isEmpty == false else {
            throw ValidationError("Give --connection-string (or set CONDUIT_CONNECTION_STRING).")
        }
        switch (queue, topic, subscription) {
        case (nil, nil, nil) where eventhub != nil && relay == nil: break
        case (nil, nil, nil) where relay != nil && eventhub == nil: break
        case (.some, nil, nil) where eventhub == nil && relay == nil,
            (nil, .some, .some) where eventhub == nil && relay == nil:
            break
        case (nil, .some, nil): throw ValidationError("--topic needs --subscription.")
        default:
            throw ValidationError("Give one of --queue, --topic with --subscription, --eventhub or --relay.")
        }
        guard (1...60).contains(wait) else { throw ValidationError("--wait must be 1 to 60 seconds, not \(wait).") }
        if let maxMessages, maxMessages < 1 { throw ValidationError("--max-messages must be at least 1.") }
        if let ca, !FileManager.default.isReadableFile(atPath: ca) {
            throw ValidationError("--ca: cannot read the file \(ca).")
        }
    }

    var entity: String {
        if let queue { return queue }
        return "\(topic ?? "")/subscriptions/\(subscription ?? "")"
    }

    func run() async throws {
        if let relay {
            try await listen(relay: relay)
            return
        }
        switch transport {
        case .amqp: try await runAMQP()
        case .rest: try await runREST()
        }
    }

    func runAMQP() async throws {
        let bus = try await BusAMQPClient.connect(
            connectionString: connectionString ?? "",
            caFile: ca,
            linkCredit: UInt32(min(maxMessages ?? 50, 50))
        )
        let entity = queue ?? "\(topic ?? "")/Subscriptions/\(subscription ?? "")"
        try await untilInterrupted {
            if let eventhub {
                try await self.read(from: bus, hub: eventhub)
            } else {
                try await self.receive(from: bus, entity: entity)
            }
        } stop: {
            // Ends a receive that waits: what it held unsettled goes back to the bus.
            await bus.close()
        }
    }

    /// Listens on a hybrid connection: prints each relayed context and answers it with `--reply` (a body that is not
    /// a context is answered 400).
    func listen(relay: String) async throws {
        let handled = MessageCount()
        let limit = maxMessages
        let done = AsyncStream<Void>.makeStream()
        var logger = Logger(label: "conduit.listen")
        logger.logLevel = .error
        let reply = self.reply
        let listener = try RelayListener(
            connectionString: connectionString ?? "",
            relay: relay,
            caFile: ca,
            logger: logger,
            answered: { _, response in
                // Counted once the answer is on its way: stopping earlier would leave the sender without it.
                guard response.statusCode == 200 else { return }
                let count = handled.value.withLock { count -> Int in
                    count += 1
                    return count
                }
                if let limit, count >= limit { done.continuation.yield() }
            }
        ) { request in
            let line: String
            do {
                line = try self.describe(ListenedMessage(relayed: request))
            } catch {
                FileHandle.standardError.write(Data("conduit listen: \(error)\n".utf8))
                return .text("\(error)", statusCode: 400)
            }
            FileHandle.standardOutput.write(Data(line.utf8))
            return .text(reply)
        }
        try await untilInterrupted {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await listener.run() }
                group.addTask {
                    await listener.waitUntilConnected()
                    FileHandle.standardError.write(
                        Data("Listening on \(listener.base)/$hc/\(relay) (relay; Ctrl-C stops)\n".utf8)
                    )
                    for await _ in done.stream { return }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    /// Runs `work` until it ends or Ctrl-C (or SIGTERM) comes, then cancels it and runs `stop` (which ends what
    /// cancellation alone does not).
    func untilInterrupted(
        _ work: @escaping @Sendable () async throws -> Void,
        stop: @escaping @Sendable () async -> Void = {}
    ) async throws {
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await work() }
            group.addTask {
                for await _ in signals { return }
            }
            do {
                try await group.next()
            } catch {
                group.cancelAll()
                await stop()
                throw error
            }
            group.cancelAll()
            await stop()
        }
    }

    /// Receives with peek-lock over AMQP, completing each message once printed.
    func receive(from bus: BusAMQPClient, entity: String) async throws {
        let receiver = try await bus.receiver(entity: entity)
        FileHandle.standardError.write(Data("Listening on \(bus.base)/\(entity) over AMQP (Ctrl-C stops)\n".utf8))
        var handled = 0
        while maxMessages.map({ handled < $0 }) ?? true {
            let delivery: AMQPClientDelivery?
            do {
                delivery = try await receiver.receive(timeout: .seconds(wait))
            } catch {
                if Task.isCancelled { return }
                throw CommandFailure("the bus ended the receive from '\(entity)': \(error)")
            }
            guard let delivery else {
                if untilIdle { break }
                continue
            }
            do {
                let line = try describe(ListenedMessage(delivery.message))
                FileHandle.standardOutput.write(Data(line.utf8))
                receiver.settle(delivery, .accepted)
                handled += 1
            } catch {
                // Not handled: back on the bus for another delivery.
                receiver.settle(
                    delivery,
                    .modified(deliveryFailed: true, undeliverableHere: false, messageAnnotations: nil)
                )
                FileHandle.standardError.write(Data("conduit listen: \(error)\n".utf8))
            }
        }
        // The detach waits for the bus, so the settlements before it are in.
        try? await receiver.close()
    }

    /// Reads every partition of an event hub over AMQP, printing each event as it comes.
    func read(from bus: BusAMQPClient, hub: String) async throws {
        let receivers = try await bus.partitionReceivers(
            hub: hub,
            consumerGroup: consumerGroup,
            latest: from == .latest
        )
        FileHandle.standardError.write(
            Data("Listening on \(bus.base)/\(hub), \(receivers.count) partitions, over AMQP (Ctrl-C stops)\n".utf8)
        )
        let handled = MessageCount()
        let limit = maxMessages
        try await withThrowingTaskGroup(of: Void.self) { group in
            for receiver in receivers {
                group.addTask {
                    while limit.map({ max in handled.value.withLock { $0 < max } }) ?? true {
                        guard let delivery = try await receiver.receive(timeout: .seconds(self.wait)) else {
                            if self.untilIdle { return }
                            continue
                        }
                        let take = handled.value.withLock { count -> Bool in
                            guard limit.map({ count < $0 }) ?? true else { return false }
                            count += 1
                            return true
                        }
                        guard take else { return }
                        do {
                            FileHandle.standardOutput.write(
                                Data(try self.describe(ListenedMessage(delivery.message)).utf8)
                            )
                        } catch {
                            FileHandle.standardError.write(Data("conduit listen: \(error)\n".utf8))
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    func runREST() async throws {
        let client = try CommandHTTPClient.make(caFile: ca)
        defer { _ = client.shutdown() }
        let bus = try BusRESTClient(connectionString: connectionString ?? "", client: client)
        let entity = self.entity
        try await untilInterrupted {
            if let eventhub {
                try await self.read(from: bus, hub: eventhub)
            } else {
                try await self.receive(from: bus, entity: entity)
            }
        }
    }

    func receive(from bus: BusRESTClient, entity: String) async throws {
        var handled = 0
        FileHandle.standardError.write(Data("Listening on \(bus.base)/\(entity) over REST (Ctrl-C stops)\n".utf8))
        while maxMessages.map({ handled < $0 }) ?? true {
            let received: BusRESTClient.Received?
            do {
                received = try await bus.peekLock(entity, wait: wait)
            } catch is CancellationError {
                return
            }
            guard let received else {
                if untilIdle { return }
                continue
            }
            do {
                try Task.checkCancellation()
                let line = try describe(ListenedMessage(received))
                FileHandle.standardOutput.write(Data(line.utf8))
                try await bus.settle(received, entity: entity, complete: true)
                handled += 1
            } catch {
                // Not handled: back on the bus for another delivery.
                try? await bus.settle(received, entity: entity, complete: false)
                if error is CancellationError { return }
                FileHandle.standardError.write(Data("conduit listen: \(error)\n".utf8))
            }
        }
    }

    /// Reads every partition of an event hub in turn, printing each event.
    func read(from bus: BusRESTClient, hub: String) async throws {
        let count = try await bus.partitionCount(hub: hub)
        var next = [Int64](repeating: 0, count: count)
        if from == .latest {
            for partition in 0..<count {
                let answer = try await bus.call(.GET, "/\(hub)/partitions/\(partition)", entity: hub)
                let info = (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8))) as? [String: Any]
                next[partition] = ((info?["LastEnqueuedSequenceNumber"] as? NSNumber)?.int64Value ?? -1) + 1
            }
        }
        FileHandle.standardError.write(
            Data("Listening on \(bus.base)/\(hub), \(count) partitions (Ctrl-C stops)\n".utf8)
        )
        var handled = 0
        while maxMessages.map({ handled < $0 }) ?? true {
            var any = false
            for partition in 0..<count {
                let wait = partition == count - 1 ? min(wait, 1) : 0
                let events: [BusRESTClient.Event]
                do {
                    events = try await bus.readEvents(
                        hub: hub,
                        consumerGroup: consumerGroup,
                        partition: partition,
                        from: next[partition],
                        wait: any ? 0 : wait
                    )
                } catch is CancellationError {
                    return
                }
                for event in events where maxMessages.map({ handled < $0 }) ?? true {
                    any = true
                    next[partition] = event.sequenceNumber + 1
                    let received = ListenedMessage(
                        body: event.body,
                        contentType: event.contentType,
                        messageId: event.messageId,
                        sequenceNumber: event.sequenceNumber,
                        isTruncated: false
                    )
                    do {
                        FileHandle.standardOutput.write(Data(try describe(received).utf8))
                    } catch {
                        FileHandle.standardError.write(Data("conduit listen: \(error)\n".utf8))
                    }
                    handled += 1
                }
            }
            if !any && untilIdle { return }
        }
    }

    /// What to print for a message.
    func describe(_ received: ListenedMessage) throws -> String {
        let context: RemoteExecutionContext
        let format: WireFormat
        do {
            (context, format) = try received.decodedContext()
        } catch {
            throw CommandFailure("\(error.message); abandoned")
        }
        switch output {
        case .json:
            return String(decoding: ContextCodec.encode(context, format: .json), as: UTF8.self) + "\n"
        case .xml:
            return String(decoding: ContextCodec.encode(context, format: .xml), as: UTF8.self) + "\n"
        case .summary:
            let truncated = received.isTruncated ? " (truncated: MessageMaxSizeExceeded)" : ""
            return
                "\(context.operationCreatedOn.xmlText(localOffsetMinutes: 0)) \(context.messageName ?? "?") \(context.primaryEntityName ?? "?") \(context.primaryEntityId) by \(context.initiatingUserId) [\(format.rawValue), \(received.body.count) B, seq \(received.sequenceNumber.map(String.init) ?? "?"), operation \(context.operationId)]\(truncated)\n"
        }
    }
}

/// The messages handled so far, shared by the partitions' readers.
final class MessageCount: Sendable {
    let value = Mutex(0)
}

import ArgumentParser
import AsyncHTTPClient
import ConduitContext
import Foundation
import NIOHTTP1
import UnixSignals

/// `conduit listen`: receives execution contexts from a queue or a topic subscription and prints them.
struct ListenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Receive execution contexts from a queue, topic subscription or event hub and print them.",
        discussion: """
            Receives with peek-lock over the Service Bus REST API (the embedded bus of 'conduit serve', or an Azure \
            namespace), decodes each body by its content type (application/msbin1, application/json, \
            application/xml), prints a one-line summary (or the whole context with --output json|xml) and completes \
            the message once it is printed. A body that cannot be decoded is abandoned (the bus redelivers it and \
            dead-letters it after its maximum delivery count). Ctrl-C stops: a message received but not yet handled \
            is abandoned, so it stays on the bus. With --eventhub it reads every partition of the hub (through \
            Conduit's REST reading; Azure reads event hubs over AMQP, which comes next) from --from (start or \
            latest); events stay in the hub.

            Example: conduit listen --connection-string "$(cat conduit-data/bus.connection)" --queue contacts
            """
    )

    enum Output: String, ExpressibleByArgument, CaseIterable { case summary, json, xml }

    @Option(
        name: .customLong("connection-string"),
        help: "The namespace's connection string (as 'conduit serve' prints it); also CONDUIT_CONNECTION_STRING."
    )
    var connectionString: String? = ProcessInfo.processInfo.environment["CONDUIT_CONNECTION_STRING"]
    @Option(help: "The queue to receive from.") var queue: String?
    @Option(help: "The topic (with --subscription).") var topic: String?
    @Option(help: "The topic's subscription.") var subscription: String?
    @Option(help: "The event hub.") var eventhub: String?
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
        case (nil, nil, nil) where eventhub != nil: break
        case (.some, nil, nil) where eventhub == nil, (nil, .some, .some) where eventhub == nil: break
        case (nil, .some, nil): throw ValidationError("--topic needs --subscription.")
        default: throw ValidationError("Give one of --queue, --topic with --subscription, or --eventhub.")
        }
        guard (1...60).contains(wait) else { throw ValidationError("--wait must be 1 to 60 seconds, not \(wait).") }
        if let maxMessages, maxMessages < 1 { throw ValidationError("--max-messages must be at least 1.") }
    }

    var entity: String {
        if let queue { return queue }
        return "\(topic ?? "")/subscriptions/\(subscription ?? "")"
    }

    func run() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = client.shutdown() }
        let bus = try BusRESTClient(connectionString: connectionString ?? "", client: client)
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)
        let entity = self.entity
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let eventhub {
                group.addTask { try await self.read(from: bus, hub: eventhub) }
            } else {
                group.addTask { try await self.receive(from: bus, entity: entity) }
            }
            group.addTask {
                for await _ in signals { return }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    func receive(from bus: BusRESTClient, entity: String) async throws {
        var handled = 0
        FileHandle.standardError.write(Data("Listening on \(bus.base)/\(entity) (Ctrl-C stops)\n".utf8))
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
                let line = try describe(received)
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
                    let received = BusRESTClient.Received(
                        body: event.body,
                        contentType: event.contentType,
                        broker: ["MessageId": event.messageId ?? "", "SequenceNumber": event.sequenceNumber],
                        location: nil,
                        headers: [:]
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
    func describe(_ received: BusRESTClient.Received) throws -> String {
        guard let type = received.contentType, let format = WireFormat(contentType: type) else {
            throw CommandFailure(
                "message \(received.messageId ?? "?") has the content type '\(received.contentType ?? "none")', not an execution context (application/msbin1, application/json or application/xml); abandoned"
            )
        }
        let context: RemoteExecutionContext
        do {
            context = try ContextCodec.decode(received.body, format: format)
        } catch {
            throw CommandFailure(
                "message \(received.messageId ?? "?") is not a readable \(format.rawValue) context: \(error); abandoned"
            )
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

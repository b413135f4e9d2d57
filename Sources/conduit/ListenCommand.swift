import ArgumentParser
import AsyncHTTPClient
import ConduitContext
import Foundation
import UnixSignals

/// `conduit listen`: receives execution contexts from a queue or a topic subscription and prints them.
struct ListenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listen",
        abstract: "Receive execution contexts from a queue or topic subscription and print them.",
        discussion: """
            Receives with peek-lock over the Service Bus REST API (the embedded bus of 'conduit serve', or an Azure \
            namespace), decodes each body by its content type (application/msbin1, application/json, \
            application/xml), prints a one-line summary (or the whole context with --output json|xml) and completes \
            the message once it is printed. A body that cannot be decoded is abandoned (the bus redelivers it and \
            dead-letters it after its maximum delivery count). Ctrl-C stops: a message received but not yet handled \
            is abandoned, so it stays on the bus. Event hubs are not built yet.

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
    @Option(help: "The event hub (not built yet).") var eventhub: String?
    @Option(help: "What to print per message: summary, json or xml.") var output: Output = .summary
    @Option(name: .customLong("max-messages"), help: "Stop after this many messages.") var maxMessages: Int?
    @Option(help: "Seconds each receive waits for a message (1–60).") var wait = 30
    @Flag(help: "Stop when no message arrives within --wait seconds.") var untilIdle = false

    func validate() throws {
        guard connectionString?.isEmpty == false else {
            throw ValidationError("Give --connection-string (or set CONDUIT_CONNECTION_STRING).")
        }
        if eventhub != nil {
            throw ValidationError("Listening to event hubs is not built yet; use --queue or --topic/--subscription.")
        }
        switch (queue, topic, subscription) {
        case (.some, nil, nil), (nil, .some, .some): break
        case (nil, .some, nil): throw ValidationError("--topic needs --subscription.")
        default: throw ValidationError("Give --queue, or --topic with --subscription.")
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
            group.addTask { try await self.receive(from: bus, entity: entity) }
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

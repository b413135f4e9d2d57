import ConduitAMQP
import ConduitBus
import ConduitContext
import ConduitListener
import ConduitStore
import ConduitTestSupport
import Foundation
import Logging
import Synchronization
import Testing

/// The listener library against the embedded bus's AMQP server on a loopback port.
@Suite("ContextListener")
struct ContextListenerTests {
    static let now = Int64(Date().timeIntervalSince1970 * 1000)

    /// Runs `body` with a queue `contexts` (no duplicate detection, at most 2 deliveries) and the AMQP server's
    /// connection string.
    static func withQueue(_ body: @Sendable (BusNamespace, String) async throws -> Void) async throws {
        try await TestBackend.sqliteFile.withStore { store in
            try await store.migrate(BusNamespace.migrations)
            let bus = BusNamespace(store: store)
            let root = try await bus.ensureRootRule()
            try await bus.queues.createQueue(QueueDescription(name: "contexts", maxDeliveryCount: 2), now: now)
            var logger = Logger(label: "conduit.test.listener")
            logger.logLevel = .warning
            let server = bus.amqpServer(port: 0, logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                let port = try #require(await server.waitUntilListening())
                do {
                    try await body(bus, BusNamespace.connectionString(host: "127.0.0.1", port: port, rule: root))
                } catch {
                    group.cancelAll()
                    throw error
                }
                group.cancelAll()
            }
        }
    }

    /// A message holding a context with `operation` as its OperationId, in `format`.
    static func message(_ operation: Guid, format: WireFormat = .json, entity: Guid = Guid.random()) -> BusMessage {
        var context = RemoteExecutionContext()
        context.messageName = "Update"
        context.primaryEntityName = "contact"
        context.primaryEntityId = entity
        context.operationId = operation
        return BusMessage(
            body: Data(ContextCodec.encode(context, format: format)),
            messageId: Guid.random().description,
            contentType: format.contentType
        )
    }

    /// Waits until `condition` holds (up to 20 s).
    static func eventually(_ condition: @Sendable () async throws -> Bool) async throws -> Bool {
        for _ in 0..<400 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test("each context is handled once, in any format, even delivered twice; what is not a context is abandoned")
    func handledOnce() async throws {
        try await Self.withQueue { bus, connectionString in
            let first = Guid.random()
            let second = Guid.random()
            // The same context twice (a system job retried after a post whose answer was lost), another one in
            // XML, and a message that is not a context.
            _ = try await bus.queues.send(
                [
                    Self.message(first), Self.message(second, format: .xml), Self.message(first),
                    BusMessage(body: Data("hello".utf8), contentType: "text/plain"),
                ],
                to: "contexts",
                now: Self.now
            )
            let handled = Mutex<[String]>([])
            let listener = ContextListener(
                connectionString: connectionString,
                source: .queue("contexts"),
                options: .init(concurrency: 2)
            ) { received in
                handled.withLock { $0.append("\(received.format.rawValue) \(received.context.operationId)") }
            }
            let running = Task { try await listener.run() }
            let settled = try await Self.eventually {
                let counts = try await bus.queues.counts("contexts", now: Self.now)
                return counts.active == 0 && counts.deadLettered == 1
            }
            running.cancel()
            try await running.value
            #expect(settled, "every message settled; the one that is not a context dead-lettered after 2 deliveries")
            #expect(handled.withLock { $0 }.sorted() == ["json \(first)", "xml \(second)"].sorted())
        }
    }

    @Test("a handler that throws leaves the message to come again; it is handled on the next delivery")
    func handlerFailure() async throws {
        try await Self.withQueue { bus, connectionString in
            let operation = Guid.random()
            _ = try await bus.queues.send([Self.message(operation)], to: "contexts", now: Self.now)
            let attempts = Mutex(0)
            let listener = ContextListener(connectionString: connectionString, source: .queue("contexts")) { _ in
                let attempt = attempts.withLock {
                    $0 += 1
                    return $0
                }
                if attempt == 1 { throw ListenerError("not yet") }
            }
            let running = Task { try await listener.run() }
            let drained = try await Self.eventually {
                try await bus.queues.counts("contexts", now: Self.now).total == 0
            }
            running.cancel()
            try await running.value
            #expect(drained)
            #expect(attempts.withLock { $0 } == 2)
        }
    }

    @Test("an event hub: every partition is read, each context handled once, one row's changes in order")
    func eventHub() async throws {
        try await Self.withQueue { bus, connectionString in
            try await bus.eventHubs.createHub(EventHubDescription(name: "changes", partitionCount: 4), now: Self.now)
            let row = Guid.random()
            var events: [BusMessage] = []
            for index in 0..<6 {
                var event = Self.message(Guid.random(), entity: index < 3 ? row : Guid.random())
                event.partitionKey = (index < 3 ? row : Guid.random()).description
                events.append(event)
            }
            events.append(events[4])  // the same context again (a retried job)
            for event in events { try await bus.eventHubs.send([event], to: "changes", now: Self.now) }
            let handled = Mutex<[RemoteExecutionContext]>([])
            let listener = ContextListener(connectionString: connectionString, source: .eventHub("changes")) {
                received in
                handled.withLock { $0.append(received.context) }
            }
            let running = Task { try await listener.run() }
            let all = try await Self.eventually { handled.withLock { $0.count } >= 6 }
            try await Task.sleep(for: .milliseconds(300))
            running.cancel()
            try await running.value
            let contexts = handled.withLock { $0 }
            #expect(all && contexts.count == 6, "six contexts, the repeated one once")
            #expect(Set(contexts.map(\.operationId)).count == 6)
            let sent = try events.prefix(3).map { try ContextCodec.decode(Array($0.body), format: .json).operationId }
            #expect(contexts.filter { $0.primaryEntityId == row }.map(\.operationId) == sent, "in the order sent")
        }
    }

    @Test("a namespace that is not there, or a queue that does not exist, is a clear error")
    func refusals() async throws {
        try await Self.withQueue { _, connectionString in
            let missing = ContextListener(connectionString: connectionString, source: .queue("nowhere")) { _ in }
            let error = await #expect(throws: ListenerError.self) { try await missing.run() }
            #expect(error?.message.contains("'nowhere' does not exist") == true, "\(error?.message ?? "")")
        }
        let closed = ContextListener(
            connectionString:
                "Endpoint=sb://127.0.0.1:1/;SharedAccessKeyName=k;SharedAccessKey=a2V5;UseDevelopmentEmulator=true",
            source: .queue("contexts")
        ) { _ in }
        let error = await #expect(throws: ListenerError.self) { try await closed.run() }
        #expect(error?.message.contains("cannot connect to amqp://127.0.0.1:1") == true, "\(error?.message ?? "")")
    }
}

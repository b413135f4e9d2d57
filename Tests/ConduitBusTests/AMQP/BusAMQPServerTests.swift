import ConduitAMQP
import ConduitBus
import ConduitStore
import ConduitTestSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Testing

/// The embedded namespace's AMQP server, live on a loopback port.
@Suite("bus AMQP server")
struct BusAMQPServerTests {
    /// Runs `body` with the namespace's AMQP server listening on a free port.
    static func withServer(
        _ backend: TestBackend,
        _ body: @Sendable (BusNamespace, Int) async throws -> Void
    ) async throws {
        try await backend.withStore { store in
            try await store.migrate(BusNamespace.migrations)
            let bus = BusNamespace(store: store)
            let server = bus.amqpServer(port: 0, logger: testLogger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                let port = try #require(await server.waitUntilListening())
                do {
                    try await body(bus, port)
                } catch {
                    group.cancelAll()
                    throw error
                }
                group.cancelAll()
            }
        }
    }

    /// Connects, writes `bytes`, and reads until the server closes the connection (or `timeout`); returns what
    /// came back.
    static func exchange(port: Int, _ bytes: [UInt8], timeout: Duration = .seconds(10)) async throws -> [UInt8] {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: bytes))
            return try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
                group.addTask {
                    var received: [UInt8] = []
                    for try await chunk in inbound { received += chunk.readableBytesView }
                    return received
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return try #require(first, "the server did not close the connection within \(timeout)")
            }
        }
    }

    /// The conditions of the close frames in `bytes` (after the 8-byte protocol header).
    static func closeConditions(_ bytes: [UInt8]) throws -> [String] {
        var buffer = ByteBuffer(bytes: bytes)
        var decoder = AMQPFrameDecoder(maximumFrameSize: 1 << 20)
        var conditions: [String] = []
        while let input = try decoder.decode(buffer: &buffer) {
            guard case .frame(let frame) = input, frame.type == .amqp, !frame.isHeartbeat else { continue }
            var body = frame.body
            if case .close(let error) = try AMQPPerformative(body.readAMQPValue()) {
                conditions.append(error?.condition ?? "none")
            }
        }
        return conditions
    }

    static func frame(_ performative: AMQPPerformative) throws -> [UInt8] {
        var body = ByteBuffer()
        _ = try body.writeAMQPValue(performative.value)
        var buffer = ByteBuffer()
        AMQPFrame(type: .amqp, channel: 0, body: body).write(to: &buffer)
        return Array(buffer.readableBytesView)
    }

    @Test(
        "random bytes, a wrong header, an oversized frame and a bad order each close only their connection; stored messages stay",
        arguments: [TestBackend.sqliteFile]
    )
    func malformedInput(backend: TestBackend) async throws {
        try await Self.withServer(backend) { bus, port in
            try await bus.queues.createQueue(QueueDescription(name: "kept"), now: 0)
            try await bus.send([BusMessage(body: Data("precious".utf8))], to: "kept", now: 1)
            let amqpHeader: [UInt8] = [0x41, 0x4D, 0x51, 0x50, 0, 1, 0, 0]
            var random = SeededRandom(seed: 7)
            // Noise from the first byte.
            let noise = try await Self.exchange(
                port: port,
                (0..<300).map { _ in UInt8.random(in: 0...255, using: &random) }
            )
            #expect(Array(noise.prefix(4)) == [0x41, 0x4D, 0x51, 0x50])
            // HTTP instead of AMQP.
            let http = try await Self.exchange(port: port, Array("GET / HTTP/1.1\r\n\r\n".utf8))
            #expect(Array(http.prefix(4)) == [0x41, 0x4D, 0x51, 0x50])
            // A frame announcing 2 GB.
            let oversized = try await Self.exchange(
                port: port,
                amqpHeader + (try Self.frame(.open(.init(containerId: "c")))) + [0x7F, 0xFF, 0xFF, 0xFF, 2, 0, 0, 0]
            )
            #expect(try Self.closeConditions(Array(oversized.dropFirst(8))) == [AMQPError.framingError], "\(oversized)")
            // A garbage performative.
            let garbage = try await Self.exchange(
                port: port,
                amqpHeader + (try Self.frame(.open(.init(containerId: "c")))) + [
                    0, 0, 0, 12, 2, 0, 0, 0, 0x00, 0x53, 0x10, 0xd0,
                ]
            )
            #expect(try Self.closeConditions(Array(garbage.dropFirst(8))) == [AMQPError.decodeError])
            // A transfer before any session.
            let order = try await Self.exchange(
                port: port,
                amqpHeader + (try Self.frame(.open(.init(containerId: "c"))))
                    + (try Self.frame(.transfer(.init(handle: 0, deliveryId: 0, deliveryTag: [1]))))
            )
            #expect(try Self.closeConditions(Array(order.dropFirst(8))) == ["amqp:connection:framing-error"])
            // The server still answers a well-behaved client, and the message is untouched.
            let good = try await Self.exchange(
                port: port,
                amqpHeader + (try Self.frame(.open(.init(containerId: "c")))) + (try Self.frame(.close(nil)))
            )
            #expect(Array(good.prefix(8)) == amqpHeader)
            #expect(try Self.closeConditions(Array(good.dropFirst(8))) == ["none"])
            #expect(try await bus.queues.counts("kept").active == 1)
            let message = try await bus.queues.peek("kept", from: 0, count: 10)
            #expect(message.map { String(decoding: $0.message.body, as: UTF8.self) } == ["precious"])
        }
    }

    @Test(
        "the Swift client: PLAIN login, send, peek-lock and complete, receive-and-delete, refusals",
        arguments: [TestBackend.sqliteFile]
    )
    func swiftClient(backend: TestBackend) async throws {
        try await Self.withServer(backend) { bus, port in
            let root = try await bus.ensureRootRule()
            try await bus.queues.createQueue(QueueDescription(name: "orders"), now: 0)
            let refused = await #expect(throws: AMQPError.self) {
                _ = try await AMQPClient.connect(
                    host: "127.0.0.1",
                    port: port,
                    credentials: .plain(user: root.keyName, password: "not the key"),
                    logger: testLogger
                )
            }
            #expect(refused?.condition == AMQPError.unauthorizedAccess)
            let client = try await AMQPClient.connect(
                host: "127.0.0.1",
                port: port,
                credentials: .plain(user: root.keyName, password: root.primaryKey),
                logger: testLogger
            )
            let missing = await #expect(throws: AMQPError.self) { _ = try await client.openSender(address: "nowhere") }
            #expect(missing?.condition == AMQPError.notFound)
            let sender = try await client.openSender(address: "orders")
            for n in 1...3 {
                var message = AMQPMessage(body: .data([Array("m\(n)".utf8)]))
                message.properties = .init(messageId: .string("id-\(n)"))
                #expect(try await sender.send(message) == .accepted)
            }
            #expect(try await bus.queues.counts("orders").active == 3)
            let receiver = try await client.openReceiver(address: "orders")
            let first = try #require(try await receiver.receive(timeout: .seconds(5)))
            guard case .data(let sections) = first.message.body else {
                Issue.record("no data body")
                return
            }
            #expect(sections == [Array("m1".utf8)] && first.deliveryTag.count == 16 && !first.settled)
            #expect(first.message.header?.deliveryCount == 0)
            receiver.settle(first, .accepted)
            let deleting = try await client.openReceiver(address: "orders", settled: true)
            var bodies: [String] = []
            while let delivery = try await deleting.receive(timeout: .seconds(2)) {
                if case .data(let parts) = delivery.message.body {
                    bodies.append(String(decoding: parts.joined(), as: UTF8.self))
                }
            }
            // The first receiver's credit (prefetch) took and locked all three: nothing is left for another.
            #expect(bodies.isEmpty)
            for expected in ["m2", "m3"] {
                let next = try #require(try await receiver.receive(timeout: .seconds(5)))
                if case .data(let parts) = next.message.body {
                    #expect(String(decoding: parts.joined(), as: UTF8.self) == expected)
                }
                receiver.settle(next, .accepted)
            }
            // Settlements are applied before their echo; give the last one a moment.
            var active = try await bus.queues.counts("orders").active
            for _ in 0..<50 where active > 0 {
                try await Task.sleep(for: .milliseconds(20))
                active = try await bus.queues.counts("orders").active
            }
            #expect(active == 0)
            await client.close()
        }
    }

    @Test("a second server on a port in use fails with a clear error", arguments: [TestBackend.sqliteFile])
    func portInUse(backend: TestBackend) async throws {
        try await Self.withServer(backend) { bus, port in
            let second = bus.amqpServer(port: port, logger: testLogger)
            let error = await #expect(throws: AMQPServerError.self) { try await second.run() }
            #expect(error?.message.contains("Cannot listen for AMQP on 127.0.0.1:\(port)") == true)
            #expect(error?.message.contains("--amqp-port") == true)
            #expect(await second.waitUntilListening(timeout: .seconds(1)) == nil)
        }
    }
}

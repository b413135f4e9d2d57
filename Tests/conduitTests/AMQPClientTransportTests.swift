import ConduitAMQP
import ConduitBus
import Foundation
import Logging
import Testing

/// The Swift client against `conduit serve` over both of its AMQP transports: TCP and WebSockets on the HTTP port.
@Suite("AMQP client over TCP and WebSockets")
struct AMQPClientTransportTests {
    @Test("messages sent over TCP are received over WebSockets, and the other way round")
    func bothTransports() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-ws-\(UUID())").path
        let server = try await CrashSafetyTests.Server(dataDirectory: directory)
        defer {
            server.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
        _ = try await EndpointEndToEndTests.cli(
            ["bus", "queue", "create", "transports", "--connection-string", server.busConnectionString]
        )
        let amqp = try ConnectionString(parsing: server.amqpConnectionString)
        let credentials = AMQPSASLCredentials.plain(user: amqp.keyName ?? "", password: amqp.key ?? "")
        var logger = Logger(label: "conduit.test.amqp")
        logger.logLevel = .warning
        let tcp = try await AMQPClient.connect(
            host: "127.0.0.1",
            port: try #require(amqp.port),
            credentials: credentials,
            logger: logger
        )
        let websocket = try await AMQPClient.connectWebSocket(
            url: "ws://127.0.0.1:\(server.port)/$servicebus/websocket",
            credentials: credentials,
            hostname: "127.0.0.1",
            logger: logger
        )
        for (from, to, label) in [(tcp, websocket, "tcp→ws"), (websocket, tcp, "ws→tcp")] {
            let sender = try await from.openSender(address: "transports")
            for n in 0..<5 {
                #expect(try await sender.send(AMQPMessage(body: .data([Array("\(label) \(n)".utf8)]))) == .accepted)
            }
            let receiver = try await to.openReceiver(address: "transports")
            var bodies: [String] = []
            while bodies.count < 5, let delivery = try await receiver.receive(timeout: .seconds(10)) {
                if case .data(let sections) = delivery.message.body {
                    bodies.append(String(decoding: sections.joined(), as: UTF8.self))
                }
                receiver.settle(delivery)
            }
            #expect(bodies == (0..<5).map { "\(label) \($0)" })
            try await receiver.close()
            try await sender.close()
        }
        await tcp.close()
        await websocket.close()
    }
}

import ConduitAMQP
import Foundation
import Logging
import Testing

/// The Swift client against RabbitMQ 3.10's AMQP 1.0 plugin (plain AMQP: SASL PLAIN, no CBS), started privately by
/// `.ci/run` (`.ci/rabbitmq.sh`), which sets `CONDUIT_TEST_RABBITMQ_URL` and declares the durable queue
/// `conduit-test`.
@Suite(
    "AMQP client against RabbitMQ",
    .enabled(if: ProcessInfo.processInfo.environment["CONDUIT_TEST_RABBITMQ_URL"] != nil, "RabbitMQ runs in .ci/run")
)
struct AMQPClientRabbitMQTests {
    static var broker: (host: String, port: Int, user: String, password: String)? {
        guard let text = ProcessInfo.processInfo.environment["CONDUIT_TEST_RABBITMQ_URL"], let url = URL(string: text),
            let host = url.host, let port = url.port
        else { return nil }
        return (host, port, url.user ?? "guest", url.password ?? "guest")
    }

    @Test("SASL PLAIN, send 20 durable messages (each accepted), receive them in order and accept each")
    func roundTrip() async throws {
        let broker = try #require(Self.broker)
        var logger = Logger(label: "conduit.test.rabbitmq")
        logger.logLevel = .warning
        let client = try await AMQPClient.connect(
            host: broker.host,
            port: broker.port,
            credentials: .plain(user: broker.user, password: broker.password),
            logger: logger
        )
        let address = "/amq/queue/conduit-test"
        // Whatever an earlier run left.
        let drain = try await client.openReceiver(address: address, settled: true)
        while try await drain.receive(timeout: .milliseconds(300)) != nil {}
        try await drain.close()
        let sender = try await client.openSender(address: address)
        let run = UUID().uuidString
        for n in 0..<20 {
            var message = AMQPMessage(body: .data([Array("\(run) \(n)".utf8)]))
            message.header = AMQPMessage.Header(durable: true)
            message.properties = .init(messageId: .string("\(run)-\(n)"))
            #expect(try await sender.send(message) == .accepted)
        }
        let receiver = try await client.openReceiver(address: address)
        var bodies: [String] = []
        while bodies.count < 20, let delivery = try await receiver.receive(timeout: .seconds(10)) {
            if case .data(let sections) = delivery.message.body {
                bodies.append(String(decoding: sections.joined(), as: UTF8.self))
            }
            receiver.settle(delivery, .accepted)
        }
        #expect(bodies == (0..<20).map { "\(run) \($0)" })
        // A queue that does not exist is refused with RabbitMQ's reason.
        await #expect(throws: AMQPError.self) {
            _ = try await client.openReceiver(address: "/amq/queue/conduit-missing-\(run)")
        }
        await client.close()
    }
}

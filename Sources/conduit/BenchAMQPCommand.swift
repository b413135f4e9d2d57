import ArgumentParser
import ConduitAMQP
import ConduitBus
import ConduitServer
import ConduitStore
import Foundation
import Logging
import NIOCore
import Synchronization

extension BenchCommand {
    /// `conduit bench amqp`: a durable queue over AMQP 1.0, Conduit against RabbitMQ, driven by the same client.
    struct AMQP: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Messages per second and send-to-receive latency through a durable queue over AMQP 1.0.",
            discussion: """
                Starts a private Conduit (a temporary SQLite database, or --database) with a queue, and drives it with \
                Conduit's AMQP client: senders send --size-byte messages one after another, each waiting for the \
                broker's 'accepted' (stored); receivers take them peek-lock and accept each. First --pairs 1:1 \
                (one sender, one receiver), then 8:8, for --seconds each. With --rabbitmq amqp://user:password@host:port \
                the same runs go to that RabbitMQ's AMQP 1.0 plugin (a durable queue named by --rabbitmq-address, \
                declared beforehand: `bash .ci/rabbitmq.sh declare-queue conduit-bench`). Reports messages/s received, \
                send-to-receive latency p50/p99/max, and checks that every accepted message arrived exactly once.
                """
        )

        @Option(help: "Seconds each run sends for.") var seconds = 10
        @Option(help: "Body size in bytes.") var size = 1_024
        @Option(help: "Sender:receiver pairs to run, e.g. 1:1,8:8.") var pairs = "1:1,8:8"
        @Option(help: "amqp://user:password@host:port of a RabbitMQ with the AMQP 1.0 plugin to compare with.")
        var rabbitmq: String?
        @Option(help: "The RabbitMQ address of the durable queue (declared beforehand).")
        var rabbitmqAddress = "/amq/queue/conduit-bench"
        @Option(help: "postgres://… (an empty database) to measure PostgreSQL instead of SQLite.") var database: String?
        @Option(
            help: """
                amqp://KeyName:key@host:port of a Conduit started separately (its queue conduit-bench created \
                beforehand) instead of a private one in this process.
                """
        )
        var conduit: String?
        @Option(help: "Write the results as JSON to this file.") var json: String?

        var parsedPairs: [(senders: Int, receivers: Int)] {
            pairs.split(separator: ",").compactMap { pair in
                let parts = pair.split(separator: ":").compactMap { Int($0) }
                guard parts.count == 2, parts[0] > 0, parts[1] > 0 else { return nil }
                return (parts[0], parts[1])
            }
        }

        func validate() throws {
            guard seconds > 0, size >= 0 else { throw ValidationError("--seconds must be positive, --size 0 or more.") }
            guard !parsedPairs.isEmpty, parsedPairs.count == pairs.split(separator: ",").count else {
                throw ValidationError("--pairs takes SENDERS:RECEIVERS pairs separated by commas, e.g. 1:1,8:8.")
            }
            if let rabbitmq { _ = try Broker.amqp(url: rabbitmq, address: rabbitmqAddress, name: "RabbitMQ") }
            if let conduit { _ = try Broker.amqp(url: conduit, address: "conduit-bench", name: "Conduit") }
        }

        /// Where a run connects.
        struct Broker: Sendable {
            var name: String
            var host: String
            var port: Int
            var credentials: AMQPSASLCredentials
            var address: String

            /// A broker at `amqp://user:password@host:port` (`name` also names the option in errors).
            static func amqp(url: String, address: String, name: String) throws -> Broker {
                guard let parsed = URL(string: url), parsed.scheme == "amqp", let host = parsed.host else {
                    throw ValidationError(
                        "--\(name.lowercased()) must be amqp://user:password@host:port, not '\(url)'."
                    )
                }
                return Broker(
                    name: name,
                    host: host,
                    port: parsed.port ?? 5672,
                    credentials: .plain(
                        user: parsed.user(percentEncoded: false) ?? "guest",
                        password: parsed.password(percentEncoded: false) ?? "guest"
                    ),
                    address: address
                )
            }
        }

        func run() async throws {
            let options = self
            try await BenchCommand.withSetup(database: database) { setup in
                var results: [AMQPBenchResult] = []
                try await BenchCommand.withServer(setup, jobs: nil, amqp: true) { info, store in
                    let bus = BusNamespace(store: store)
                    let root = try await bus.ensureRootRule()
                    try await bus.queues.createQueue(QueueDescription(name: "conduit-bench"), now: 0)
                    guard let port = info.amqpPort else { throw CommandFailure("the private server serves no AMQP") }
                    let conduit = Broker(
                        name: "Conduit (\(setup.backendName))",
                        host: "127.0.0.1",
                        port: port,
                        credentials: .plain(user: root.keyName, password: root.primaryKey),
                        address: "conduit-bench"
                    )
                    var brokers = [conduit]
                    if let url = options.conduit {
                        brokers = [try Broker.amqp(url: url, address: "conduit-bench", name: "Conduit (separate)")]
                    }
                    if let url = options.rabbitmq {
                        brokers.append(try Broker.amqp(url: url, address: options.rabbitmqAddress, name: "RabbitMQ"))
                    }
                    for (senders, receivers) in options.parsedPairs {
                        for broker in brokers {
                            let result = try await options.measure(
                                broker,
                                senders: senders,
                                receivers: receivers,
                                logger: setup.logger
                            )
                            print(result.line)
                            results.append(result)
                        }
                    }
                }
                if let json {
                    try BenchCommand.write(json: ["amqp": results.map(\.object)], to: json)
                }
            }
        }

        /// One run: `senders` senders for `seconds`, `receivers` receivers until every accepted message arrived (or
        /// 10 s without one).
        func measure(_ broker: Broker, senders: Int, receivers: Int, logger: Logger) async throws -> AMQPBenchResult {
            let shared = AMQPBenchShared()
            let body = Array(repeating: UInt8(ascii: "x"), count: size)
            let start = ContinuousClock.now
            let deadline = start + .seconds(seconds)
            let connect: @Sendable () async throws -> AMQPClient = {
                try await AMQPClient.connect(
                    host: broker.host,
                    port: broker.port,
                    credentials: broker.credentials,
                    hostname: broker.host,
                    logger: logger
                )
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for receiverIndex in 0..<receivers {
                    group.addTask {
                        let client = try await connect()
                        try await withTaskExecutorPreference(client.taskExecutor) {
                            let receiver = try await client.openReceiver(address: broker.address)
                            var idleSince = ContinuousClock.now
                            while true {
                                if let delivery = try await receiver.receive(timeout: .milliseconds(200)) {
                                    let now = NIODeadline.now().uptimeNanoseconds
                                    receiver.settle(delivery, .accepted)
                                    idleSince = ContinuousClock.now
                                    guard case .long(let id)? = delivery.message.applicationProperty("bench-id"),
                                        case .long(let sentAt)? = delivery.message.applicationProperty("sent-at")
                                    else { continue }
                                    shared.tally.withLock {
                                        $0.received(id: id, latency: Double(Int64(now) - sentAt) / 1e6)
                                    }
                                    continue
                                }
                                // Done once sending is over and every accepted message came, or nothing came for 10 s.
                                let complete = shared.tally.withLock { $0.receivedIds.count >= $0.accepted }
                                if shared.sendingDone.load(ordering: .acquiring),
                                    complete || ContinuousClock.now - idleSince > .seconds(10)
                                {
                                    break
                                }
                            }
                            _ = receiverIndex
                        }
                        await client.close()
                    }
                }
                group.addTask {
                    try await withThrowingTaskGroup(of: Void.self) { sending in
                        for sender in 0..<senders {
                            sending.addTask {
                                let client = try await connect()
                                try await withTaskExecutorPreference(client.taskExecutor) {
                                    let link = try await client.openSender(address: broker.address)
                                    var n: Int64 = 0
                                    while ContinuousClock.now < deadline {
                                        let id = Int64(sender) << 40 | n
                                        n += 1
                                        var message = AMQPMessage(body: .data([body]))
                                        message.header = AMQPMessage.Header(durable: true)
                                        message.applicationProperties = [
                                            AMQPMapEntry(.string("bench-id"), .long(id)),
                                            AMQPMapEntry(
                                                .string("sent-at"),
                                                .long(Int64(NIODeadline.now().uptimeNanoseconds))
                                            ),
                                        ]
                                        let outcome = try await link.send(message)
                                        shared.tally.withLock {
                                            outcome == .accepted ? $0.accepted += 1 : ($0.refused += 1)
                                        }
                                    }
                                }
                                await client.close()
                            }
                        }
                        try await sending.waitForAll()
                    }
                    shared.tally.withLock { $0.sendSeconds = (ContinuousClock.now - start).milliseconds / 1000 }
                    shared.sendingDone.store(true, ordering: .releasing)
                }
                try await group.waitForAll()
            }
            let final = shared.tally.withLock { $0 }
            return AMQPBenchResult(
                broker: broker.name,
                senders: senders,
                receivers: receivers,
                size: size,
                tally: final,
                seconds: (ContinuousClock.now - start).milliseconds / 1000
            )
        }
    }
}

/// What a run's tasks share.
final class AMQPBenchShared: Sendable {
    let tally = Mutex(AMQPBenchTally())
    let sendingDone = Atomic(false)
}

/// What one run counted.
struct AMQPBenchTally: Sendable {
    var accepted = 0
    var refused = 0
    var receivedIds: Set<Int64> = []
    var duplicates = 0
    var latencies: [Double] = []
    var firstReceive: ContinuousClock.Instant?
    var lastReceive: ContinuousClock.Instant?
    var sendSeconds = 0.0

    mutating func received(id: Int64, latency: Double) {
        if !receivedIds.insert(id).inserted { duplicates += 1 }
        latencies.append(latency)
        let now = ContinuousClock.now
        if firstReceive == nil { firstReceive = now }
        lastReceive = now
    }
}

/// One run's figures.
struct AMQPBenchResult: Sendable {
    var broker: String
    var senders: Int
    var receivers: Int
    var size: Int
    var tally: AMQPBenchTally
    var seconds: Double

    var sorted: [Double] { tally.latencies.sorted() }
    var receivedPerSecond: Double {
        guard let first = tally.firstReceive, let last = tally.lastReceive, last > first else { return 0 }
        return Double(tally.receivedIds.count) / ((last - first).milliseconds / 1000)
    }
    var lost: Int { max(0, tally.accepted - tally.receivedIds.count) }

    var line: String {
        let latencies = sorted
        return String(
            format:
                "%@ %d:%d, %d B: %.0f msg/s received, %.0f sent/s; latency p50 %.2f ms, p99 %.2f ms, max %.2f ms; %d accepted, %d received, %d lost, %d duplicates",
            broker,
            senders,
            receivers,
            size,
            receivedPerSecond,
            Double(tally.accepted) / max(tally.sendSeconds, 0.001),
            latencies.percentile(0.5),
            latencies.percentile(0.99),
            latencies.last ?? 0,
            tally.accepted,
            tally.receivedIds.count,
            lost,
            tally.duplicates
        )
    }

    var object: [String: Any] {
        let latencies = sorted
        return [
            "broker": broker, "senders": senders, "receivers": receivers, "size": size,
            "receivedPerSecond": receivedPerSecond, "accepted": tally.accepted, "received": tally.receivedIds.count,
            "lost": lost, "duplicates": tally.duplicates, "p50Milliseconds": latencies.percentile(0.5),
            "p99Milliseconds": latencies.percentile(0.99), "maxMilliseconds": latencies.last ?? 0,
        ]
    }
}

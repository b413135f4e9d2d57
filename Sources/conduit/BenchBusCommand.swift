import ArgumentParser
import AsyncHTTPClient
import ConduitBus
import ConduitServer
import ConduitStore
import Foundation
import NIOCore
import Synchronization

extension BenchCommand {
    /// `conduit bench bus`: send and receive throughput of the embedded bus's Service Bus REST data plane.
    struct Bus: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Messages per second through a queue of the embedded bus over Service Bus REST, sent and received at once.",
            discussion: """
                Starts a private server (a temporary SQLite database, or --database) and creates a queue. --senders \
                senders POST --messages single messages of --size bytes (POST <queue>/messages, SAS-signed, each \
                body starting with its sequence id) while --receivers receivers drain the queue at the same time: \
                peek-lock (POST <queue>/messages/head, then DELETE the Location to complete) or receive-and-delete \
                (DELETE <queue>/messages/head), with long polls. Reports sends/s (all sends over the time to the last \
                one's 201), receives/s (received and completed, over the time from the first to the last), \
                end-to-end messages/s (all messages over the time from the first send to the last completion), the \
                send latency, and checks that every message arrived exactly once (and whole).
                """
        )

        enum Mode: String, ExpressibleByArgument, CaseIterable, Sendable {
            case peeklock, receivedelete
        }

        @Option(help: "How many messages to send.") var messages = 20_000
        @Option(help: "Concurrent senders.") var senders = 8
        @Option(help: "Concurrent receivers.") var receivers = 8
        @Option(help: "Body size in bytes (16 or more).") var size = 1_024
        @Option(help: "peeklock (receive, then complete) or receivedelete.") var mode = Mode.peeklock
        @Option(help: "Seconds without a message, after the last send, before the rest count as lost.") var grace = 5
        @Option(help: "postgres://… (an empty database) to measure PostgreSQL instead of SQLite.") var database: String?
        @Option(help: "Write the results as JSON to this file.") var json: String?

        static let queue = "benchbus"
        /// Starts each body; nine digits of the sequence id and a `;` follow, then padding.
        static let marker = Array("seq:".utf8)

        func validate() throws {
            guard messages > 0, senders > 0, receivers > 0, grace >= 0 else {
                throw ValidationError("--messages, --senders and --receivers must be positive, --grace 0 or more.")
            }
            guard size >= 16 else { throw ValidationError("--size must be 16 bytes or more (the sequence id).") }
        }

        func run() async throws {
            let options = self
            try await BenchCommand.withSetup(database: database) { setup in
                let result = try await BenchCommand.withServer(setup, jobs: nil) { info, store in
                    try await options.measure(info: info, store: store)
                }
                print(result.table(backend: setup.backendName))
                if let json { try result.write(json: json, backend: setup.backendName) }
            }
        }

        func measure(info: ServerReady, store: Store) async throws -> BusBenchResult {
            try await BusNamespace(store: store).queues.createQueue(
                QueueDescription(name: Self.queue),
                now: Int64(Date().timeIntervalSince1970 * 1000)
            )
            return try await BenchCommand.withHTTPClient(connections: senders + receivers) { client in
                let bus = try BenchQueueClient(info: info, queue: Self.queue, client: client)
                // Warm up (connections, statements): one message through, not counted.
                try await bus.send(body(0))
                guard let warm = try await bus.receive(lock: mode == .peeklock, timeout: 10) else {
                    throw CommandFailure("the warm-up message did not come back from the queue")
                }
                if let location = warm.location { try await bus.complete(location) }
                return try await drive(bus)
            }
        }

        /// Sends and receives at once; the results once every message came or none came for --grace seconds.
        func drive(_ bus: BenchQueueClient) async throws -> BusBenchResult {
            let receipts = Receipts()
            let (messages, senders, grace, lock, size) = (
                self.messages, self.senders, self.grace, mode == .peeklock, size
            )
            return try await withThrowingTaskGroup(of: Void.self) { group in
                let start = ContinuousClock.now
                for _ in 0..<receivers {
                    group.addTask { try await Self.receive(bus, lock: lock, size: size, into: receipts) }
                }
                let counter = RequestCounter(total: messages)
                let sendLatencies = try await withThrowingTaskGroup(of: [Double].self) { tasks in
                    for _ in 0..<senders {
                        tasks.addTask {
                            var latencies: [Double] = []
                            while let index = counter.next() {
                                let body = body(index)
                                let begin = ContinuousClock.now
                                try await bus.send(body)
                                latencies.append((ContinuousClock.now - begin).milliseconds)
                            }
                            return latencies
                        }
                    }
                    var all: [Double] = []
                    for try await part in tasks { all += part }
                    return all
                }
                let sent = ContinuousClock.now - start
                // Drain: until every message came, or none came for --grace seconds.
                var seen = (count: receipts.count, at: ContinuousClock.now)
                while seen.count < messages, ContinuousClock.now - seen.at < .seconds(grace) {
                    try await Task.sleep(for: .milliseconds(5))
                    let count = receipts.count
                    if count != seen.count { seen = (count, .now) }
                }
                // A moment more, for duplicates.
                try await Task.sleep(for: .milliseconds(500))
                group.cancelAll()
                try await group.waitForAll()
                let instants = receipts.first.values
                let first = instants.min() ?? start
                let last = instants.max() ?? start
                return BusBenchResult(
                    messages: messages,
                    senders: senders,
                    receivers: receivers,
                    size: size,
                    mode: mode,
                    grace: grace,
                    sendSeconds: sent.milliseconds / 1000,
                    receiveSeconds: (last - first).milliseconds / 1000,
                    totalSeconds: (last - start).milliseconds / 1000,
                    received: receipts.count,
                    lost: messages - receipts.count,
                    duplicates: receipts.duplicates,
                    malformed: receipts.unrecognized,
                    sendLatencies: sendLatencies.sorted()
                )
            }
        }

        /// Takes messages off the queue (completing each when locked) and notes them by sequence id; until cancelled.
        static func receive(_ bus: BenchQueueClient, lock: Bool, size: Int, into receipts: Receipts) async throws {
            while !Task.isCancelled {
                do {
                    guard let message = try await bus.receive(lock: lock, timeout: 5) else { continue }
                    if let location = message.location { try await bus.complete(location) }
                    let whole = message.body.readableBytes == size
                    receipts.note(whole ? message.body.number(after: marker) : nil, .now)
                } catch {
                    if Task.isCancelled { return }
                    throw error
                }
            }
        }

        /// `seq:000000042;xxxx…` of --size bytes.
        func body(_ index: Int) -> ByteBuffer {
            let digits = String(index)
            var buffer = ByteBuffer(
                string: "seq:" + String(repeating: "0", count: max(0, 9 - digits.count)) + digits + ";"
            )
            buffer.writeRepeatingByte(UInt8(ascii: "x"), count: max(0, size - buffer.readableBytes))
            return buffer
        }
    }
}

struct BusBenchResult {
    var messages: Int
    var senders: Int
    var receivers: Int
    var size: Int
    var mode: BenchCommand.Bus.Mode
    var grace: Int
    /// From the start to the last send's answer.
    var sendSeconds: Double
    /// From the first message received to the last.
    var receiveSeconds: Double
    /// From the start to the last message received.
    var totalSeconds: Double
    var received: Int
    var lost: Int
    var duplicates: Int
    /// Bodies without a sequence id or of the wrong size.
    var malformed: Int
    /// Ascending, in milliseconds.
    var sendLatencies: [Double]

    var sendsPerSecond: Double { Double(messages) / sendSeconds }
    var receivesPerSecond: Double { receiveSeconds > 0 ? Double(received) / receiveSeconds : 0 }
    var endToEndPerSecond: Double { totalSeconds > 0 ? Double(received) / totalSeconds : 0 }
    var exactlyOnce: Bool { lost == 0 && duplicates == 0 && malformed == 0 }

    func table(backend: String) -> String {
        func rate(_ value: Double) -> String { String(format: "%.0f", value) + " msgs/s" }
        let settle = mode == .peeklock ? "peek-lock + complete" : "receive-and-delete"
        return """
            Bus REST through one queue (\(backend), \(messages) messages of \(size) bytes, \(senders) senders, \(receivers) receivers, \(settle))
              sends:              \(rate(sendsPerSecond)) (all sent in \(String(format: "%.2f", sendSeconds)) s)
              receives:           \(rate(receivesPerSecond)) (\(received) received\(mode == .peeklock ? " and completed" : ""))
              end to end:         \(rate(endToEndPerSecond)) (first send to last receive: \(String(format: "%.2f", totalSeconds)) s)
              send latency p50:   \(String(format: "%.2f", sendLatencies.percentile(0.50))) ms
              send latency p99:   \(String(format: "%.2f", sendLatencies.percentile(0.99))) ms
              exactly once:       \(exactlyOnce ? "yes" : "NO") (\(lost) lost, \(duplicates) duplicates, \(malformed) malformed)
            """
    }

    func write(json path: String, backend: String) throws {
        try BenchCommand.write(
            json: [
                "benchmark": "bus", "backend": backend, "messages": messages, "senders": senders,
                "receivers": receivers, "size": size, "mode": mode.rawValue, "graceSeconds": grace,
                "sendSeconds": sendSeconds, "receiveSeconds": receiveSeconds, "totalSeconds": totalSeconds,
                "sendsPerSecond": sendsPerSecond, "receivesPerSecond": receivesPerSecond,
                "endToEndPerSecond": endToEndPerSecond, "received": received, "lost": lost, "duplicates": duplicates,
                "malformed": malformed, "exactlyOnce": exactlyOnce,
                "sendP50Milliseconds": sendLatencies.percentile(0.5),
                "sendP99Milliseconds": sendLatencies.percentile(0.99),
            ],
            to: path
        )
    }
}

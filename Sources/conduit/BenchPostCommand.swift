import ArgumentParser
import AsyncHTTPClient
import ConduitBus
import ConduitContext
import ConduitPlatform
import ConduitServer
import ConduitStore
import Foundation
import NIOCore
import NIOHTTP1
import SQLKit

extension BenchCommand {
    /// `conduit bench post`: from a Web API update to its execution context in a queue of the embedded bus, at a
    /// fixed offered rate.
    struct Post: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Update-to-message latency: a Web API update until a service endpoint's asynchronous post of it is received from the queue.",
            discussion: """
                Starts a private server with the asynchronous service (a temporary SQLite database, or --database), \
                creates a pool of contacts, registers through the Web API a queue service endpoint on the embedded \
                bus (sb://localhost/, path 'bench', message format --format) and an asynchronous PostOperation step \
                on Update of contact whose handler is that endpoint, and creates the queue. Then it sends \
                PATCH contacts(<id>) setting lastname to a marker unique to each update, offered at --rate per second \
                for --duration seconds from --clients clients (open loop: update n is due at start + n/rate, whatever \
                the earlier ones took), while --receivers receivers take the messages off the queue \
                (DELETE bench/messages/head, receive-and-delete, long polls) and find each update's marker in the \
                posted context. Latency is from the update's 204 (read by the client, after the commit) to its \
                message being received: the system job's claim, serializing the context, the enqueue, the \
                receiver's wake-up and the REST round trip; a message that beats its 204 counts as 0 ms. An update \
                whose message has not come --grace seconds after the last update is lost; a marker received twice is \
                a duplicate. Below, where the time goes: the jobs' createdon (written in the update's transaction) \
                and startedon (claimed), read from the database after the run and matched to the messages by \
                MessageId (the job's id); these columns keep milliseconds only.
                """
        )

        /// The service endpoint's `messageformat`.
        enum Format: String, ExpressibleByArgument, CaseIterable, Sendable {
            case json, xml, binary

            var wireFormat: WireFormat {
                switch self {
                case .binary: .binary
                case .json: .json
                case .xml: .xml
                }
            }

            var messageFormat: Int {
                switch self {
                case .binary: 1
                case .json: 2
                case .xml: 3
                }
            }
        }

        @Option(help: "Updates offered per second.") var rate = 200
        @Option(help: "How long updates are offered, in seconds.") var duration = 30
        @Option(help: "Concurrent Web API clients sending the updates.") var clients = 16
        @Option(help: "The endpoint's message format: json, xml or binary.") var format = Format.json
        @Option(
            help:
                "Concurrent receivers (REST), or AMQP receiver links on the queue or subscription (enough that the listener is not what is measured)."
        )
        var receivers = 16
        @Option(help: "Where the step posts: queue, topic (received from its subscription 'all') or eventhub.")
        var contract = Contract.queue
        @Option(
            help: "How the listener receives: amqp (as the Azure SDKs) or rest (Service Bus REST receive-and-delete)."
        )
        var listener = Listener.amqp
        @Option(help: "Write a plot of each update's latency over the run (SVG) to this file.") var svg: String?
        @Option(help: "Workers of the asynchronous service.") var workers = AsyncServiceConfiguration().workers
        @Option(help: "Seconds to wait for the last messages after the last update.") var grace = 5
        @Option(help: "postgres://… (an empty database) to measure PostgreSQL instead of SQLite.") var database: String?
        @Option(help: "Write the results as JSON to this file.") var json: String?

        /// The entity the step posts to.
        enum Contract: String, ExpressibleByArgument, CaseIterable, Sendable {
            case queue, topic, eventhub

            /// The endpoint's `contract`.
            var value: Int {
                switch self {
                case .queue: 6
                case .topic: 5
                case .eventhub: 7
                }
            }

            /// Where the listener receives.
            var source: String { self == .topic ? "\(Post.queue)/subscriptions/all" : Post.queue }
        }

        enum Listener: String, ExpressibleByArgument, CaseIterable, Sendable { case amqp, rest }

        /// The queue, topic or event hub, and the endpoint's path.
        static let queue = "bench"
        /// Contacts updated round-robin (fewer when the run has fewer updates).
        static let poolSize = 1_000
        /// Starts the marker put in each update's `lastname`; nine digits follow.
        static let marker = Array("bench-u".utf8)

        func validate() throws {
            if contract == .eventhub, format == .binary {
                throw ValidationError("--contract eventhub takes --format json or xml, as in Dataverse.")
            }
            if contract == .eventhub, listener == .rest {
                throw ValidationError("--contract eventhub is read over AMQP: use --listener amqp.")
            }
            guard rate > 0, duration > 0, clients > 0, receivers > 0, workers > 0, grace >= 0 else {
                throw ValidationError(
                    "--rate, --duration, --clients, --receivers and --workers must be positive, --grace 0 or more."
                )
            }
        }

        func run() async throws {
            let options = self
            try await BenchCommand.withSetup(database: database) { setup in
                let result = try await BenchCommand.withServer(
                    setup,
                    jobs: AsyncServiceConfiguration(workers: workers, hostId: "bench"),
                    amqp: listener == .amqp
                ) { info, store in
                    try await options.measure(info: info, store: store)
                }
                print(result.table(backend: setup.backendName))
                if let json { try result.write(json: json, backend: setup.backendName) }
                if let svg {
                    try LatencyPlot(
                        title:
                            "Update → listener latency, \(setup.backendName), \(contract.rawValue), \(format.rawValue), \(rate)/s",
                        points: result.timeline
                    ).svg.write(toFile: svg, atomically: true, encoding: .utf8)
                    print("  plot:                    \(svg)")
                }
            }
        }

        func measure(info: ServerReady, store: Store) async throws -> PostBenchResult {
            let total = rate * duration
            let service = info.platform.organizationService(userId: info.platform.administratorId)
            // The contacts first: there is no step yet, so their creates make no jobs.
            let contacts = try await Self.createContacts(min(total, Self.poolSize), service: service)
            let bus = BusNamespace(store: store)
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            switch contract {
            case .queue:
                try await bus.queues.createQueue(
                    QueueDescription(name: Self.queue, duplicateDetectionWindowSeconds: 600),
                    now: now
                )
            case .topic:
                try await bus.topics.createTopic(
                    TopicDescription(name: Self.queue, duplicateDetectionWindowSeconds: 600),
                    now: now
                )
                try await bus.topics.createSubscription(
                    SubscriptionDescription(topic: Self.queue, name: "all"),
                    now: now
                )
            case .eventhub:
                try await bus.eventHubs.createHub(EventHubDescription(name: Self.queue, partitionCount: 4), now: now)
            }
            let key = try BenchCommand.administratorKey(info)
            let urls = contacts.map { info.webAPIURL + "contacts(\($0))" }
            return try await BenchCommand.withHTTPClient(connections: clients + receivers) { client in
                try await Self.register(
                    WebAPIClient(root: info.webAPIURL, key: key, client: client),
                    info: info,
                    format,
                    contract: contract
                )
                let source = try await BenchListener.make(
                    listener,
                    contract: contract,
                    info: info,
                    client: client,
                    links: receivers
                )
                defer { Task { await source.close() } }
                return try await drive(
                    client,
                    urls: urls,
                    key: key,
                    source: source,
                    total: total,
                    store: store,
                    service: service
                )
            }
        }

        /// Sends the paced updates while the receivers drain the queue.
        func drive(
            _ client: HTTPClient,
            urls: [String],
            key: String,
            source: BenchListener,
            total: Int,
            store: Store,
            service: OrganizationService
        ) async throws -> PostBenchResult {
            let receipts = Receipts()
            let messageIds = Noted<Int, Guid>()
            let responses = Instants<Int>()
            let (clients, rate, grace) = (self.clients, self.rate, self.grace)
            return try await withThrowingTaskGroup(of: Void.self) { group in
                for receiver in source.receivers {
                    group.addTask { try await receiver(receipts, messageIds) }
                }
                try await Self.warmUp(client, url: urls[0], key: key, receipts: receipts, service: service)
                // The warm-up's message, without a marker, is not the run's.
                let warmUps = receipts.unrecognized
                let start = ContinuousClock.now
                let interval = Duration.seconds(1) / rate
                let requestLatencies = try await withThrowingTaskGroup(of: [Double].self) { lanes in
                    for lane in 0..<clients {
                        lanes.addTask {
                            var latencies: [Double] = []
                            var index = lane
                            while index < total {
                                try await Task.sleep(until: start + interval * index, clock: .continuous)
                                let begin = ContinuousClock.now
                                let status = try await BenchCommand.send(
                                    client,
                                    .PATCH,
                                    url: urls[index % urls.count],
                                    key: key,
                                    json: #"{"lastname":"\#(Self.markerText(index))"}"#
                                )
                                let end = ContinuousClock.now
                                guard status == 204 else {
                                    throw CommandFailure("update \(index) answered HTTP \(status)")
                                }
                                responses.note(index, end)
                                latencies.append((end - begin).milliseconds)
                                index += clients
                            }
                            return latencies
                        }
                    }
                    var all: [Double] = []
                    for try await part in lanes { all += part }
                    return all
                }
                let sent = ContinuousClock.now - start
                // The last messages; then a moment more, for duplicates.
                let deadline = ContinuousClock.now + .seconds(grace)
                while receipts.count < total, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(5))
                }
                try await Task.sleep(for: .milliseconds(500))
                group.cancelAll()
                try await group.waitForAll()

                let received = receipts.first
                let answered = responses.all
                var latencies: [Double] = []
                var early = 0
                for (index, committed) in answered {
                    guard let at = received[index] else { continue }
                    let latency = (at - committed).milliseconds
                    if latency < 0 { early += 1 }
                    latencies.append(max(latency, 0))
                }
                let breakdown = try await Self.breakdown(
                    store: store,
                    answered: answered,
                    received: received,
                    messageIds: messageIds.all
                )
                let timeline = answered.compactMap { index, committed -> (Double, Double)? in
                    guard let at = received[index] else { return nil }
                    return ((committed - start).milliseconds / 1000, max((at - committed).milliseconds, 0))
                }
                return PostBenchResult(
                    contract: contract,
                    listener: listener,
                    timeline: timeline,
                    format: format,
                    offeredRate: rate,
                    duration: duration,
                    clients: clients,
                    receivers: receivers,
                    workers: workers,
                    grace: grace,
                    updates: total,
                    sendSeconds: sent.milliseconds / 1000,
                    received: received.count,
                    lost: answered.keys.filter { received[$0] == nil }.count,
                    duplicates: receipts.duplicates,
                    unrecognized: receipts.unrecognized - warmUps,
                    early: early,
                    latencies: latencies.sorted(),
                    requestLatencies: requestLatencies.sorted(),
                    breakdown: breakdown
                )
            }
        }

        /// Where the time goes, from the system jobs' `createdon` (written in the update's transaction) and
        /// `startedon` (claimed), matched to the messages by `MessageId`. The bench's instants are put on the
        /// jobs' clock (.NET ticks, UTC) through one reading of both clocks; the jobs' columns keep whole
        /// milliseconds, so each is read as the middle of its millisecond.
        static func breakdown(
            store: Store,
            answered: [Int: ContinuousClock.Instant],
            received: [Int: ContinuousClock.Instant],
            messageIds: [Int: Guid]
        ) async throws -> PostBenchResult.Breakdown {
            let epoch = DotNetDateTime(unixMilliseconds: 0, kind: .utc)!.ticks
            let anchor = (instant: ContinuousClock.now, ticks: epoch + Int64(Date().timeIntervalSince1970 * 10_000_000))
            func ticks(_ instant: ContinuousClock.Instant) -> Int64 {
                anchor.ticks - Int64((anchor.instant - instant).milliseconds * 10_000)
            }
            let rows = try await store.withDatabase { db in
                try await db.raw("SELECT asyncoperationid, createdon, startedon FROM asyncoperation").all()
            }
            var jobs: [Guid: (created: Int64, started: Int64)] = [:]
            for row in rows {
                guard let id = Guid(try row.decode(column: "asyncoperationid", as: String.self)),
                    let created = try row.decode(column: "createdon", as: Int64?.self),
                    let started = try row.decode(column: "startedon", as: Int64?.self)
                else { continue }
                jobs[id] = (created + 5_000, started + 5_000)
            }
            var breakdown = PostBenchResult.Breakdown()
            for (index, id) in messageIds {
                guard let job = jobs[id], let answer = answered[index], let receipt = received[index] else { continue }
                breakdown.writtenToAnswered.append(Double(ticks(answer) - job.created) / 10_000)
                breakdown.writtenToClaimed.append(Double(job.started - job.created) / 10_000)
                breakdown.claimedToReceived.append(Double(ticks(receipt) - job.started) / 10_000)
                breakdown.writtenToReceived.append(Double(ticks(receipt) - job.created) / 10_000)
            }
            breakdown.writtenToAnswered.sort()
            breakdown.writtenToClaimed.sort()
            breakdown.claimedToReceived.sort()
            breakdown.writtenToReceived.sort()
            return breakdown
        }

        /// `bench-u000000042` for update 42.
        static func markerText(_ index: Int) -> String {
            let digits = String(index)
            return String(decoding: marker, as: UTF8.self) + String(repeating: "0", count: max(0, 9 - digits.count))
                + digits
        }

        static func createContacts(_ count: Int, service: OrganizationService) async throws -> [Guid] {
            let counter = RequestCounter(total: count)
            return try await withThrowingTaskGroup(of: [Guid].self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        var ids: [Guid] = []
                        while let index = counter.next() {
                            ids.append(
                                try await service.create(
                                    Entity(
                                        logicalName: "contact",
                                        attributes: [
                                            ("firstname", .string("Bench")), ("lastname", .string("Post \(index)")),
                                        ]
                                    )
                                )
                            )
                        }
                        return ids
                    }
                }
                var all: [Guid] = []
                for try await part in group { all += part }
                return all
            }
        }

        /// Registers, through the Web API, the queue endpoint (signed with the namespace's root rule) and the
        /// asynchronous step on Update of contact that posts to it.
        static func register(
            _ api: WebAPIClient,
            info: ServerReady,
            _ format: Format,
            contract: Contract = .queue
        ) async throws {
            let connection = try ConnectionString(parsing: info.busConnectionString)
            try await api.send(
                .POST,
                "serviceendpoints",
                body: [
                    "name": "bench", "contract": contract.value, "authtype": 2, "messageformat": format.messageFormat,
                    "namespaceaddress": "sb://localhost/", "path": queue,
                    "saskeyname": connection.keyName ?? BusNamespace.rootRuleName, "saskey": connection.key ?? "",
                ]
            )
            let rows = try await api.rows("serviceendpoints?$filter=name%20eq%20'bench'&$select=serviceendpointid")
            guard rows.count == 1, let endpoint = rows[0]["serviceendpointid"] as? String else {
                throw CommandFailure("expected one service endpoint named 'bench', found \(rows.count)")
            }
            let filter = Platform.messageFilterId(message: "Update", table: "contact")
            try await api.send(
                .POST,
                "sdkmessageprocessingsteps",
                body: [
                    "name": "Bench: post Update of contact", "stage": 40, "mode": 1, "rank": 1,
                    "sdkmessageid@odata.bind": "/sdkmessages(\(Platform.messageId("Update")))",
                    "sdkmessagefilterid@odata.bind": "/sdkmessagefilters(\(filter))",
                    "eventhandler_serviceendpoint@odata.bind": "/serviceendpoints(\(endpoint))",
                ]
            )
        }

        /// One update and its message, before the clock starts (connections, caches, the first job); a failing
        /// post says why.
        static func warmUp(
            _ client: HTTPClient,
            url: String,
            key: String,
            receipts: Receipts,
            service: OrganizationService
        ) async throws {
            let status = try await BenchCommand.send(client, .PATCH, url: url, key: key, json: #"{"lastname":"Warm"}"#)
            guard status == 204 else { throw CommandFailure("the warm-up update answered HTTP \(status)") }
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                // The warm-up's message has no marker.
                if receipts.unrecognized > 0 { return }
                try await Task.sleep(for: .milliseconds(10))
            }
            let jobs = try await service.retrieveMultiple(
                QueryExpression(entityName: "asyncoperation", columnSet: .columns(["statuscode", "message"]))
            )
            var job = "none"
            if let row = jobs.entities.first {
                let status: String = row.attributes["statuscode"].map { "\($0)" } ?? "?"
                let message: String = row.attributes["message"].map { "\($0)" } ?? "no message"
                job = "status \(status), \(message)"
            }
            throw CommandFailure(
                "the warm-up update's message did not reach the listener within 30 s (its system job: \(job))"
            )
        }
    }
}

struct PostBenchResult {
    var contract: BenchCommand.Post.Contract
    var listener: BenchCommand.Post.Listener
    /// Each received update: when it was answered (seconds into the run) and its latency (ms).
    var timeline: [(Double, Double)]
    var format: BenchCommand.Post.Format
    var offeredRate: Int
    var duration: Int
    var clients: Int
    var receivers: Int
    var workers: Int
    var grace: Int
    var updates: Int
    /// From the first update due to the last one answered.
    var sendSeconds: Double
    var received: Int
    var lost: Int
    var duplicates: Int
    /// Messages without a marker.
    var unrecognized: Int
    /// Messages received before their update's answer (counted as 0 ms).
    var early: Int
    /// Update answered → message received, ascending, in milliseconds.
    var latencies: [Double]
    /// The updates' request latencies, ascending, in milliseconds.
    var requestLatencies: [Double]
    var breakdown: Breakdown

    /// Where the time goes, per update whose job and message were matched; ascending, in milliseconds.
    struct Breakdown {
        /// The job row written (in the update's transaction) → the update's 204 read by the client.
        var writtenToAnswered: [Double] = []
        /// The job row written → the job claimed by a worker.
        var writtenToClaimed: [Double] = []
        /// The job claimed → its message received from the queue.
        var claimedToReceived: [Double] = []
        /// The job row written → its message received: end to end from the commit rather than from the answer.
        var writtenToReceived: [Double] = []
    }

    var achievedRate: Double { Double(updates) / sendSeconds }

    func table(backend: String) -> String {
        func ms(_ value: Double) -> String { String(format: "%.2f", value) + " ms" }
        func split(_ values: [Double]) -> String {
            String(format: "%.2f / %.2f ms", values.percentile(0.50), values.percentile(0.99))
        }
        return """
            Web API update → its context at the listener (\(backend), \(contract.rawValue), \(format.rawValue), \(listener.rawValue) listener, \(clients) clients, \(receivers) receivers, \(workers) workers)
              offered rate:            \(offeredRate) updates/s for \(duration) s (\(updates) updates)
              achieved rate:           \(String(format: "%.1f", achievedRate)) updates/s
              update request p50:      \(ms(requestLatencies.percentile(0.50)))
              update request p99:      \(ms(requestLatencies.percentile(0.99)))
              messages received:       \(received)
              lost:                    \(lost) (no message within \(grace) s of the last update)
              duplicates:              \(duplicates)\(unrecognized > 0 ? " (and \(unrecognized) messages without a marker)" : "")
              update → message p50:    \(ms(latencies.percentile(0.50)))
              update → message p95:    \(ms(latencies.percentile(0.95)))
              update → message p99:    \(ms(latencies.percentile(0.99)))
              update → message max:    \(ms(latencies.last ?? 0))\(early > 0 ? " (\(early) received before their update's answer, counted as 0 ms)" : "")
              where it goes (p50 / p99 from the jobs' createdon and startedon, kept to 1 ms; \(breakdown.writtenToClaimed.count) matched):
                job written → update answered:    \(split(breakdown.writtenToAnswered))
                job written → job claimed:        \(split(breakdown.writtenToClaimed))
                job claimed → message received:   \(split(breakdown.claimedToReceived))
                job written → message received:   \(split(breakdown.writtenToReceived))
            """
    }

    func write(json path: String, backend: String) throws {
        try BenchCommand.write(
            json: [
                "benchmark": "post", "backend": backend, "format": format.rawValue, "offeredPerSecond": offeredRate,
                "contract": contract.rawValue, "listener": listener.rawValue,
                "durationSeconds": duration, "clients": clients, "receivers": receivers, "workers": workers,
                "graceSeconds": grace, "updates": updates, "achievedPerSecond": achievedRate,
                "sendSeconds": sendSeconds,
                "received": received, "lost": lost, "duplicates": duplicates, "unrecognized": unrecognized,
                "receivedBeforeAnswer": early, "p50Milliseconds": latencies.percentile(0.5),
                "p95Milliseconds": latencies.percentile(0.95), "p99Milliseconds": latencies.percentile(0.99),
                "maxMilliseconds": latencies.last ?? 0, "requestP50Milliseconds": requestLatencies.percentile(0.5),
                "requestP99Milliseconds": requestLatencies.percentile(0.99),
                "writtenToAnsweredP50Milliseconds": breakdown.writtenToAnswered.percentile(0.5),
                "writtenToAnsweredP99Milliseconds": breakdown.writtenToAnswered.percentile(0.99),
                "writtenToClaimedP50Milliseconds": breakdown.writtenToClaimed.percentile(0.5),
                "writtenToClaimedP99Milliseconds": breakdown.writtenToClaimed.percentile(0.99),
                "claimedToReceivedP50Milliseconds": breakdown.claimedToReceived.percentile(0.5),
                "claimedToReceivedP99Milliseconds": breakdown.claimedToReceived.percentile(0.99),
                "writtenToReceivedP50Milliseconds": breakdown.writtenToReceived.percentile(0.5),
                "writtenToReceivedP99Milliseconds": breakdown.writtenToReceived.percentile(0.99),
            ],
            to: path
        )
    }
}

import ArgumentParser
import AsyncHTTPClient
import ConduitAtom
import ConduitBus
import Foundation
import NIOHTTP1

/// `conduit bus`: entities of a namespace (the embedded bus or Azure) through the management and REST APIs.
struct BusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bus",
        abstract:
            "Create, list, inspect and delete queues, topics, subscriptions, rules, event hubs and relays; peek and resubmit dead letters.",
        discussion: """
            Uses the Service Bus management API (ATOM) and REST data plane of the namespace in --connection-string \
            (default: CONDUIT_CONNECTION_STRING, or ./conduit-data/bus.connection as 'conduit serve' writes it). \
            The key needs the Manage right (RootManageSharedAccessKey has it).

            Examples:
              conduit bus queue create contacts --max-delivery-count 5
              conduit bus topic create changes
              conduit bus relay create approvals
              conduit bus subscription create changes contacts --sql "\\"http://schemas.microsoft.com/xrm/2011/Claims/EntityLogicalName\\" = 'contact'"
              conduit bus list
              conduit bus deadletter peek contacts
              conduit bus deadletter resubmit contacts
            """,
        subcommands: [
            List.self, Queue.self, Topic.self, Subscription.self, Rule.self, EventHub.self, Relay.self, DeadLetter.self,
        ]
    )

    /// The connection string option every subcommand takes.
    struct Connection: ParsableArguments {
        @Option(name: .customLong("connection-string"), help: "The namespace's connection string.")
        var connectionString: String?

        @Option(help: ArgumentHelp(CommandHTTPClient.caHelp))
        var ca: String? = ProcessInfo.processInfo.environment["CONDUIT_CA"]

        func resolved() throws -> String {
            if let connectionString, !connectionString.isEmpty { return connectionString }
            if let text = ProcessInfo.processInfo.environment["CONDUIT_CONNECTION_STRING"], !text.isEmpty {
                return text
            }
            if let text = try? String(contentsOfFile: "./conduit-data/bus.connection", encoding: .utf8) {
                return text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            throw CommandFailure(
                "give --connection-string (or set CONDUIT_CONNECTION_STRING, or run where ./conduit-data/bus.connection is)"
            )
        }

        /// Creates an entity with a management `PUT` of its description and prints `message`.
        func create(
            _ description: ManagementEntity,
            at path: String,
            entity: String,
            saying message: String
        ) async throws {
            try await with { bus in
                _ = try await BusCommand.manage(
                    bus,
                    .PUT,
                    "/\(path)",
                    entity: entity,
                    body: BusCommand.encoder.requestBody(description)
                )
                print(message)
            }
        }

        func with<T>(_ body: (BusRESTClient) async throws -> T) async throws -> T {
            let client = try CommandHTTPClient.make(caFile: ca)
            do {
                let value = try await body(try BusRESTClient(connectionString: try resolved(), client: client))
                try await client.shutdown()
                return value
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
    }

    static let encoder = ManagementEncoder(baseURL: "http://localhost", namespaceName: "localhost")

    /// Sends a management request; a non-2xx answer throws the server's detail.
    static func manage(
        _ bus: BusRESTClient,
        _ method: HTTPMethod,
        _ path: String,
        entity: String,
        body: String? = nil
    ) async throws -> String {
        let headers = body == nil ? [] : [("Content-Type", ManagementContentType.request)]
        let answer = try await bus.call(
            method,
            path + "?api-version=2021-05",
            entity: entity,
            body: body,
            headers: headers
        )
        guard (200..<300).contains(answer.status) else {
            let detail = answer.body.range(of: "<Detail>").flatMap { start in
                answer.body.range(of: "</Detail>").map { String(answer.body[start.upperBound..<$0.lowerBound]) }
            }
            throw CommandFailure("\(method) \(path): \(answer.status) \(detail ?? answer.body.prefix(300).description)")
        }
        return answer.body
    }

    /// The names in a feed.
    static func titles(_ feed: String) -> [String] {
        feed.components(separatedBy: "<entry").dropFirst().compactMap { entry in
            guard let start = entry.range(of: "<title type=\"text\">"), let end = entry.range(of: "</title>") else {
                return nil
            }
            return String(entry[start.upperBound..<end.lowerBound])
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List queues and topics with their message counts.")
        @OptionGroup var connection: Connection

        func run() async throws {
            try await connection.with { bus in
                var rows: [[String]] = []
                for name in BusCommand.titles(try await BusCommand.manage(bus, .GET, "/$Resources/queues", entity: ""))
                {
                    let queue = try ManagementDecoder().decodeQueue(
                        Array(try await BusCommand.manage(bus, .GET, "/\(name)", entity: name).utf8)
                    )
                    let counts = queue.countDetails
                    rows.append([
                        "queue", name, "\(counts?.activeMessageCount ?? 0)", "\(counts?.scheduledMessageCount ?? 0)",
                        "\(counts?.deadLetterMessageCount ?? 0)",
                    ])
                }
                for name in BusCommand.titles(try await BusCommand.manage(bus, .GET, "/$Resources/topics", entity: ""))
                {
                    rows.append(["topic", name, "", "", ""])
                    let feed = try await BusCommand.manage(bus, .GET, "/\(name)/Subscriptions", entity: name)
                    for subscription in BusCommand.titles(feed) {
                        let path = "\(name)/Subscriptions/\(subscription)"
                        let details = try ManagementDecoder().decodeSubscription(
                            Array(try await BusCommand.manage(bus, .GET, "/\(path)", entity: path).utf8)
                        ).countDetails
                        rows.append([
                            "subscription", "\(name)/subscriptions/\(subscription)",
                            "\(details?.activeMessageCount ?? 0)", "\(details?.scheduledMessageCount ?? 0)",
                            "\(details?.deadLetterMessageCount ?? 0)",
                        ])
                    }
                }
                print(formatTable(["KIND", "NAME", "ACTIVE", "SCHEDULED", "DEAD-LETTERED"], rows))
            }
        }
    }

    struct Queue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create, show or delete a queue.",
            subcommands: [Create.self, Show.self, Delete.self]
        )

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a queue.")
            @OptionGroup var connection: Connection
            @Argument(help: "The queue's name.") var name: String
            @Option(help: "Deliveries before a message is dead-lettered (default 10).") var maxDeliveryCount = 10
            @Option(help: "Seconds a peek-lock holds a message (default 60).") var lockDuration = 60.0
            @Option(help: "Seconds a message lives unless it says otherwise (default: for ever).") var ttl: Double?
            @Option(help: "Seconds of MessageId duplicate detection (default: off).") var duplicateDetection: Double?
            @Flag(help: "Dead-letter expired messages instead of dropping them.") var deadLetterOnExpiry = false
            @Flag(
                help:
                    "Require sessions: every message carries a SessionId, and each receiver takes one session at a time (AMQP)."
            )
            var sessions = false
            @Option(
                name: .customLong("rule"),
                help: ArgumentHelp(
                    "A shared access rule of the queue's own, NAME=RIGHTS with rights Listen, Send and Manage joined by '+' (e.g. reader=Listen); repeatable. Its key is made here and its connection string printed.",
                    valueName: "name=rights"
                )
            )
            var rules: [String] = []

            func validate() throws {
                guard maxDeliveryCount >= 1 else { throw ValidationError("--max-delivery-count must be at least 1.") }
                guard lockDuration > 0 else { throw ValidationError("--lock-duration must be positive.") }
                _ = try parsedRules()
            }

            /// The `--rule` options, each with a new key.
            func parsedRules() throws -> [ConduitAtom.AuthorizationRule] {
                try rules.map { text in
                    let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
                    guard parts.count == 2, !parts[0].isEmpty else {
                        throw ValidationError("--rule takes NAME=RIGHTS (e.g. reader=Listen), not '\(text)'.")
                    }
                    let rights = try parts[1].split(separator: "+").map { word in
                        guard
                            let right = ConduitAtom.AccessRight(
                                rawValue: word.prefix(1).uppercased() + word.dropFirst().lowercased()
                            )
                        else {
                            throw ValidationError("--rule \(parts[0]): '\(word)' is not Listen, Send or Manage.")
                        }
                        return right
                    }
                    guard !rights.isEmpty else { throw ValidationError("--rule \(parts[0]) grants no right.") }
                    return ConduitAtom.AuthorizationRule(
                        keyName: parts[0],
                        rights: rights,
                        primaryKey: Self.randomKey(),
                        secondaryKey: Self.randomKey()
                    )
                }
            }

            static func randomKey() -> String {
                Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            }

            func run() async throws {
                var queue = ConduitAtom.QueueDescription()
                queue.maxDeliveryCount = maxDeliveryCount
                queue.lockDuration = ISO8601Duration(timeInterval: lockDuration)
                if let ttl { queue.defaultMessageTimeToLive = ISO8601Duration(timeInterval: ttl) }
                if let duplicateDetection {
                    queue.requiresDuplicateDetection = true
                    queue.duplicateDetectionHistoryTimeWindow = ISO8601Duration(timeInterval: duplicateDetection)
                }
                queue.deadLetteringOnMessageExpiration = deadLetterOnExpiry
                queue.authorizationRules = try parsedRules()
                queue.requiresSession = sessions
                try await connection.create(.queue(queue), at: name, entity: name, saying: "Created queue \(name).")
                let endpoint = try ConnectionString(parsing: try connection.resolved())
                for rule in queue.authorizationRules {
                    var text = "Endpoint=\(endpoint.endpoint);SharedAccessKeyName=\(rule.keyName)"
                    text += ";SharedAccessKey=\(rule.primaryKey ?? "");EntityPath=\(name)"
                    if endpoint.useDevelopmentEmulator { text += ";UseDevelopmentEmulator=true" }
                    print("Rule \(rule.keyName) (\(rule.rights.map(\.rawValue).joined(separator: ", "))): \(text)")
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show a queue's settings and counts (ATOM XML).")
            @OptionGroup var connection: Connection
            @Argument(help: "The queue's name.") var name: String

            func run() async throws {
                try await connection.with { bus in
                    let body = try await BusCommand.manage(bus, .GET, "/\(name)", entity: name)
                    guard body.contains("<entry") else { throw CommandFailure("no queue or topic is named '\(name)'") }
                    print(body)
                }
            }
        }

        struct Delete: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Delete a queue (or topic) and its messages.")
            @OptionGroup var connection: Connection
            @Argument(help: "The name.") var name: String

            func run() async throws {
                try await connection.with { bus in
                    _ = try await BusCommand.manage(bus, .DELETE, "/\(name)", entity: name)
                    print("Deleted \(name).")
                }
            }
        }
    }

    struct Topic: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or delete a topic.",
            subcommands: [Create.self, Delete.self]
        )

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a topic.")
            @OptionGroup var connection: Connection
            @Argument(help: "The topic's name.") var name: String
            @Option(help: "Seconds of MessageId duplicate detection (default: off).") var duplicateDetection: Double?

            func run() async throws {
                var topic = ConduitAtom.TopicDescription()
                if let duplicateDetection {
                    topic.requiresDuplicateDetection = true
                    topic.duplicateDetectionHistoryTimeWindow = ISO8601Duration(timeInterval: duplicateDetection)
                }
                try await connection.create(.topic(topic), at: name, entity: name, saying: "Created topic \(name).")
            }
        }

        typealias Delete = Queue.Delete
    }

    struct EventHub: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "eventhub",
            abstract: "Create or delete an event hub.",
            subcommands: [Create.self, Delete.self]
        )

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create an event hub.")
            @OptionGroup var connection: Connection
            @Argument(help: "The event hub's name.") var name: String
            @Option(help: "Partitions (default 4).") var partitions = 4
            @Option(help: "Days events are kept (default 1).") var retentionDays = 1

            func validate() throws {
                guard partitions >= 1 else { throw ValidationError("--partitions must be at least 1.") }
                guard retentionDays >= 1 else { throw ValidationError("--retention-days must be at least 1.") }
            }

            func run() async throws {
                var hub = ConduitAtom.EventHubDescription()
                hub.partitionCount = partitions
                hub.messageRetentionInDays = retentionDays
                try await connection.create(
                    .eventHub(hub),
                    at: name,
                    entity: name,
                    saying: "Created event hub \(name) with \(partitions) partitions."
                )
            }
        }

        typealias Delete = Queue.Delete
    }

    struct Relay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "relay",
            abstract: "Create, list or delete a relay hybrid connection (for one-way, two-way and REST endpoints).",
            subcommands: [Create.self, List.self, Delete.self]
        )

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Create a hybrid connection.")
            @OptionGroup var connection: Connection
            @Argument(help: "The hybrid connection's name (the endpoint's path).") var name: String
            @Flag(help: "Let senders post without a SAS token (listeners always need one with Listen).")
            var noClientAuthorization = false
            @Option(help: "Free text kept with it.") var metadata: String?

            func run() async throws {
                var relay = HybridConnectionDescription()
                relay.requiresClientAuthorization = !noClientAuthorization
                relay.userMetadata = metadata
                try await connection.create(
                    .hybridConnection(relay),
                    at: name,
                    entity: name,
                    saying: "Created hybrid connection \(name). Listen with: conduit listen --relay \(name)"
                )
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "List hybrid connections with their listeners."
            )
            @OptionGroup var connection: Connection

            func run() async throws {
                try await connection.with { bus in
                    let feed = try await BusCommand.manage(bus, .GET, "/$Resources/HybridConnections", entity: "")
                    var rows: [[String]] = []
                    for name in BusCommand.titles(feed) {
                        let relay = try ManagementDecoder().decodeHybridConnection(
                            Array(try await BusCommand.manage(bus, .GET, "/\(name)", entity: name).utf8)
                        )
                        rows.append([
                            name, "\(relay.listenerCount)", relay.requiresClientAuthorization ? "yes" : "no",
                            relay.userMetadata ?? "",
                        ])
                    }
                    print(formatTable(["NAME", "LISTENERS", "SENDERS NEED A TOKEN", "METADATA"], rows))
                }
            }
        }

        typealias Delete = Queue.Delete
    }

    struct Subscription: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or delete a topic subscription.",
            subcommands: [Create.self, Delete.self]
        )

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create a subscription, with a SQL filter or a true filter."
            )
            @OptionGroup var connection: Connection
            @Argument(help: "The topic.") var topic: String
            @Argument(help: "The subscription's name.") var name: String
            @Option(help: "A SQL filter for its first rule (default: every message).") var sql: String?
            @Option(help: "Deliveries before a message is dead-lettered (default 10).") var maxDeliveryCount = 10
            @Flag(help: "It requires sessions: messages need a SessionId and are received per session.")
            var sessions = false

            func run() async throws {
                var subscription = ConduitAtom.SubscriptionDescription()
                subscription.maxDeliveryCount = maxDeliveryCount
                subscription.requiresSession = sessions
                if let sql {
                    subscription.defaultRule = RuleDescription(
                        filter: .sql(SqlRuleFilter(sqlExpression: sql)),
                        name: "$Default"
                    )
                }
                let path = "\(topic)/Subscriptions/\(name)"
                try await connection.create(
                    .subscription(subscription),
                    at: path,
                    entity: path,
                    saying: "Created subscription \(name) of \(topic); receive from \(topic)/subscriptions/\(name)."
                )
            }
        }

        struct Delete: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Delete a subscription and its messages.")
            @OptionGroup var connection: Connection
            @Argument(help: "The topic.") var topic: String
            @Argument(help: "The subscription.") var name: String

            func run() async throws {
                let path = "\(topic)/Subscriptions/\(name)"
                try await connection.with { bus in
                    _ = try await BusCommand.manage(bus, .DELETE, "/\(path)", entity: path)
                    print("Deleted subscription \(name) of \(topic).")
                }
            }
        }
    }

    struct Rule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add, list or remove a subscription's rules.",
            subcommands: [Add.self, List.self, Remove.self]
        )

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Add a rule with a SQL filter (and action).")
            @OptionGroup var connection: Connection
            @Argument(help: "The topic.") var topic: String
            @Argument(help: "The subscription.") var subscription: String
            @Argument(help: "The rule's name.") var name: String
            @Option(help: "The SQL filter.") var sql: String
            @Option(help: "A SQL action (SET …; REMOVE …).") var action: String?

            func run() async throws {
                let rule = RuleDescription(
                    filter: .sql(SqlRuleFilter(sqlExpression: sql)),
                    action: action.map { .sql(SqlRuleAction(sqlExpression: $0)) } ?? .empty,
                    name: name
                )
                let path = "\(topic)/Subscriptions/\(subscription)/Rules/\(name)"
                try await connection.with { bus in
                    _ = try await BusCommand.manage(
                        bus,
                        .PUT,
                        "/\(path)",
                        entity: "\(topic)/Subscriptions/\(subscription)",
                        body: BusCommand.encoder.requestBody(.rule(rule))
                    )
                    print("Added rule \(name).")
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List a subscription's rules (ATOM XML).")
            @OptionGroup var connection: Connection
            @Argument(help: "The topic.") var topic: String
            @Argument(help: "The subscription.") var subscription: String

            func run() async throws {
                let path = "\(topic)/Subscriptions/\(subscription)"
                try await connection.with { bus in
                    print(try await BusCommand.manage(bus, .GET, "/\(path)/Rules", entity: path))
                }
            }
        }

        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove a rule.")
            @OptionGroup var connection: Connection
            @Argument(help: "The topic.") var topic: String
            @Argument(help: "The subscription.") var subscription: String
            @Argument(help: "The rule's name.") var name: String

            func run() async throws {
                let path = "\(topic)/Subscriptions/\(subscription)"
                try await connection.with { bus in
                    _ = try await BusCommand.manage(bus, .DELETE, "/\(path)/Rules/\(name)", entity: path)
                    print("Removed rule \(name).")
                }
            }
        }
    }

    struct DeadLetter: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "deadletter",
            abstract: "Peek at or resubmit the dead letters of a queue or subscription.",
            subcommands: [Peek.self, Resubmit.self]
        )

        struct Peek: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Show dead letters with their reasons (they stay dead-lettered)."
            )
            @OptionGroup var connection: Connection
            @Argument(help: "A queue, or <topic>/subscriptions/<name>.") var entity: String
            @Option(help: "At most this many.") var top = 10

            func run() async throws {
                let source = "\(entity)/$DeadLetterQueue"
                try await connection.with { bus in
                    var seen: [BusRESTClient.Received] = []
                    while seen.count < top, let message = try await bus.peekLock(source, wait: 1) {
                        seen.append(message)
                        let reason = message.headers["DeadLetterReason"].first ?? "?"
                        let detail = message.headers["DeadLetterErrorDescription"].first ?? ""
                        print(
                            "seq \(message.sequenceNumber.map(String.init) ?? "?")  id \(message.messageId ?? "?")  \(message.contentType ?? "?")  \(message.body.count) B  reason \(reason) \(detail)"
                        )
                    }
                    // Unlock them all again: peeking changes nothing.
                    for message in seen { try await bus.settle(message, entity: source, complete: false) }
                    if seen.isEmpty { print("No dead letters in \(entity).") }
                }
            }
        }

        struct Resubmit: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Send dead letters back to their queue (or topic), then remove them from the dead letters."
            )
            @OptionGroup var connection: Connection
            @Argument(help: "A queue, or <topic>/subscriptions/<name> (resubmitted to the topic).") var entity: String
            @Option(help: "At most this many.") var top = 1000

            func run() async throws {
                let source = "\(entity)/$DeadLetterQueue"
                let target = entity.components(separatedBy: "/subscriptions/").first ?? entity
                try await connection.with { bus in
                    var count = 0
                    while count < top, let message = try await bus.peekLock(source, wait: 1) {
                        try await bus.resend(message, to: target)
                        try await bus.settle(message, entity: source, complete: true)
                        count += 1
                    }
                    print("Resubmitted \(count) message(s) to \(target).")
                }
            }
        }
    }
}

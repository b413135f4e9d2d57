import ConduitAMQP
import ConduitBus
import ConduitTestSupport
import Foundation
import Testing

/// A subscription's rules over AMQP (`$management` add-rule, remove-rule, enumerate-rules), in the encoding of the
/// .NET and Java SDKs' rule managers.
@Suite("bus AMQP rule operations")
struct BusAMQPRuleTests {
    static func request(
        _ management: AMQPClientRequester,
        _ operation: String,
        _ body: [AMQPMapEntry]
    ) async throws -> (status: Int32, condition: String?, body: AMQPMessage.Body) {
        let answer = try await management.request(
            AMQPMessage(
                applicationProperties: [
                    AMQPMapEntry(.string("operation"), .string(operation)),
                    AMQPMapEntry(.string("com.microsoft:server-timeout"), .uint(60_000)),
                ],
                body: .value(.map(body))
            ),
            timeout: .seconds(10)
        )
        guard case .int(let status)? = answer.applicationProperty("statusCode") else {
            Issue.record("no statusCode in \(answer)")
            return (0, nil, answer.body)
        }
        var condition: String?
        if case .symbol(let symbol)? = answer.applicationProperty("errorCondition") { condition = symbol }
        return (status, condition, answer.body)
    }

    static func add(_ name: String, _ description: [AMQPMapEntry]) -> [AMQPMapEntry] {
        [
            AMQPMapEntry(.string("rule-name"), .string(name)),
            AMQPMapEntry(
                .string("rule-description"),
                .map(description + [AMQPMapEntry(.string("rule-name"), .string(name))])
            ),
        ]
    }

    @Test(
        "add, list (paged, with the SDKs' descriptors), route by, and remove rules; refusals carry the SDKs' conditions"
    )
    func rules() async throws {
        try await BusAMQPServerTests.withServer(.sqliteMemory) { bus, port in
            let root = try await bus.ensureRootRule()
            try await bus.topics.createTopic(TopicDescription(name: "changes"), now: 0)
            try await bus.topics.createSubscription(SubscriptionDescription(topic: "changes", name: "picked"), now: 0)
            try await bus.queues.createQueue(QueueDescription(name: "plain"), now: 0)
            let client = try await AMQPClient.connect(
                host: "127.0.0.1",
                port: port,
                credentials: .plain(user: root.keyName, password: root.primaryKey),
                logger: testLogger
            )
            let management = try await client.openRequester(node: "changes/Subscriptions/picked/$management")
            let sql = Self.add(
                "accounts",
                [
                    AMQPMapEntry(
                        .string("sql-filter"),
                        .map([AMQPMapEntry(.string("expression"), .string("table = 'account'"))])
                    ),
                    AMQPMapEntry(
                        .string("sql-rule-action"),
                        .map([AMQPMapEntry(.string("expression"), .string("SET routed = 'sql'"))])
                    ),
                ]
            )
            #expect(try await Self.request(management, "com.microsoft:add-rule", sql).status == 200)
            let correlation = Self.add(
                "urgent",
                [
                    AMQPMapEntry(
                        .string("correlation-filter"),
                        .map(
                            BusAMQPRulesKeys.correlation.map { AMQPMapEntry(.string($0), .null) }.filter {
                                $0.key != .string("label")
                            }
                                + [
                                    AMQPMapEntry(.string("label"), .string("urgent")),
                                    AMQPMapEntry(
                                        .string("properties"),
                                        .map([AMQPMapEntry(.string("priority"), .int(1))])
                                    ),
                                ]
                        )
                    ),
                    AMQPMapEntry(.string("sql-rule-action"), .null),
                ]
            )
            #expect(try await Self.request(management, "com.microsoft:add-rule", correlation).status == 200)
            let again = try await Self.request(management, "com.microsoft:add-rule", sql)
            #expect(again.status == 409 && again.condition == "com.microsoft:entity-already-exists")
            let broken = Self.add(
                "broken",
                [AMQPMapEntry(.string("sql-filter"), .map([AMQPMapEntry(.string("expression"), .string("table = ="))]))]
            )
            let badSQL = try await Self.request(management, "com.microsoft:add-rule", broken)
            #expect(badSQL.status == 400 && badSQL.condition == "com.microsoft:argument-error")

            // The three rules, as described lists: [filter, action, name].
            let listed = try await Self.request(
                management,
                "com.microsoft:enumerate-rules",
                [AMQPMapEntry(.string("top"), .int(100)), AMQPMapEntry(.string("skip"), .int(0))]
            )
            #expect(listed.status == 200)
            let rules = Self.ruleDescriptions(listed.body)
            #expect(rules.map(\.name).sorted() == ["$Default", "accounts", "urgent"])
            let byName = Dictionary(uniqueKeysWithValues: rules.map { ($0.name, $0) })
            #expect(
                byName["$Default"]?.filter == 0x0000_0013_7000_0007
                    && byName["$Default"]?.action == 0x0000_0137_0000_0005
            )
            #expect(
                byName["accounts"]?.filter == 0x0000_0013_7000_0006
                    && byName["accounts"]?.action == 0x0000_0137_0000_0006
            )
            #expect(byName["accounts"]?.filterFields.first == .string("table = 'account'"))
            #expect(byName["urgent"]?.filter == 0x0000_0013_7000_0009 && byName["urgent"]?.filterFields.count == 9)
            #expect(byName["urgent"]?.filterFields[4] == .string("urgent"))
            #expect(byName["urgent"]?.filterFields[8] == .map([AMQPMapEntry(.string("priority"), .long(1))]))
            let page = try await Self.request(
                management,
                "com.microsoft:enumerate-rules",
                [AMQPMapEntry(.string("top"), .int(1)), AMQPMapEntry(.string("skip"), .int(1))]
            )
            #expect(Self.ruleDescriptions(page.body).count == 1)

            // The rules route: the true filter of $Default goes first, then remove it and see the others alone.
            let removeDefault = [AMQPMapEntry(.string("rule-name"), .string("$Default"))]
            #expect(try await Self.request(management, "com.microsoft:remove-rule", removeDefault).status == 200)
            let missing = try await Self.request(management, "com.microsoft:remove-rule", removeDefault)
            #expect(missing.status == 404 && missing.condition == AMQPError.notFound)
            let sender = try await client.openSender(address: "changes")
            for (table, label) in [("account", "x"), ("contact", "urgent"), ("contact", "calm")] {
                var message = AMQPMessage(body: .data([Array(table.utf8)]))
                message.properties = .init(subject: label)
                message.applicationProperties = [
                    AMQPMapEntry(.string("table"), .string(table)), AMQPMapEntry(.string("priority"), .int(1)),
                ]
                #expect(try await sender.send(message) == .accepted)
            }
            #expect(try await bus.queues.counts("changes/subscriptions/picked").active == 2)
            let routed = try await bus.queues.receiveAndDelete(
                "changes/subscriptions/picked",
                now: Int64(Date().timeIntervalSince1970 * 1000)
            )
            #expect(
                routed?.message.userProperties["routed"] == "sql",
                "the SQL action ran: \(String(describing: routed))"
            )

            for name in ["accounts", "urgent"] {
                let body = [AMQPMapEntry(.string("rule-name"), .string(name))]
                #expect(try await Self.request(management, "com.microsoft:remove-rule", body).status == 200)
            }
            let none = try await Self.request(
                management,
                "com.microsoft:enumerate-rules",
                [AMQPMapEntry(.string("top"), .int(100))]
            )
            #expect(none.status == 204, "no rules: 204, which the SDKs read as the end")

            let queueManagement = try await client.openRequester(node: "plain/$management")
            let onQueue = try await Self.request(queueManagement, "com.microsoft:enumerate-rules", [])
            #expect(onQueue.status == 400 && onQueue.condition == "com.microsoft:argument-error")
            await client.close()
        }
    }

    struct Listed {
        var name: String
        var filter: UInt64?
        var filterFields: [AMQPValue]
        var action: UInt64?
    }

    static func ruleDescriptions(_ body: AMQPMessage.Body) -> [Listed] {
        guard case .value(.map(let map)) = body,
            case .list(let rules)? = map.first(where: { $0.key == .string("rules") })?.value
        else { return [] }
        return rules.compactMap { rule in
            guard case .map(let entry) = rule,
                case .described(.ulong(0x0000_0137_0000_0004), .list(let fields))? = entry.first?.value,
                fields.count >= 3, case .string(let name) = fields[2]
            else { return nil }
            var listed = Listed(name: name, filterFields: [])
            if case .described(.ulong(let code), .list(let values)) = fields[0] {
                listed.filter = code
                listed.filterFields = values
            }
            if case .described(.ulong(let code), _) = fields[1] { listed.action = code }
            return listed
        }
    }
}

/// The correlation filter's keys, as the SDKs send them.
enum BusAMQPRulesKeys {
    static let correlation = [
        "correlation-id", "message-id", "to", "reply-to", "label", "session-id", "reply-to-session-id", "content-type",
    ]
}

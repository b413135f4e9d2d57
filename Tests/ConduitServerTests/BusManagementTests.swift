import ConduitAtom
import ConduitBus
import ConduitTestSupport
import Foundation
import HTTPTypes
import Testing

/// The Service Bus management API (ATOM) of the embedded namespace, on a live server.
@Suite("bus management API")
struct BusManagementTests {
    static let encoder = ManagementEncoder(baseURL: "http://localhost", namespaceName: "localhost")

    @Test("queues: create, conflict, get with counts, list, update, delete, missing", arguments: TestBackend.available)
    func queues(backend: TestBackend) async throws {
        try await BusRESTTests.run(backend) { bus in
            let token = bus.token()
            var queue = ConduitAtom.QueueDescription()
            queue.maxDeliveryCount = 3
            queue.requiresDuplicateDetection = true
            queue.lockDuration = .seconds(30)
            let body = Self.encoder.requestBody(.queue(queue))
            let created = try await bus.send(.put, "/orders?api-version=2021-05", token: token, body: body)
            #expect(created.status == .created)
            #expect(created.body.contains("<MaxDeliveryCount>3</MaxDeliveryCount>"))
            let again = try await bus.send(.put, "/orders", token: token, body: body)
            #expect(again.status == .conflict && again.body.contains("already exists"))
            let stored = try #require(try await bus.namespace.queues.queue("orders"))
            #expect(stored.maxDeliveryCount == 3 && stored.lockDurationSeconds == 30)
            #expect(stored.duplicateDetectionWindowSeconds == 600)
            #expect(try await bus.send(.post, "/orders/messages", token: token, body: "hello").status == .created)
            let fetched = try await bus.send(.get, "/orders?enrich=false&api-version=2021-05", token: token)
            #expect(fetched.status == .ok && fetched.headers[.contentType]?.contains("type=entry") == true)
            let decoded = try ManagementDecoder().decodeQueue(Array(fetched.body.utf8))
            #expect(decoded.maxDeliveryCount == 3 && decoded.countDetails?.activeMessageCount == 1)
            let list = try await bus.send(.get, "/$Resources/queues?$skip=0&$top=100", token: token)
            #expect(list.status == .ok && list.body.contains("<title type=\"text\">orders</title>"))
            queue.maxDeliveryCount = 7
            let updated = try await bus.send(
                .put,
                "/orders",
                token: token,
                body: Self.encoder.requestBody(.queue(queue)),
                headers: ["If-Match": "*"]
            )
            #expect(updated.status == .ok)
            #expect(try await bus.namespace.queues.queue("orders")?.maxDeliveryCount == 7)
            #expect(try await bus.send(.delete, "/orders", token: token).status == .ok)
            let missing = try await bus.send(.get, "/orders", token: token)
            #expect(missing.status == .ok && !missing.body.contains("<entry"))
            #expect(try await bus.send(.delete, "/orders", token: token).status == .notFound)
        }
    }

    @Test(
        "eight requests creating the same queue at once: one is created, the others are conflicts, none fails",
        arguments: TestBackend.available
    )
    func concurrentCreates(backend: TestBackend) async throws {
        try await BusRESTTests.run(backend) { bus in
            let token = bus.token()
            let body = Self.encoder.requestBody(.queue(ConduitAtom.QueueDescription()))
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 {
                    group.addTask { Int(try await bus.send(.put, "/raced", token: token, body: body).status.code) }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 201 }.count == 1, "\(statuses)")
            #expect(statuses.allSatisfy { $0 == 201 || $0 == 409 }, "\(statuses)")
        }
    }

    @Test("topics, subscriptions and rules through the API route messages by SQL filter")
    func topics() async throws {
        try await BusRESTTests.run(.sqliteMemory) { bus in
            let token = bus.token()
            let topic = try await bus.send(
                .put,
                "/changes",
                token: token,
                body: Self.encoder.requestBody(.topic(ConduitAtom.TopicDescription()))
            )
            #expect(topic.status == .created)
            let subscription = try await bus.send(
                .put,
                "/changes/Subscriptions/contacts",
                token: token,
                body: Self.encoder.requestBody(.subscription(ConduitAtom.SubscriptionDescription()))
            )
            #expect(subscription.status == .created)
            let rule = RuleDescription(
                filter: .sql(SqlRuleFilter(sqlExpression: "table = 'contact'")),
                name: "contacts"
            )
            let addRule = try await bus.send(
                .put,
                "/changes/Subscriptions/contacts/Rules/contacts",
                token: token,
                body: Self.encoder.requestBody(.rule(rule))
            )
            #expect(addRule.status == .created)
            #expect(
                try await bus.send(.delete, "/changes/subscriptions/contacts/rules/$Default", token: token).status
                    == .ok
            )
            let rules = try await bus.send(.get, "/changes/Subscriptions/contacts/rules", token: token)
            #expect(rules.body.contains("table = 'contact'") && !rules.body.contains("$Default"))
            for table in ["account", "contact"] {
                let sent = try await bus.send(
                    .post,
                    "/changes/messages",
                    token: token,
                    body: table,
                    headers: ["table": "\"\(table)\""]
                )
                #expect(sent.status == .created)
            }
            let received = try await bus.send(.delete, "/changes/subscriptions/contacts/messages/head", token: token)
            #expect(received.body == "contact")
            let subscriptions = try await bus.send(.get, "/changes/Subscriptions", token: token)
            #expect(subscriptions.body.contains("contacts"))
            let badSQL = try await bus.send(
                .put,
                "/changes/Subscriptions/contacts/Rules/broken",
                token: token,
                body: Self.encoder.requestBody(
                    .rule(RuleDescription(filter: .sql(SqlRuleFilter(sqlExpression: "a = "))))
                )
            )
            #expect(badSQL.status == .badRequest && badSQL.body.contains("not valid"))
            var session = ConduitAtom.SubscriptionDescription()
            session.requiresSession = true
            let sessions = try await bus.send(
                .put,
                "/changes/Subscriptions/sessions",
                token: token,
                body: Self.encoder.requestBody(.subscription(session))
            )
            #expect(sessions.status == .created && sessions.body.contains("<RequiresSession>true</RequiresSession>"))
            let read = try await bus.send(.get, "/changes/Subscriptions/sessions", token: token)
            #expect(read.body.contains("<RequiresSession>true</RequiresSession>"), "\(read.body.prefix(600))")
            #expect(try await bus.send(.delete, "/changes", token: token).status == .ok)
        }
    }

    @Test("bad bodies, missing tokens and rules without Manage are refused with the reason")
    func refusals() async throws {
        try await BusRESTTests.run(.sqliteMemory) { bus in
            let malformed = try await bus.send(.put, "/q", token: bus.token(), body: "<entry><content>")
            #expect(malformed.status == .badRequest && malformed.body.contains("<Error>"))
            let noToken = try await bus.send(.get, "/$Resources/queues", token: nil)
            #expect(noToken.status == .unauthorized)
            let sender = AuthorizationRule(
                keyName: "send",
                primaryKey: "c2VuZA==",
                secondaryKey: "c2Vjb25k",
                rights: [.send]
            )
            try await bus.namespace.putRule(sender)
            let forbidden = try await bus.send(.get, "/$Resources/queues", token: bus.token(sender))
            #expect(forbidden.status == .forbidden && forbidden.body.contains("needs Manage"))
            let info = try await bus.send(.get, "/$namespaceinfo", token: bus.token())
            #expect(info.status == .ok && info.body.contains("NamespaceInfo"))
        }
    }

    @Test("An entity's own SAS rules: valid for it with their rights, not for other entities; read back on GET")
    func entityRules() async throws {
        try await BusRESTTests.run(.sqliteMemory) { bus in
            var queue = ConduitAtom.QueueDescription()
            queue.authorizationRules = [
                ConduitAtom.AuthorizationRule(keyName: "orders-send", rights: [.send], primaryKey: "b3JkZXJzLXNlbmQ=")
            ]
            let created = try await bus.send(
                .put,
                "/orders",
                token: bus.token(),
                body: Self.encoder.requestBody(.queue(queue))
            )
            #expect(created.status == .created && created.body.contains("orders-send"))
            let other = try await bus.send(
                .put,
                "/other",
                token: bus.token(),
                body: Self.encoder.requestBody(.queue(ConduitAtom.QueueDescription()))
            )
            #expect(other.status == .created)
            let stored = try #require(try await bus.namespace.queues.queue("orders")?.authorizationRules?.first)
            #expect(stored.rights == [.send] && !stored.secondaryKey.isEmpty)
            let token = bus.token(stored, scope: "sb://localhost/orders")
            #expect(try await bus.send(.post, "/orders/messages", token: token, body: "m").status == .created)
            let listen = try await bus.send(.delete, "/orders/messages/head", token: token)
            #expect(listen.status == .forbidden && listen.body.contains("needs Listen"))
            let elsewhere = try await bus.send(
                .post,
                "/other/messages",
                token: bus.token(stored, scope: "sb://localhost/other"),
                body: "m"
            )
            #expect(elsewhere.status == .unauthorized)
            let fetched = try await bus.send(.get, "/orders", token: bus.token())
            #expect(fetched.body.contains("<KeyName>orders-send</KeyName>"))
        }
    }
}

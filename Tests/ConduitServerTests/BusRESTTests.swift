import ConduitBus
import ConduitContext
import ConduitPlatform
import ConduitServer
import ConduitStore
import ConduitTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// The Service Bus REST data plane of the embedded namespace, on a live server.
@Suite("bus REST data plane")
struct BusRESTTests {
    struct Bus {
        let client: any TestClientProtocol
        let namespace: BusNamespace
        let root: AuthorizationRule

        func token(
            _ rule: AuthorizationRule? = nil,
            scope: String = "sb://localhost/",
            key: String? = nil,
            expiry: Int64? = nil
        )
            -> String
        {
            let rule = rule ?? root
            return SASToken.make(
                resource: scope,
                keyName: rule.keyName,
                key: key ?? rule.primaryKey,
                expiry: expiry ?? Int64(Date().timeIntervalSince1970) + 3600
            ).headerValue
        }

        func send(
            _ method: HTTPRequest.Method,
            _ path: String,
            token: String?,
            body: String? = nil,
            headers extra: [String: String] = [:]
        ) async throws -> (status: HTTPResponse.Status, headers: HTTPFields, body: String) {
            var headers = HTTPFields()
            if let token { headers[.authorization] = token }
            for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
            return try await client.execute(
                uri: path,
                method: method,
                headers: headers,
                body: body.map { ByteBuffer(string: $0) }
            ) { response in (response.status, response.headers, String(buffer: response.body)) }
        }
    }

    static func run(_ backend: TestBackend, _ body: @Sendable (Bus) async throws -> Void) async throws {
        try await backend.withFreshStore { store in
            var logger = Logger(label: "conduit.test")
            logger.logLevel = .warning
            let platform = try await Platform.open(
                store: store,
                migrations: [APIKeys.migration] + BusNamespace.migrations,
                logger: logger
            )
            let namespace = BusNamespace(store: store)
            let root = try await namespace.ensureRootRule()
            let router = ConduitApplication.router(platform: platform, keys: APIKeys(store: store), bus: namespace)
            let app = Application(router: router, logger: logger)
            try await app.test(.live) { client in
                try await body(Bus(client: client, namespace: namespace, root: root))
            }
        }
    }

    @Test(
        "send, peek-lock, renew, unlock, complete, receive-and-delete and the dead-letter queue over REST",
        arguments: TestBackend.available
    )
    func roundTrip(backend: TestBackend) async throws {
        try await Self.run(backend) { bus in
            try await bus.namespace.queues.createQueue(QueueDescription(name: "orders", maxDeliveryCount: 2), now: 0)
            let token = bus.token()
            let sent = try await bus.send(
                .post,
                "/orders/messages",
                token: token,
                body: "hello",
                headers: [
                    "Content-Type": "application/json",
                    "BrokerProperties": #"{"Label":"M1","MessageId":"m-1","TimeToLive":60}"#,
                    "Priority": "\"High\"",
                ]
            )
            #expect(sent.status == .created, "\(sent.body)")

            let locked = try await bus.send(.post, "/orders/messages/head?timeout=1", token: token)
            #expect(locked.status == .created)
            #expect(locked.body == "hello")
            #expect(locked.headers[.contentType] == "application/json")
            #expect(locked.headers[HTTPField.Name("Priority")!] == "\"High\"")
            let properties = try #require(
                try JSONSerialization.jsonObject(
                    with: Data((locked.headers[HTTPField.Name("BrokerProperties")!] ?? "").utf8)
                )
                    as? [String: Any]
            )
            #expect(properties["Label"] as? String == "M1" && properties["MessageId"] as? String == "m-1")
            #expect(properties["DeliveryCount"] as? Int == 1 && properties["SequenceNumber"] as? Int == 1)
            let lockToken = try #require(properties["LockToken"] as? String)
            let location = try #require(locked.headers[.location])
            #expect(location.hasSuffix("/orders/messages/1/\(lockToken)"))
            let path = "/orders/messages/1/\(lockToken)"

            #expect(try await bus.send(.post, path, token: token).status == .ok)  // renew
            #expect(try await bus.send(.put, path, token: token).status == .ok)  // unlock (abandon)
            let second = try await bus.send(.post, "/orders/messages/head", token: token)
            let secondProperties =
                try JSONSerialization.jsonObject(
                    with: Data((second.headers[HTTPField.Name("BrokerProperties")!] ?? "").utf8)
                )
                as? [String: Any]
            #expect(secondProperties?["DeliveryCount"] as? Int == 2)
            let secondToken = try #require(secondProperties?["LockToken"] as? String)
            // The second abandon reaches the maximum delivery count (2): the message is dead-lettered.
            #expect(try await bus.send(.put, "/orders/messages/1/\(secondToken)", token: token).status == .ok)
            #expect(try await bus.send(.post, "/orders/messages/head", token: token).status == .noContent)
            let dead = try await bus.send(.delete, "/orders/$DeadLetterQueue/messages/head", token: token)
            #expect(dead.status == .ok && dead.body == "hello")
            #expect(dead.headers[HTTPField.Name("DeadLetterReason")!] == "\"MaxDeliveryCountExceeded\"")

            // Complete, and a settled lock is gone (404).
            _ = try await bus.send(.post, "/orders/messages", token: token, body: "two")
            let third = try await bus.send(.post, "/orders/messages/head", token: token)
            let thirdLocation = try #require(third.headers[.location])
            let thirdPath = String(thirdLocation[thirdLocation.range(of: "/orders/")!.lowerBound...])
            #expect(try await bus.send(.delete, thirdPath, token: token).status == .ok)
            #expect(try await bus.send(.delete, thirdPath, token: token).status == .notFound)
            #expect(try await bus.send(.delete, "/orders/messages/head", token: token).status == .noContent)
            #expect(try await bus.send(.post, "/missing/messages", token: token, body: "x").status == .gone)
        }
    }

    @Test(
        "SAS: 401 for a missing, forged, expired or out-of-scope token, 403 for a missing right, 400 for bad input",
        arguments: TestBackend.available
    )
    func authorization(backend: TestBackend) async throws {
        try await Self.run(backend) { bus in
            try await bus.namespace.queues.createQueue(QueueDescription(name: "q"), now: 0)
            let listener = AuthorizationRule(
                keyName: "listener",
                primaryKey: "lk1",
                secondaryKey: "lk2",
                rights: [.listen]
            )
            try await bus.namespace.putRule(listener)
            let cases: [(String?, HTTPResponse.Status)] = [
                (nil, .unauthorized),
                (bus.token(key: "forged"), .unauthorized),
                (bus.token(expiry: Int64(Date().timeIntervalSince1970) - 10), .unauthorized),
                (bus.token(scope: "sb://localhost/other"), .unauthorized),
                ("Bearer not-a-sas-token", .unauthorized),
                (bus.token(listener), .forbidden),
            ]
            for (token, status) in cases {
                let reply = try await bus.send(.post, "/q/messages", token: token, body: "x")
                #expect(reply.status == status, "\(token ?? "no token"): \(reply.body)")
            }
            // The listener may receive; a token for the queue itself works too.
            #expect(
                try await bus.send(
                    .post,
                    "/q/messages/head",
                    token: bus.token(listener, scope: "sb://127.0.0.1:5672/q")
                ).status == .noContent
            )
            let badProperties = try await bus.send(
                .post,
                "/q/messages",
                token: bus.token(),
                body: "x",
                headers: ["BrokerProperties": "{not json"]
            )
            #expect(badProperties.status == .badRequest)
            let badTime = try await bus.send(
                .post,
                "/q/messages",
                token: bus.token(),
                body: "x",
                headers: ["BrokerProperties": #"{"ScheduledEnqueueTimeUtc":"tomorrow"}"#]
            )
            #expect(badTime.status == .badRequest && badTime.body.contains("RFC 2616"))
            let badToken = try await bus.send(.delete, "/q/messages/1/not-a-guid", token: bus.token())
            #expect(badToken.status == .badRequest)
            #expect(try await bus.namespace.queues.counts("q") == MessageCounts())
        }
    }

    @Test("batch send: a JSON array with broker and user properties", arguments: TestBackend.available)
    func batch(backend: TestBackend) async throws {
        try await Self.run(backend) { bus in
            try await bus.namespace.queues.createQueue(QueueDescription(name: "batch"), now: 0)
            let body = """
                [{"Body":"This is the first message","BrokerProperties":{"Label":"M1","TimeToLiveTimeSpan":"0.00:00:40"}},
                 {"Body":"This is the second message","BrokerProperties":{"Label":"M2"},"UserProperties":{"Priority":"Low"}},
                 {"Body":"This is the third message","BrokerProperties":{"Label":"M3"},"UserProperties":{"Priority":"Medium","Customer":"ABC"}}]
                """
            let sent = try await bus.send(
                .post,
                "/batch/messages",
                token: bus.token(),
                body: body,
                headers: ["Content-Type": "application/vnd.microsoft.servicebus.json"]
            )
            #expect(sent.status == .created, "\(sent.body)")
            var labels: [String] = []
            while true {
                let reply = try await bus.send(.delete, "/batch/messages/head", token: bus.token())
                guard reply.status == .ok else { break }
                let properties =
                    try JSONSerialization.jsonObject(
                        with: Data((reply.headers[HTTPField.Name("BrokerProperties")!] ?? "").utf8)
                    ) as? [String: Any]
                labels.append(properties?["Label"] as? String ?? "")
                if labels.count == 1 { #expect(properties?["TimeToLive"] as? Double == 40) }
                if labels.count == 3 { #expect(reply.headers[HTTPField.Name("Customer")!] == "\"ABC\"") }
            }
            #expect(labels == ["M1", "M2", "M3"])
            let bad = try await bus.send(
                .post,
                "/batch/messages",
                token: bus.token(),
                body: #"[{"BrokerProperties":{}}]"#,
                headers: ["Content-Type": "application/vnd.microsoft.servicebus.json"]
            )
            #expect(bad.status == .badRequest && bad.body.contains("no Body"))
        }
    }

    @Test("topics: send to the topic, receive and complete on a subscription; typed user-property headers")
    func topics() async throws {
        try await Self.run(.sqliteMemory) { bus in
            try await bus.namespace.topics.createTopic(TopicDescription(name: "events"), now: 0)
            try await bus.namespace.topics.createSubscription(
                SubscriptionDescription(topic: "events", name: "big"),
                rule: SubscriptionRule(name: "big", filter: .sql(try SQLFilter("quantity > 10 AND urgent = TRUE"))),
                now: 0
            )
            let token = bus.token()
            for (quantity, urgent) in [("5", "true"), ("50", "true"), ("50", "false")] {
                let sent = try await bus.send(
                    .post,
                    "/events/messages",
                    token: token,
                    body: "q=\(quantity)",
                    headers: ["quantity": quantity, "urgent": urgent, "note": "\"text\""]
                )
                #expect(sent.status == .created)
            }
            let bad = try await bus.send(.post, "/events/messages", token: token, body: "x", headers: ["size": "big"])
            #expect(bad.status == .badRequest && bad.body.contains("quote text"))
            let locked = try await bus.send(.post, "/events/Subscriptions/big/messages/head", token: token)
            #expect(locked.status == .created && locked.body == "q=50")
            #expect(locked.headers[HTTPField.Name("quantity")!] == "50")
            #expect(locked.headers[HTTPField.Name("note")!] == "\"text\"")
            let location = try #require(locked.headers[.location])
            #expect(location.contains("/events/subscriptions/big/messages/"))
            let path = String(location[try #require(location.range(of: "/events/"))!.lowerBound...])
            #expect(try await bus.send(.delete, path, token: token).status == .ok)
            #expect(
                try await bus.send(.delete, "/events/subscriptions/big/messages/head", token: token).status
                    == .noContent
            )
            let missing = try await bus.send(.post, "/events/subscriptions/nope/messages/head", token: token)
            #expect(missing.status == .gone)
        }
    }
}

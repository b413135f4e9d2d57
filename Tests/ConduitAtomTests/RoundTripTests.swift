import Foundation
import Testing

@testable import ConduitAtom

/// Descriptions with every property changed from its default survive encoding and decoding, both as a
/// request body (settable properties only) and as a response entry (runtime properties included).
@Suite("Round trips")
struct RoundTripTests {
    let decoder = ManagementDecoder()
    let encoder = ManagementEncoder(baseURL: "http://127.0.0.1:8080/", namespaceName: "conduit")
    let time = utc(2024, 5, 6, 7, 8, 9, ms: 123)

    static func fullQueue() -> QueueDescription {
        var queue = QueueDescription()
        queue.lockDuration = .seconds(30)
        queue.maxSizeInMegabytes = 5120
        queue.requiresDuplicateDetection = true
        queue.requiresSession = true
        queue.defaultMessageTimeToLive = .days(14)
        queue.deadLetteringOnMessageExpiration = true
        queue.duplicateDetectionHistoryTimeWindow = ISO8601Duration(ticks: 5_000_000)
        queue.maxDeliveryCount = 3
        queue.enableBatchedOperations = false
        queue.isAnonymousAccessible = true
        queue.authorizationRules = [
            AuthorizationRule(keyName: "listen", rights: [.listen], primaryKey: "a2V5MQ==", secondaryKey: "a2V5Mg==")
        ]
        queue.status = .sendDisabled
        queue.userMetadata = "a <tagged> & \"quoted\" 'note'\r\nline two\twith tab"
        queue.supportOrdering = false
        queue.autoDeleteOnIdle = .hours(6)
        queue.enablePartitioning = true
        queue.enableExpress = true
        queue.forwardTo = "sb://conduit/other queue"
        queue.forwardDeadLetteredMessagesTo = "dlq-target"
        queue.maxMessageSizeInKilobytes = 1024
        return queue
    }

    static func fullTopic() -> TopicDescription {
        var topic = TopicDescription()
        topic.defaultMessageTimeToLive = .hours(3)
        topic.maxSizeInMegabytes = 2048
        topic.requiresDuplicateDetection = true
        topic.duplicateDetectionHistoryTimeWindow = .minutes(20)
        topic.enableBatchedOperations = false
        topic.filteringMessagesBeforePublishing = true
        topic.isAnonymousAccessible = true
        topic.authorizationRules = [AuthorizationRule(keyName: "all", rights: [.manage, .send, .listen])]
        topic.status = .disabled
        topic.userMetadata = "topic metadata"
        topic.supportOrdering = false
        topic.autoDeleteOnIdle = .days(1)
        topic.enablePartitioning = true
        topic.enableSubscriptionPartitioning = true
        topic.enableExpress = true
        topic.maxMessageSizeInKilobytes = 2048
        return topic
    }

    static func fullSubscription() -> SubscriptionDescription {
        var subscription = SubscriptionDescription()
        subscription.lockDuration = .minutes(5)
        subscription.requiresSession = true
        subscription.defaultMessageTimeToLive = .minutes(90)
        subscription.deadLetteringOnMessageExpiration = true
        subscription.deadLetteringOnFilterEvaluationExceptions = false
        subscription.maxDeliveryCount = 7
        subscription.enableBatchedOperations = false
        subscription.status = .receiveDisabled
        subscription.forwardTo = "queue-a"
        subscription.userMetadata = "sub"
        subscription.forwardDeadLetteredMessagesTo = "queue-b"
        subscription.autoDeleteOnIdle = .hours(2)
        return subscription
    }

    static func fullRule() throws -> RuleDescription {
        var filter = CorrelationRuleFilter()
        filter.correlationId = "c"
        filter.messageId = "m"
        filter.to = "t"
        filter.replyTo = "r"
        filter.label = "l"
        filter.sessionId = "s"
        filter.replyToSessionId = "rs"
        filter.contentType = "application/json"
        filter.properties = [
            RuleKeyValue(key: "s", value: .string(" spaced & <escaped> ")),
            RuleKeyValue(key: "i", value: .int(-42)),
            RuleKeyValue(key: "l", value: .long(Int64.max)),
            RuleKeyValue(key: "b", value: .boolean(true)),
            RuleKeyValue(key: "d", value: .double(2.5)),
            RuleKeyValue(key: "inf", value: .double(-.infinity)),
            RuleKeyValue(key: "t", value: .dateTime("2024-05-06T07:08:09.5Z")),
            RuleKeyValue(key: "u", value: .duration(try ISO8601Duration(parsing: "PT1.5S"))),
        ]
        var action = SqlRuleAction(sqlExpression: "SET sys.Label = @label; REMOVE x")
        action.parameters = [RuleKeyValue(key: "@label", value: .string("relabelled"))]
        action.requiresPreprocessing = false
        return RuleDescription(filter: .correlation(filter), action: .sql(action), name: "everything")
    }

    @Test("queue: request body and response entry")
    func queue() throws {
        let queue = Self.fullQueue()
        #expect(try decoder.decodeEntity(encoder.requestBody(.queue(queue)).utf8) == .queue(queue))

        var runtime = queue
        runtime.createdAt = time
        runtime.updatedAt = time.addingTimeInterval(1)
        runtime.accessedAt = time.addingTimeInterval(2)
        runtime.sizeInBytes = 4096
        runtime.messageCount = 12
        runtime.countDetails = MessageCountDetails(
            activeMessageCount: 7,
            deadLetterMessageCount: 2,
            scheduledMessageCount: 1,
            transferMessageCount: 1,
            transferDeadLetterMessageCount: 1
        )
        runtime.entityAvailabilityStatus = .limited
        let entry = encoder.queueEntry(runtime, name: "orders/eu", published: time, updated: time)
        let decoded = try decoder.decodeQueue(entry.utf8)
        #expect(decoded.countDetails == runtime.countDetails)
        #expect(sameInstant(decoded.accessedAt, runtime.accessedAt!))
        var normalized = decoded
        normalized.createdAt = runtime.createdAt
        normalized.updatedAt = runtime.updatedAt
        normalized.accessedAt = runtime.accessedAt
        #expect(normalized == runtime)
        #expect(entry.contains("<id>http://127.0.0.1:8080/orders/eu?api-version=2021-05</id>"))
    }

    @Test("hybrid connection: request body and response entry with its listener count")
    func hybridConnection() throws {
        var relay = HybridConnectionDescription()
        relay.requiresClientAuthorization = false
        relay.userMetadata = "approvals <&> listeners"
        #expect(
            try decoder.decodeEntity(encoder.requestBody(.hybridConnection(relay)).utf8) == .hybridConnection(relay)
        )
        var runtime = relay
        runtime.listenerCount = 3
        runtime.createdAt = time
        runtime.updatedAt = time
        let entry = encoder.hybridConnectionEntry(runtime, name: "approvals", published: time, updated: time)
        let decoded = try decoder.decodeHybridConnection(entry.utf8)
        #expect(decoded.listenerCount == 3 && decoded.userMetadata == relay.userMetadata)
        #expect(!decoded.requiresClientAuthorization && sameInstant(decoded.createdAt, time))
        #expect(throws: ManagementCodecError.self) {
            try decoder.decodeHybridConnection(encoder.requestBody(.topic(Self.fullTopic())).utf8)
        }
    }

    @Test("topic: request body and response entry")
    func topic() throws {
        let topic = Self.fullTopic()
        #expect(try decoder.decodeEntity(encoder.requestBody(.topic(topic)).utf8) == .topic(topic))

        var runtime = topic
        runtime.sizeInBytes = 1
        runtime.subscriptionCount = 3
        runtime.countDetails = MessageCountDetails(activeMessageCount: 1)
        let entry = encoder.topicEntry(runtime, name: "events", published: time, updated: time)
        var decoded = try decoder.decodeTopic(entry.utf8)
        #expect(decoded.accessedAt == nil, "written as 0001-01-01T00:00:00Z, read back as never")
        decoded.accessedAt = nil
        #expect(decoded == runtime)
    }

    @Test("subscription: request body with a default rule, and response entry")
    func subscription() throws {
        var subscription = Self.fullSubscription()
        subscription.defaultRule = RuleDescription(
            filter: .sql(SqlRuleFilter(sqlExpression: "a > 1")),
            name: "$Default"
        )
        #expect(
            try decoder.decodeEntity(encoder.requestBody(.subscription(subscription)).utf8)
                == .subscription(subscription)
        )

        var runtime = Self.fullSubscription()
        runtime.messageCount = 9
        runtime.countDetails = MessageCountDetails(deadLetterMessageCount: 9)
        let entry = encoder.subscriptionEntry(
            runtime,
            topicName: "events",
            name: "audit",
            published: time,
            updated: time
        )
        #expect(try decoder.decodeSubscription(entry.utf8) == runtime)
        #expect(!entry.contains("DefaultRuleDescription"))
        #expect(entry.contains("<id>http://127.0.0.1:8080/events/Subscriptions/audit?api-version=2021-05</id>"))
    }

    @Test("rule: every filter and action kind, request body and response entry")
    func rule() throws {
        let full = try Self.fullRule()
        let rules = [
            full,
            RuleDescription(filter: .trueFilter, action: .empty, name: "t"),
            RuleDescription(filter: .falseFilter, action: .empty, name: "f"),
            RuleDescription(filter: .sql(SqlRuleFilter(sqlExpression: "color = 'red'")), name: "q"),
        ]
        for rule in rules {
            #expect(try decoder.decodeEntity(encoder.requestBody(.rule(rule)).utf8) == .rule(rule))
            let entry = encoder.ruleEntry(
                rule,
                topicName: "events",
                subscriptionName: "audit",
                name: rule.name ?? "",
                published: time,
                updated: time
            )
            #expect(try decoder.decodeRule(entry.utf8) == rule)
        }
    }

    @Test("a rule response names the resource even when the body had no Name")
    func ruleNameFromPath() throws {
        let entry = encoder.ruleEntry(
            RuleDescription(),
            topicName: "t",
            subscriptionName: "s",
            name: "r1",
            published: time,
            updated: time
        )
        #expect(try decoder.decodeRule(entry.utf8).name == "r1")
        #expect(try XMLShape.childNames(entry, of: "RuleDescription") == ["Filter", "Action", "Name"])
    }

    @Test("namespace info round trip")
    func namespaceInfo() throws {
        var info = NamespaceInfo(name: "conduit", createdTime: time, modifiedTime: time)
        info.alias = "geo"
        info.messagingSKU = "Premium"
        info.messagingUnits = 4
        let entry = encoder.namespaceInfoEntry(info, updated: time)
        var decoded = try decoder.decodeNamespaceInfo(entry.utf8)
        #expect(sameInstant(decoded.createdTime, time) && sameInstant(decoded.modifiedTime, time))
        (decoded.createdTime, decoded.modifiedTime) = (info.createdTime, info.modifiedTime)
        #expect(decoded == info)
        #expect(
            try XMLShape.childNames(entry, of: "NamespaceInfo") == [
                "Alias", "CreatedTime", "MessagingSKU", "MessagingUnits", "ModifiedTime", "Name", "NamespaceType",
            ]
        )
    }

    @Test("names are percent-encoded in links and kept as they are in titles")
    func nameEscaping() throws {
        let entry = encoder.queueEntry(QueueDescription(), name: "a b/ü&c", published: time, updated: time)
        #expect(entry.contains("<id>http://127.0.0.1:8080/a%20b/%C3%BC&amp;c?api-version=2021-05</id>"))
        #expect(try XMLShape.parse(entry).child("title")?.text == "a b/ü&c")
    }

    @Test("characters XML cannot carry are replaced, so the output stays well-formed")
    func controlCharacters() throws {
        var queue = QueueDescription()
        queue.userMetadata = "bell\u{7}end"
        let entry = encoder.queueEntry(queue, name: "q", published: time, updated: time)
        #expect(try decoder.decodeQueue(entry.utf8).userMetadata == "bell\u{FFFD}end")
    }
}

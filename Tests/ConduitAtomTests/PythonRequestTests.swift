import Foundation
import Testing

@testable import ConduitAtom

/// Decodes the exact PUT bodies the Python `ServiceBusAdministrationClient` sent to Azure.
@Suite("Python client request bodies")
struct PythonRequestTests {
    let decoder = ManagementDecoder()

    @Test("the recorded bodies are byte-exact copies")
    func fixtureLengths() throws {
        let lengths = [
            "python-queue-create-empty": 248, "python-topic-create-empty": 248,
            "python-subscription-create-empty": 255, "python-queue-create-with-description": 1014,
            "python-queue-update-max-durations": 1265, "python-queue-update": 1879,
            "python-rule-correlation-sql-action": 1816, "python-rule-sql-filter-parameters": 912,
            "python-rule-true-filter": 545, "python-rule-sql-filter-quoted": 557,
            "python-subscription-create-with-description": 619, "python-subscription-create-forwarding": 483,
        ]
        for (name, length) in lengths {
            #expect(try Fixture.bytes(name).count == length, "Content-Length of \(name)")
        }
    }

    @Test("empty descriptions take Azure's defaults")
    func emptyBodies() throws {
        #expect(try decoder.decodeEntity(Fixture.bytes("python-queue-create-empty")) == .queue(QueueDescription()))
        #expect(try decoder.decodeEntity(Fixture.bytes("python-topic-create-empty")) == .topic(TopicDescription()))
        let subscription = try decoder.decodeEntity(Fixture.bytes("python-subscription-create-empty"))
        #expect(subscription == .subscription(SubscriptionDescription()))
    }

    @Test("create_queue with every option")
    func queueWithDescription() throws {
        let queue = try decoder.decodeQueue(Fixture.bytes("python-queue-create-with-description"))
        var expected = QueueDescription()
        expected.lockDuration = .seconds(13)
        expected.maxSizeInMegabytes = 3072
        expected.requiresSession = true
        expected.defaultMessageTimeToLive = .minutes(11)
        expected.deadLetteringOnMessageExpiration = true
        expected.duplicateDetectionHistoryTimeWindow = .minutes(12)
        expected.maxDeliveryCount = 14
        expected.autoDeleteOnIdle = .minutes(10)
        expected.enablePartitioning = true
        expected.enableExpress = true
        expected.forwardTo = "sb://servicebustestaweyco6xnr.servicebus.windows.net/aghadh"
        expected.forwardDeadLetteredMessagesTo = "sb://servicebustestaweyco6xnr.servicebus.windows.net/aghadh"
        #expect(queue == expected)
    }

    @Test("update_queue sends the runtime properties back, with d2p1 count details")
    func queueUpdate() throws {
        let queue = try decoder.decodeQueue(Fixture.bytes("python-queue-update"))
        #expect(queue.lockDuration == .seconds(13))
        #expect(queue.maxSizeInMegabytes == 3072)
        #expect(queue.maxDeliveryCount == 14)
        #expect(queue.authorizationRules.isEmpty)
        #expect(sameInstant(queue.createdAt, utc(2020, 12, 3, 18, 23, 31, ms: 40)))
        #expect(sameInstant(queue.updatedAt, utc(2020, 12, 3, 18, 23, 31, ms: 640)))
        #expect(queue.accessedAt == nil, "0001-01-01T00:00:00.000Z means never")
        #expect(queue.countDetails == MessageCountDetails())
        #expect(queue.sizeInBytes == 0)
        #expect(queue.messageCount == 0)
        #expect(queue.enableExpress)
        #expect(queue.forwardTo == "sb://servicebustestafjalzt3of.servicebus.windows.net/fjrui")
    }

    @Test("update_queue rounds the unlimited durations; they are kept as sent")
    func queueUpdateMaxDurations() throws {
        let queue = try decoder.decodeQueue(Fixture.bytes("python-queue-update-max-durations"))
        #expect(queue.lockDuration == .minutes(2))
        #expect(queue.defaultMessageTimeToLive.description == "P10675199DT2H48M5.477539S")
        #expect(queue.autoDeleteOnIdle.description == "P10675199DT2H48M5.477539S")
        #expect(!queue.defaultMessageTimeToLive.isMaximum)
    }

    @Test("create_rule with a correlation filter and a SQL action, all value types")
    func ruleCorrelationWithSqlAction() throws {
        let rule = try decoder.decodeRule(Fixture.bytes("python-rule-correlation-sql-action"))
        var filter = CorrelationRuleFilter()
        filter.correlationId = "testcid"
        filter.properties = [
            RuleKeyValue(key: "key_string", value: .string("str1")),
            RuleKeyValue(key: "key_int", value: .int(2)),
            RuleKeyValue(key: "key_long", value: .long(2_147_483_650)),
            RuleKeyValue(key: "key_bool", value: .boolean(false)),
            RuleKeyValue(key: "key_datetime", value: .dateTime("2020-07-05T11:12:13")),
            RuleKeyValue(key: "key_duration", value: .duration(try ISO8601Duration(parsing: "P1DT2H3M"))),
        ]
        var action = SqlRuleAction(sqlExpression: "SET Priority = @param")
        action.parameters = [RuleKeyValue(key: "@param", value: .dateTime("2020-07-05T11:12:13"))]
        #expect(rule == RuleDescription(filter: .correlation(filter), action: .sql(action), name: "test_rule_1"))
        #expect(rule.filter.typeName == "CorrelationFilter")
        #expect(sameInstant(filter.properties[4].value.date, utc(2020, 7, 5, 11, 12, 13)))
    }

    @Test("create_rule with a parameterised SQL filter")
    func ruleSqlFilter() throws {
        let rule = try decoder.decodeRule(Fixture.bytes("python-rule-sql-filter-parameters"))
        var filter = SqlRuleFilter(sqlExpression: "Priority = @param1 AND Level = @param2")
        filter.parameters = [
            RuleKeyValue(key: "@param1", value: .string("str1")),
            RuleKeyValue(key: "@param2", value: .int(1)),
        ]
        #expect(rule == RuleDescription(filter: .sql(filter), action: .empty, name: "test_rule_2"))
    }

    @Test("create_rule with a true filter, and a SQL filter with quotes")
    func ruleTrueAndQuotedFilters() throws {
        let trueRule = try decoder.decodeRule(Fixture.bytes("python-rule-true-filter"))
        #expect(trueRule == RuleDescription(filter: .trueFilter, action: .empty, name: "test_rule_3"))
        let quoted = try decoder.decodeRule(Fixture.bytes("python-rule-sql-filter-quoted"))
        #expect(quoted.filter == .sql(SqlRuleFilter(sqlExpression: "Priority = 'low'")))
    }

    @Test("create_subscription with options and with forwarding")
    func subscriptions() throws {
        let subscription = try decoder.decodeSubscription(Fixture.bytes("python-subscription-create-with-description"))
        var expected = SubscriptionDescription()
        expected.lockDuration = .seconds(13)
        expected.requiresSession = true
        expected.defaultMessageTimeToLive = .minutes(11)
        expected.deadLetteringOnMessageExpiration = true
        expected.maxDeliveryCount = 14
        expected.autoDeleteOnIdle = .minutes(10)
        #expect(subscription == expected)

        let forwarding = try decoder.decodeSubscription(Fixture.bytes("python-subscription-create-forwarding"))
        var forwardingExpected = SubscriptionDescription()
        forwardingExpected.forwardTo = "sb://servicebustestaweyco6xnr.servicebus.windows.net/dkfthj"
        forwardingExpected.forwardDeadLetteredMessagesTo = "sb://servicebustestaweyco6xnr.servicebus.windows.net/dkfthj"
        #expect(forwarding == forwardingExpected)
    }

    @Test("the body kind comes from the content element, not from the URL")
    func entityDispatch() throws {
        #expect(try decoder.decodeEntity(Fixture.bytes("python-topic-create-empty")).elementName == "TopicDescription")
        let error = #expect(throws: ManagementCodecError.self) {
            try decoder.decodeTopic(Fixture.bytes("python-queue-create-empty"))
        }
        #expect(error?.message == "The body holds a QueueDescription where a TopicDescription was expected.")
    }
}

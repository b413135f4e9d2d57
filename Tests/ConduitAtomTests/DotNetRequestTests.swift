import Foundation
import Testing

@testable import ConduitAtom

/// Decodes the exact PUT bodies the .NET `ServiceBusAdministrationClient` sent to Azure: pretty-printed with
/// CRLF, default namespaces, and `i:type` written with generated prefixes (`p4`, `p5`, `l28`).
@Suite(".NET client request bodies")
struct DotNetRequestTests {
    let decoder = ManagementDecoder()
    let sanitizedKey = "SanitizedSanitizedSanitizedSanitizedSanitize"

    @Test("the recorded bodies are byte-exact copies")
    func fixtureLengths() throws {
        let lengths = [
            "dotnet-queue-create": 1844, "dotnet-queue-update": 1839, "dotnet-topic-create": 1834,
            "dotnet-subscription-create-default-rule": 1112, "dotnet-rule-correlation-filter": 1059,
        ]
        for (name, length) in lengths {
            #expect(try Fixture.bytes(name).count == length, "Content-Length of \(name)")
        }
    }

    @Test("CreateQueueAsync with an authorization rule and user metadata")
    func queueCreate() throws {
        let queue = try decoder.decodeQueue(Fixture.bytes("dotnet-queue-create"))
        var expected = QueueDescription()
        expected.lockDuration = .seconds(45)
        expected.requiresDuplicateDetection = true
        expected.defaultMessageTimeToLive = .days(2)
        expected.deadLetteringOnMessageExpiration = true
        expected.duplicateDetectionHistoryTimeWindow = .minutes(1)
        expected.maxDeliveryCount = 8
        expected.enableBatchedOperations = false
        expected.authorizationRules = [
            AuthorizationRule(
                keyName: "allClaims",
                rights: [.manage, .send, .listen],
                primaryKey: sanitizedKey,
                secondaryKey: sanitizedKey
            )
        ]
        expected.status = .disabled
        expected.userMetadata = "BasicQueueCrudOperations"
        expected.autoDeleteOnIdle = .hours(1)
        expected.maxMessageSizeInKilobytes = 100_000
        #expect(queue == expected)
        #expect(queue.authorizationRules.first?.type == "SharedAccessAuthorizationRule")
    }

    @Test("UpdateQueueAsync (If-Match: *) body")
    func queueUpdate() throws {
        let queue = try decoder.decodeQueue(Fixture.bytes("dotnet-queue-update"))
        #expect(queue.maxDeliveryCount == 9)
        #expect(queue.enableBatchedOperations)
        #expect(queue.supportOrdering)
        #expect(queue.autoDeleteOnIdle == .minutes(6))
        #expect(queue.maxMessageSizeInKilobytes == 10_000)
        #expect(queue.authorizationRules.map(\.keyName) == ["noManage"])
        #expect(queue.authorizationRules.first?.rights == [.send, .listen])
    }

    @Test("CreateTopicAsync")
    func topicCreate() throws {
        let topic = try decoder.decodeTopic(Fixture.bytes("dotnet-topic-create"))
        var expected = TopicDescription()
        expected.defaultMessageTimeToLive = .days(2)
        expected.requiresDuplicateDetection = true
        expected.duplicateDetectionHistoryTimeWindow = .minutes(1)
        expected.authorizationRules = [
            AuthorizationRule(
                keyName: "allClaims",
                rights: [.manage, .send, .listen],
                primaryKey: sanitizedKey,
                secondaryKey: sanitizedKey
            )
        ]
        expected.userMetadata = "BasicTopicCrudOperations"
        expected.supportOrdering = false
        expected.autoDeleteOnIdle = .hours(1)
        expected.maxMessageSizeInKilobytes = 100_000
        #expect(topic == expected)
    }

    @Test("CreateSubscriptionAsync carries the default rule as DefaultRuleDescription")
    func subscriptionCreate() throws {
        let subscription = try decoder.decodeSubscription(Fixture.bytes("dotnet-subscription-create-default-rule"))
        var expected = SubscriptionDescription()
        expected.lockDuration = .seconds(45)
        expected.requiresSession = true
        expected.defaultMessageTimeToLive = .days(2)
        expected.deadLetteringOnMessageExpiration = true
        expected.defaultRule = RuleDescription(filter: .trueFilter, action: .empty, name: "$Default")
        expected.maxDeliveryCount = 8
        expected.enableBatchedOperations = false
        expected.userMetadata = "BasicSubscriptionCrudOperations"
        expected.autoDeleteOnIdle = .hours(1)
        #expect(subscription == expected)
    }

    @Test("CreateRuleAsync with a correlation filter and no action element")
    func ruleCorrelationFilter() throws {
        let rule = try decoder.decodeRule(Fixture.bytes("dotnet-rule-correlation-filter"))
        var filter = CorrelationRuleFilter()
        filter.properties = [
            RuleKeyValue(key: "stringKey", value: .string("stringVal")),
            RuleKeyValue(key: "intKey", value: .int(5)),
            RuleKeyValue(key: "dateTimeKey", value: .dateTime("2020-11-20T03:31:47.3467358Z")),
        ]
        #expect(rule == RuleDescription(filter: .correlation(filter), action: .empty, name: "rule1"))
    }
}

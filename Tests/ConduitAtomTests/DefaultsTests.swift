import Foundation
import Testing

@testable import ConduitAtom

/// The defaults match what Azure reports for entities created with empty descriptions.
@Suite("Azure's defaults")
struct DefaultsTests {
    let decoder = ManagementDecoder()

    @Test("QueueDescription()")
    func queueDefaults() {
        let queue = QueueDescription()
        #expect(queue.lockDuration.description == "PT1M")
        #expect(queue.maxSizeInMegabytes == 1024)
        #expect(queue.requiresDuplicateDetection == false)
        #expect(queue.requiresSession == false)
        #expect(queue.defaultMessageTimeToLive.description == "P10675199DT2H48M5.4775807S")
        #expect(queue.deadLetteringOnMessageExpiration == false)
        #expect(queue.duplicateDetectionHistoryTimeWindow.description == "PT10M")
        #expect(queue.maxDeliveryCount == 10)
        #expect(queue.enableBatchedOperations == true)
        #expect(queue.isAnonymousAccessible == false)
        #expect(queue.authorizationRules.isEmpty)
        #expect(queue.status == .active)
        #expect(queue.userMetadata == nil)
        #expect(queue.supportOrdering == true)
        #expect(queue.autoDeleteOnIdle.isMaximum)
        #expect(queue.enablePartitioning == false)
        #expect(queue.enableExpress == false)
        #expect(queue.forwardTo == nil)
        #expect(queue.forwardDeadLetteredMessagesTo == nil)
        #expect(queue.maxMessageSizeInKilobytes == 256)
        #expect(queue.createdAt == nil && queue.updatedAt == nil && queue.accessedAt == nil)
        #expect(queue.sizeInBytes == nil && queue.messageCount == nil && queue.countDetails == nil)
        #expect(queue.entityAvailabilityStatus == .available)
    }

    @Test("equal Azure's answer to creating a queue from <QueueDescription />")
    func queueMatchesAzure() throws {
        var azure = try decoder.decodeQueue(Fixture.bytes("azure-queue-create-default"))
        azure.createdAt = nil
        azure.updatedAt = nil
        azure.sizeInBytes = nil
        azure.messageCount = nil
        #expect(azure == QueueDescription())
    }

    @Test("TopicDescription() equals Azure's answer for a topic created empty")
    func topicMatchesAzure() throws {
        let topic = TopicDescription()
        #expect(topic.defaultMessageTimeToLive.isMaximum)
        #expect(topic.maxSizeInMegabytes == 1024)
        #expect(topic.duplicateDetectionHistoryTimeWindow == .minutes(10))
        #expect(topic.enableBatchedOperations && topic.supportOrdering)
        #expect(!topic.filteringMessagesBeforePublishing && !topic.enableSubscriptionPartitioning)
        #expect(topic.maxMessageSizeInKilobytes == 256)

        var azure = try decoder.decodeTopic(Fixture.bytes("azure-topic-get"))
        azure.createdAt = nil
        azure.updatedAt = nil
        azure.sizeInBytes = nil
        azure.countDetails = nil
        azure.subscriptionCount = nil
        #expect(azure == topic)
    }

    @Test("SubscriptionDescription() equals Azure's answer for a subscription created empty")
    func subscriptionMatchesAzure() throws {
        let subscription = SubscriptionDescription()
        #expect(subscription.lockDuration == .minutes(1))
        #expect(subscription.defaultMessageTimeToLive.isMaximum && subscription.autoDeleteOnIdle.isMaximum)
        #expect(subscription.deadLetteringOnFilterEvaluationExceptions == true)
        #expect(subscription.deadLetteringOnMessageExpiration == false)
        #expect(subscription.maxDeliveryCount == 10)
        #expect(subscription.defaultRule == nil)

        var azure = try decoder.decodeSubscription(Fixture.bytes("azure-subscription-get-forwarding"))
        azure.forwardTo = nil
        azure.forwardDeadLetteredMessagesTo = nil
        azure.messageCount = nil
        azure.createdAt = nil
        azure.updatedAt = nil
        azure.accessedAt = nil
        azure.countDetails = nil
        #expect(azure == subscription)
    }

    @Test("RuleDescription() is the $Default rule: a true filter and an empty action")
    func ruleMatchesAzure() throws {
        let feed = try XMLShape.parse(Fixture.text("azure-rule-list"))
        let entry = try #require(feed.children("entry").first)
        let description = try #require(entry.child("content")?.children.first)
        var azure = try RuleDescription(decoding: description, path: "RuleDescription")
        #expect(azure.name == "$Default")
        azure.name = nil
        azure.createdAt = nil
        #expect(azure == RuleDescription())
    }

    @Test("a rule body without Filter and Action gets a true filter and an empty action")
    func ruleWithoutFilterOrAction() throws {
        let body =
            #"<entry xmlns="http://www.w3.org/2005/Atom"><content type="application/xml">"#
            + #"<RuleDescription xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect">"#
            + "<Name>bare</Name></RuleDescription></content></entry>"
        #expect(try decoder.decodeRule(body.utf8) == RuleDescription(name: "bare"))
    }

    @Test("SQL filters and actions default to compatibility level 20 and preprocessing")
    func sqlDefaults() {
        let filter = SqlRuleFilter(sqlExpression: "1=1")
        #expect(filter.compatibilityLevel == 20 && filter.requiresPreprocessing && filter.parameters.isEmpty)
        let action = SqlRuleAction(sqlExpression: "SET a = 1")
        #expect(action.compatibilityLevel == 20 && action.requiresPreprocessing && action.parameters.isEmpty)
    }

    @Test("a bare description without the Atom entry is accepted too")
    func bareDescription() throws {
        let body =
            #"<QueueDescription xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect">"#
            + "<MaxDeliveryCount>3</MaxDeliveryCount></QueueDescription>"
        var expected = QueueDescription()
        expected.maxDeliveryCount = 3
        #expect(try decoder.decodeQueue(body.utf8) == expected)
    }

    @Test("unknown elements are ignored")
    func unknownElements() throws {
        let body =
            #"<entry xmlns="http://www.w3.org/2005/Atom"><content type="application/xml">"#
            + #"<QueueDescription xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect">"#
            + "<SomethingNew>whatever<Nested/></SomethingNew><MaxDeliveryCount>4</MaxDeliveryCount>"
            + "<SkippedUpdate>false</SkippedUpdate></QueueDescription></content></entry>"
        var expected = QueueDescription()
        expected.maxDeliveryCount = 4
        #expect(try decoder.decodeQueue(body.utf8) == expected)
    }
}

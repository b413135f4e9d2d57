import Foundation
import Testing

@testable import ConduitAtom

/// Compares the encoder's entries with the entries Azure returned in the recordings: same element order
/// everywhere, and byte-identical descriptions where Azure's times have at most six fraction digits.
@Suite("Responses compared with Azure's")
struct AzureResponseTests {
    let decoder = ManagementDecoder()
    let encoder = ManagementEncoder(
        baseURL: "https://servicebustestaweyco6xnr.servicebus.windows.net",
        namespaceName: "servicebustestaweyco6xnr"
    )

    @Test("queue GET: runtime properties decode, and the description re-encodes byte for byte")
    func queueGet() throws {
        let azure = try Fixture.text("azure-queue-get")
        let queue = try decoder.decodeQueue(azure.utf8)
        #expect(sameInstant(queue.createdAt, utc(2021, 10, 21, 5, 18, 39, ms: 770)))
        #expect(sameInstant(queue.updatedAt, utc(2021, 10, 21, 5, 18, 39, ms: 903)))
        #expect(queue.accessedAt == nil)
        #expect(queue.countDetails == MessageCountDetails())
        #expect(queue.maxSizeInMegabytes == 49_152)
        #expect(queue.supportOrdering == false)
        #expect(queue.entityAvailabilityStatus == .available)

        let published = utc(2021, 10, 21, 5, 18, 39)
        let ours = encoder.queueEntry(queue, name: "iweidk", published: published, updated: published)
        #expect(try XMLShape.content(ours) == XMLShape.content(azure))
        #expect(try XMLShape.elementOrder(ours) == XMLShape.elementOrder(azure))
        #expect(try decoder.decodeQueue(ours.utf8) == queue)
    }

    @Test("queue PUT response (201): no AccessedAt or CountDetails, byte-identical description")
    func queueCreateResponse() throws {
        let azure = try Fixture.text("azure-queue-create-default")
        let queue = try decoder.decodeQueue(azure.utf8)
        let time = utc(2021, 10, 21, 5, 18, 36)
        let ours = encoder.queueEntry(queue, name: "rtofdk", published: time, updated: time)
        #expect(ours == azure, "the whole entry matches, id and links included")
    }

    @Test("queue GET with authorization rule and user metadata (.NET recording)")
    func queueWithAuthorization() throws {
        let azure = try Fixture.text("azure-queue-get-authorization")
        let queue = try decoder.decodeQueue(azure.utf8)
        let rule = try #require(queue.authorizationRules.first)
        #expect(rule.keyName == "allClaims")
        #expect(rule.rights == [.manage, .send, .listen])
        #expect(rule.primaryKey == "Ng2gPBEyDrpKa+ecgTzvbBkT444RhCXecXiWR3fMWNk=")
        #expect(queue.userMetadata == "BasicQueueCrudOperations")
        #expect(queue.status == .disabled)
        let time = utc(2021, 11, 2, 5, 9, 34)
        let ours = encoder.queueEntry(queue, name: "basicqueuecrudoperationsd1f84cea", published: time, updated: time)
        #expect(try XMLShape.content(ours) == XMLShape.content(azure))
    }

    @Test("topic GET with SubscriptionCount re-encodes byte for byte")
    func topicGet() throws {
        let azure = try Fixture.text("azure-topic-get")
        let topic = try decoder.decodeTopic(azure.utf8)
        #expect(topic.subscriptionCount == 0)
        #expect(topic.countDetails == MessageCountDetails())
        let time = utc(2021, 10, 21, 5, 22, 34)
        let ours = encoder.topicEntry(topic, name: "test_topic", published: time, updated: time)
        #expect(try XMLShape.content(ours) == XMLShape.content(azure))
        #expect(try XMLShape.elementOrder(ours) == XMLShape.elementOrder(azure))
    }

    @Test(
        "subscription GETs keep Azure's order (ForwardTo after Status, UserMetadata before CountDetails)",
        arguments: ["azure-subscription-get-forwarding", "azure-subscription-get-metadata"]
    )
    func subscriptionGet(fixture: String) throws {
        let azure = try Fixture.text(fixture)
        let subscription = try decoder.decodeSubscription(azure.utf8)
        #expect(subscription.countDetails != nil)
        let time = utc(2021, 10, 21, 5, 21, 46)
        let ours = encoder.subscriptionEntry(subscription, topicName: "t", name: "s", published: time, updated: time)
        // Azure added IsClientAffine after the 2017-04 recording; the encoder always writes it, last.
        let withoutAffinity = { (names: [String]) in names.filter { $0 != "IsClientAffine" } }
        #expect(try withoutAffinity(XMLShape.elementOrder(ours)) == withoutAffinity(XMLShape.elementOrder(azure)))
        #expect(try XMLShape.childNames(ours, of: "SubscriptionDescription").last == "IsClientAffine")
        var reparsed = try decoder.decodeSubscription(ours.utf8)
        #expect(sameInstant(reparsed.createdAt, try #require(subscription.createdAt)))
        #expect(sameInstant(reparsed.accessedAt, try #require(subscription.accessedAt)))
        (reparsed.createdAt, reparsed.updatedAt, reparsed.accessedAt) =
            (subscription.createdAt, subscription.updatedAt, subscription.accessedAt)
        #expect(reparsed == subscription, "equal apart from sub-microsecond digits of the times")
    }

    @Test("rule GET with typed properties, including a duration in the serialization namespace")
    func ruleGet() throws {
        let azure = try Fixture.text("azure-rule-get-correlation")
        let rule = try decoder.decodeRule(azure.utf8)
        guard case .correlation(let filter) = rule.filter, case .sql(let action) = rule.action else {
            Issue.record("expected a correlation filter and a SQL action, got \(rule)")
            return
        }
        #expect(
            filter.properties.map(\.value.typeName) == ["string", "int", "long", "boolean", "dateTime", "duration"]
        )
        #expect(filter.properties.last?.value == .duration(.days(1) + .hours(2) + .minutes(3)))
        #expect(action.parameters == [RuleKeyValue(key: "@param", value: .dateTime("2020-07-05T11:12:13"))])
        #expect(rule.name == "test_rule_1")

        let time = utc(2021, 10, 21, 5, 21, 19)
        let ours = encoder.ruleEntry(
            rule,
            topicName: "topic_testaddf",
            subscriptionName: "sub_testkkk",
            name: "test_rule_1",
            published: time,
            updated: time
        )
        #expect(try XMLShape.elementOrder(ours) == XMLShape.elementOrder(azure))
        var reparsed = try decoder.decodeRule(ours.utf8)
        #expect(sameInstant(reparsed.createdAt, try #require(rule.createdAt)))
        reparsed.createdAt = rule.createdAt
        #expect(reparsed == rule, "equal apart from the seventh fraction digit of CreatedAt")
    }

    @Test("rule PUT response re-encodes byte for byte apart from the 7-digit CreatedAt")
    func ruleCreateResponse() throws {
        let azure = try Fixture.text("azure-rule-create-sql")
        let rule = try decoder.decodeRule(azure.utf8)
        let createdAt = try #require(rule.createdAt)
        let time = utc(2021, 10, 21, 5, 21, 19)
        let ours = encoder.ruleEntry(
            rule,
            topicName: "topic_testaddf",
            subscriptionName: "sub_testkkk",
            name: "test_rule_2",
            published: time,
            updated: time
        )
        // Azure echoes the request path's casing; the encoder writes the .NET client's /Subscriptions/ and /Rules/.
        let expected =
            azure
            .replacingOccurrences(of: "2021-10-21T05:21:19.5942496Z", with: ManagementDate.format(createdAt))
            .replacingOccurrences(of: "/subscriptions/", with: "/Subscriptions/")
            .replacingOccurrences(of: "/rules/", with: "/Rules/")
        #expect(ours == expected)
    }

    @Test("namespace info decodes and re-encodes byte for byte")
    func namespaceInfo() throws {
        let azure = try Fixture.text("azure-namespace-info")
        let info = try decoder.decodeNamespaceInfo(azure.utf8)
        #expect(info.name == "servicebustestaweyco6xnr")
        #expect(info.messagingSKU == "Standard")
        #expect(info.namespaceType == "Messaging")
        #expect(info.alias == nil)
        #expect(info.messagingUnits == nil)
        #expect(sameInstant(info.createdTime, utc(2021, 10, 21, 5, 17, 26, ms: 170)))
        #expect(sameInstant(info.modifiedTime, utc(2021, 10, 21, 5, 17, 26, ms: 170)))
        let ours = encoder.namespaceInfoEntry(info, updated: utc(2021, 10, 21, 5, 18, 27))
        #expect(ours == azure.replacingOccurrences(of: "></link>", with: "/>"))
    }

    @Test("list feeds keep Azure's shape: title, id, updated, self link, entries with xml:base")
    func listFeeds() throws {
        let azure = try Fixture.text("azure-queue-list")
        let queue = try decoder.decodeQueue(Array(try XMLShape.content(azure).utf8))
        let time = utc(2021, 10, 21, 5, 18, 49)
        let ours = encoder.queueFeed(
            [AtomFeedItem(name: "test_queue", description: queue, published: time, updated: time)],
            page: FeedPage(),
            updated: utc(2021, 10, 21, 5, 18, 50)
        )
        #expect(try XMLShape.elementOrder(ours) == XMLShape.elementOrder(azure))
        #expect(try XMLShape.content(ours) == XMLShape.content(azure))
        let root = try XMLShape.parse(ours)
        let entryBase = root.children("entry").first?.attribute("base", namespace: ServiceBusXMLNamespace.xml)
        #expect(entryBase == root.child("id")?.text)
        #expect(ours.hasPrefix(#"<feed xmlns="http://www.w3.org/2005/Atom"><title type="text">Queues</title>"#))
    }

    @Test("the not-found feed has Azure's shape and no entries")
    func notFoundFeed() throws {
        let azure = try Fixture.text("azure-get-not-found")
        let ours = encoder.entityNotFoundFeed(updated: utc(2021, 10, 21, 5, 19, 10))
        #expect(try XMLShape.elementOrder(ours) == XMLShape.elementOrder(azure))
        #expect(try XMLShape.parse(ours).children("entry").isEmpty)
    }

    @Test("error bodies have Azure's shape")
    func errorBody() throws {
        let azure = try Fixture.text("azure-error-conflict")
        let ours = ManagementErrorBody.conflict(path: "rtofdk").xml
        #expect(try XMLShape.elementOrder(ours) == XMLShape.elementOrder(azure))
        #expect(try XMLShape.parse(ours).child("Code")?.text == "409")
        #expect(try XMLShape.parse(ours).child("Detail")?.text.hasPrefix("SubCode=40900. Conflict.") == true)
    }
}

extension ISO8601Duration {
    fileprivate static func + (lhs: ISO8601Duration, rhs: ISO8601Duration) -> ISO8601Duration {
        ISO8601Duration(ticks: lhs.ticks + rhs.ticks)
    }
}

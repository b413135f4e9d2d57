import Foundation
import Testing

@testable import ConduitAtom

@Suite("Feeds, paging and error bodies")
struct FeedAndErrorTests {
    let decoder = ManagementDecoder()
    let encoder = ManagementEncoder(baseURL: "http://127.0.0.1:8080", namespaceName: "conduit")
    let time = utc(2024, 1, 2, 3, 4, 5)

    func links(_ feed: String) throws -> [String: String] {
        var links: [String: String] = [:]
        for link in try XMLShape.parse(feed).children("link") {
            links[link.attribute("rel") ?? ""] = link.attribute("href")
        }
        return links
    }

    @Test("a last page has only a self link; a page with more adds next with $skip, $top and api-version")
    func paging() throws {
        let items = (0..<3).map {
            AtomFeedItem(name: "q\($0)", description: QueueDescription(), published: time, updated: time)
        }
        let last = encoder.queueFeed(items, page: FeedPage(skip: 100, top: 100), updated: time)
        #expect(
            try links(last) == [
                "self": "http://127.0.0.1:8080/$Resources/queues?$skip=100&$top=100&api-version=2021-05"
            ]
        )

        let first = encoder.queueFeed(items, page: FeedPage(skip: 0, top: 3, hasMore: true), updated: time)
        #expect(
            try links(first) == [
                "self": "http://127.0.0.1:8080/$Resources/queues?$skip=0&$top=3&api-version=2021-05",
                "next": "http://127.0.0.1:8080/$Resources/queues?$skip=3&$top=3&api-version=2021-05",
            ]
        )
        #expect(
            try XMLShape.childNames(first, of: "feed") == [
                "title", "id", "updated", "link", "link", "entry", "entry", "entry",
            ]
        )
        let titles = try XMLShape.parse(first).children("entry").compactMap { $0.child("title")?.text }
        #expect(titles == ["q0", "q1", "q2"])
    }

    @Test("topic, subscription and rule feeds: titles, paths, and each entry decodes")
    func otherFeeds() throws {
        let topics = encoder.topicFeed(
            [AtomFeedItem(name: "t", description: TopicDescription(), published: time, updated: time)],
            page: FeedPage(),
            updated: time
        )
        #expect(try XMLShape.parse(topics).child("title")?.text == "Topics")
        #expect(
            try links(topics)["self"] == "http://127.0.0.1:8080/$Resources/topics?$skip=0&$top=100&api-version=2021-05"
        )

        let subscriptions = encoder.subscriptionFeed(
            [AtomFeedItem(name: "s", description: SubscriptionDescription(), published: time, updated: time)],
            topicName: "t",
            page: FeedPage(),
            updated: time
        )
        #expect(try XMLShape.parse(subscriptions).child("title")?.text == "Subscriptions")
        #expect(
            try links(subscriptions)["self"]
                == "http://127.0.0.1:8080/t/Subscriptions?$skip=0&$top=100&api-version=2021-05"
        )
        let subscriptionEntry = try #require(XMLShape.parse(subscriptions).child("entry"))
        #expect(subscriptionEntry.child("author") == nil, "Azure writes no author on subscription entries")
        #expect(subscriptionEntry.child("id")?.text == "http://127.0.0.1:8080/t/Subscriptions/s?api-version=2021-05")

        let rules = encoder.ruleFeed(
            [
                AtomFeedItem(name: "$Default", description: RuleDescription(), published: time, updated: time),
                AtomFeedItem(
                    name: "red",
                    description: RuleDescription(filter: .falseFilter),
                    published: time,
                    updated: time
                ),
            ],
            topicName: "t",
            subscriptionName: "s",
            page: FeedPage(),
            updated: time
        )
        let rulesRoot = try XMLShape.parse(rules)
        #expect(rulesRoot.child("title")?.text == "Rules")
        let names = rulesRoot.children("entry").compactMap { XMLShape.find("Name", in: $0)?.text }
        #expect(names == ["$Default", "red"])
        let first = try #require(rulesRoot.children("entry").first?.child("id")?.text)
        #expect(first == "http://127.0.0.1:8080/t/Subscriptions/s/Rules/$Default?api-version=2021-05")
    }

    @Test("an empty list is a feed with a self link and no entries")
    func emptyFeed() throws {
        let feed = encoder.queueFeed([], page: FeedPage(), updated: time)
        #expect(
            feed
                == #"<feed xmlns="http://www.w3.org/2005/Atom"><title type="text">Queues</title>"#
                + #"<id>http://127.0.0.1:8080/$Resources/queues?$skip=0&amp;$top=100&amp;api-version=2021-05</id>"#
                + #"<updated>2024-01-02T03:04:05Z</updated><link rel="self" "#
                + #"href="http://127.0.0.1:8080/$Resources/queues?$skip=0&amp;$top=100&amp;api-version=2021-05"/>"#
                + "</feed>"
        )
    }

    @Test("entries carry the Atom and description namespace declarations the SDK parsers expect")
    func namespaceDeclarations() throws {
        let entry = encoder.queueEntry(QueueDescription(), name: "q", published: time, updated: time)
        #expect(entry.hasPrefix(#"<entry xmlns="http://www.w3.org/2005/Atom"><id>"#))
        #expect(
            entry.contains(
                #"<content type="application/xml"><QueueDescription xmlns="http://schemas.microsoft.com/netservices/"#
                    + #"2010/10/servicebus/connect" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">"#
            )
        )
        let root = try XMLShape.parse(entry)
        #expect(root.namespace == ServiceBusXMLNamespace.atom)
        #expect(XMLShape.find("QueueDescription", in: root)?.namespace == ServiceBusXMLNamespace.serviceBus)
        #expect(XMLShape.find("LockDuration", in: root)?.namespace == ServiceBusXMLNamespace.serviceBus)
    }

    @Test("the request body has the .NET client's shape and only settable properties")
    func requestBodyShape() throws {
        let body = encoder.requestBody(.queue(QueueDescription()))
        #expect(body.hasPrefix(#"<entry xmlns="http://www.w3.org/2005/Atom"><content type="application/xml">"#))
        let names = try XMLShape.childNames(body, of: "QueueDescription")
        for readOnly in [
            "SizeInBytes", "MessageCount", "CreatedAt", "UpdatedAt", "AccessedAt", "CountDetails",
            "EntityAvailabilityStatus",
        ] {
            #expect(!names.contains(readOnly))
        }
        #expect(names.first == "LockDuration" && names.last == "MaxMessageSizeInKilobytes")
    }

    @Test("error bodies: shape, escaping, and the decoder's message as detail")
    func errorBodies() throws {
        #expect(
            ManagementErrorBody(code: 404, detail: "a < b & c").xml
                == "<Error><Code>404</Code><Detail>a &lt; b &amp; c</Detail></Error>"
        )
        #expect(ManagementErrorBody.notFound(path: "q1").code == 404)
        #expect(ManagementErrorBody.conflict(path: "q1").detail.hasPrefix("SubCode=40900. Conflict."))
        let failure = try #require(decodeFailure("<nope/>"))
        let badRequest = ManagementErrorBody.badRequest(failure)
        #expect(badRequest.code == 400)
        #expect(badRequest.detail == "SubCode=40000. Bad Request. " + failure.message)
        #expect(try XMLShape.parse(badRequest.xml).child("Detail")?.text == badRequest.detail)
    }

    @Test("content types are Azure's")
    func contentTypes() {
        #expect(ManagementContentType.entry == "application/atom+xml;type=entry;charset=utf-8")
        #expect(ManagementContentType.feed == "application/atom+xml;type=feed;charset=utf-8")
        #expect(ManagementContentType.error == "application/xml; charset=utf-8")
        #expect(ManagementContentType.request == "application/atom+xml")
    }
}

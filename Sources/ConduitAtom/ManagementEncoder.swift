import Foundation

/// Writes management responses as Azure does: single entities as Atom `<entry>` documents and lists as Atom
/// `<feed>` documents, with each description's children in Azure's order and the namespace declarations the
/// SDK parsers expect (`xmlns` = Service Bus, `xmlns:i` = XML Schema instance on the description).
///
/// Entry shape: `<entry xmlns="http://www.w3.org/2005/Atom"><id>…</id><title type="text">name</title>`
/// `<published>…</published><updated>…</updated><author><name>namespace</name></author>`
/// `<link rel="self" href="…"/><content type="application/xml"><QueueDescription …>…</content></entry>`.
/// As on Azure, subscription and rule entries have no `author`, and the namespace entry no `published`.
public struct ManagementEncoder: Sendable {
    /// The scheme, host and port the clients call, e.g. `http://127.0.0.1:8080` (a trailing `/` is ignored).
    public var baseURL: String
    /// The namespace name, written as the entry `author` and used by nothing else.
    public var namespaceName: String
    /// The `api-version` written into links. Default `2021-05`, what the current clients send.
    public var apiVersion: String

    /// Creates an encoder for responses served at `baseURL`.
    public init(baseURL: String, namespaceName: String, apiVersion: String = "2021-05") {
        var base = baseURL
        while base.hasSuffix("/") {
            base.removeLast()
        }
        self.baseURL = base
        self.namespaceName = namespaceName
        self.apiVersion = apiVersion
    }

    /// The entry for a queue (`PUT` and `GET /{queue}`).
    public func queueEntry(_ queue: QueueDescription, name: String, published: Date, updated: Date) -> String {
        entityEntry(name: name, published: published, updated: updated) { queue.write(to: &$0, mode: .response) }
    }

    /// The entry for an event hub (`PUT` and `GET /{hub}`).
    public func eventHubEntry(_ hub: EventHubDescription, name: String, published: Date, updated: Date) -> String {
        entityEntry(name: name, published: published, updated: updated) { hub.write(to: &$0, mode: .response) }
    }

    /// The entry for a relay hybrid connection (`PUT` and `GET /{name}`).
    public func hybridConnectionEntry(
        _ relay: HybridConnectionDescription,
        name: String,
        published: Date,
        updated: Date
    ) -> String {
        entityEntry(name: name, published: published, updated: updated) { relay.write(to: &$0, mode: .response) }
    }

    /// The entry of a namespace-level entity (queue, topic, event hub, hybrid connection) named `name`.
    private func entityEntry(
        name: String,
        published: Date,
        updated: Date,
        description: (inout XMLWriter) -> Void
    ) -> String {
        document { writer in
            writeEntry(
                EntryHead(path: name, title: name, times: (published, updated), author: true),
                base: nil,
                to: &writer,
                content: description
            )
        }
    }

    /// The feed for `GET /$Resources/HybridConnections`.
    public func hybridConnectionFeed(
        _ items: [AtomFeedItem<HybridConnectionDescription>],
        page: FeedPage,
        updated: Date
    ) -> String {
        feed(title: "HybridConnections", path: "$Resources/hybridconnections", page: page, updated: updated) {
            writer,
            base in
            for item in items {
                writeEntry(
                    EntryHead(path: item.name, title: item.name, times: item.times, author: true),
                    base: base,
                    to: &writer
                ) {
                    item.description.write(to: &$0, mode: .response)
                }
            }
        }
    }

    /// The entry for a topic (`PUT` and `GET /{topic}`).
    public func topicEntry(_ topic: TopicDescription, name: String, published: Date, updated: Date) -> String {
        entityEntry(name: name, published: published, updated: updated) { topic.write(to: &$0, mode: .response) }
    }

    /// The entry for a subscription (`PUT` and `GET /{topic}/Subscriptions/{name}`).
    public func subscriptionEntry(
        _ subscription: SubscriptionDescription,
        topicName: String,
        name: String,
        published: Date,
        updated: Date
    ) -> String {
        document { writer in
            let path = Self.subscriptionsPath(topicName) + "/" + name
            writeEntry(
                EntryHead(path: path, title: name, times: (published, updated), author: false),
                base: nil,
                to: &writer
            ) {
                subscription.write(to: &$0, mode: .response)
            }
        }
    }

    /// The entry for a rule (`PUT` and `GET /{topic}/Subscriptions/{subscription}/Rules/{name}`); its `Name`
    /// is `name`.
    public func ruleEntry(
        _ rule: RuleDescription,
        topicName: String,
        subscriptionName: String,
        name: String,
        published: Date,
        updated: Date
    ) -> String {
        document { writer in
            let path = Self.rulesPath(topicName, subscriptionName) + "/" + name
            writeEntry(
                EntryHead(path: path, title: name, times: (published, updated), author: false),
                base: nil,
                to: &writer
            ) {
                rule.write(to: &$0, mode: .response, resourceName: name)
            }
        }
    }

    /// The entry for `GET /$namespaceinfo`; its title is the namespace name.
    public func namespaceInfoEntry(_ info: NamespaceInfo, updated: Date) -> String {
        document { writer in
            writeEntry(
                EntryHead(path: "$namespaceinfo", title: info.name, times: (nil, updated), author: true),
                base: nil,
                to: &writer
            ) {
                info.write(to: &$0)
            }
        }
    }

    /// The feed for `GET /$Resources/Queues`.
    public func queueFeed(_ items: [AtomFeedItem<QueueDescription>], page: FeedPage, updated: Date) -> String {
        feed(title: "Queues", path: "$Resources/queues", page: page, updated: updated) { writer, base in
            for item in items {
                writeEntry(
                    EntryHead(path: item.name, title: item.name, times: item.times, author: true),
                    base: base,
                    to: &writer
                ) {
                    item.description.write(to: &$0, mode: .response)
                }
            }
        }
    }

    /// The feed for `GET /$Resources/Topics`.
    public func topicFeed(_ items: [AtomFeedItem<TopicDescription>], page: FeedPage, updated: Date) -> String {
        feed(title: "Topics", path: "$Resources/topics", page: page, updated: updated) { writer, base in
            for item in items {
                writeEntry(
                    EntryHead(path: item.name, title: item.name, times: item.times, author: true),
                    base: base,
                    to: &writer
                ) {
                    item.description.write(to: &$0, mode: .response)
                }
            }
        }
    }

    /// The feed for `GET /{topic}/Subscriptions`.
    public func subscriptionFeed(
        _ items: [AtomFeedItem<SubscriptionDescription>],
        topicName: String,
        page: FeedPage,
        updated: Date
    ) -> String {
        let listPath = Self.subscriptionsPath(topicName)
        return feed(title: "Subscriptions", path: listPath, page: page, updated: updated) { writer, base in
            for item in items {
                let path = listPath + "/" + item.name
                writeEntry(
                    EntryHead(path: path, title: item.name, times: item.times, author: false),
                    base: base,
                    to: &writer
                ) {
                    item.description.write(to: &$0, mode: .response)
                }
            }
        }
    }

    /// The feed for `GET /{topic}/Subscriptions/{subscription}/Rules`.
    public func ruleFeed(
        _ items: [AtomFeedItem<RuleDescription>],
        topicName: String,
        subscriptionName: String,
        page: FeedPage,
        updated: Date
    ) -> String {
        let listPath = Self.rulesPath(topicName, subscriptionName)
        return feed(title: "Rules", path: listPath, page: page, updated: updated) { writer, base in
            for item in items {
                let path = listPath + "/" + item.name
                writeEntry(
                    EntryHead(path: path, title: item.name, times: item.times, author: false),
                    base: base,
                    to: &writer
                ) {
                    item.description.write(to: &$0, mode: .response, resourceName: item.name)
                }
            }
        }
    }

    /// The `200 OK` body Azure returns for a GET of an entity that does not exist: a feed without entries.
    /// Both clients turn it into "not found", as they do a `404`.
    public func entityNotFoundFeed(updated: Date) -> String {
        document { writer in
            writer.open("feed", [("xmlns", ServiceBusXMLNamespace.atom)])
            writer.leaf("title", "Publicly Listed Services", [("type", "text")])
            writer.leaf(
                "subtitle",
                "This is the list of publicly-listed services currently available.",
                [("type", "text")]
            )
            writer.leaf("id", baseURL + "/")
            writer.leaf("updated", ManagementDate.formatWholeSeconds(updated))
            writer.leaf("generator", "Service Bus 1.1")
            writer.close("feed")
        }
    }

    /// A PUT body for `entity` in the shape the .NET client sends: only settable properties, in Azure's order.
    public func requestBody(_ entity: ManagementEntity) -> String {
        document { writer in
            writer.open("entry", [("xmlns", ServiceBusXMLNamespace.atom)])
            writer.open("content", [("type", "application/xml")])
            entity.write(to: &writer, mode: .request)
            writer.close("content")
            writer.close("entry")
        }
    }

    /// The absolute URL of a resource path, with the `api-version` query.
    public func url(forPath path: String) -> String {
        baseURL + "/" + Self.escapePath(path) + "?api-version=" + apiVersion
    }

    private func document(_ build: (inout XMLWriter) -> Void) -> String {
        var writer = XMLWriter()
        build(&writer)
        return writer.output
    }

    private func feed(
        title: String,
        path: String,
        page: FeedPage,
        updated: Date,
        entries: (inout XMLWriter, String) -> Void
    ) -> String {
        let prefix = baseURL + "/" + Self.escapePath(path)
        let selfLink = prefix + "?$skip=\(page.skip)&$top=\(page.top)&api-version=" + apiVersion
        return document { writer in
            writer.open("feed", [("xmlns", ServiceBusXMLNamespace.atom)])
            writer.leaf("title", title, [("type", "text")])
            writer.leaf("id", selfLink)
            writer.leaf("updated", ManagementDate.formatWholeSeconds(updated))
            writer.empty("link", [("rel", "self"), ("href", selfLink)])
            if page.hasMore {
                let next = prefix + "?$skip=\(page.skip + page.top)&$top=\(page.top)&api-version=" + apiVersion
                writer.empty("link", [("rel", "next"), ("href", next)])
            }
            entries(&writer, selfLink)
            writer.close("feed")
        }
    }

    /// What an entry says about its resource besides the description.
    private struct EntryHead {
        var path: String
        var title: String
        var times: (published: Date?, updated: Date)
        /// Whether the entry names the namespace as `author` (queues, topics and the namespace do).
        var author: Bool
    }

    private func writeEntry(
        _ head: EntryHead,
        base: String?,
        to writer: inout XMLWriter,
        content: (inout XMLWriter) -> Void
    ) {
        let link = url(forPath: head.path)
        if let base {
            writer.open("entry", [("xml:base", base)])
        } else {
            writer.open("entry", [("xmlns", ServiceBusXMLNamespace.atom)])
        }
        writer.leaf("id", link)
        writer.leaf("title", head.title, [("type", "text")])
        if let published = head.times.published {
            writer.leaf("published", ManagementDate.formatWholeSeconds(published))
        }
        writer.leaf("updated", ManagementDate.formatWholeSeconds(head.times.updated))
        if head.author {
            writer.open("author")
            writer.leaf("name", namespaceName)
            writer.close("author")
        }
        writer.empty("link", [("rel", "self"), ("href", link)])
        writer.open("content", [("type", "application/xml")])
        content(&writer)
        writer.close("content")
        writer.close("entry")
    }

    private static func subscriptionsPath(_ topicName: String) -> String {
        topicName + "/Subscriptions"
    }

    private static func rulesPath(_ topicName: String, _ subscriptionName: String) -> String {
        subscriptionsPath(topicName) + "/" + subscriptionName + "/Rules"
    }

    /// Percent-encodes what a URL path cannot carry; `/`, `$` and the other sub-delimiters stay as they are.
    static func escapePath(_ path: String) -> String {
        var result = ""
        for byte in path.utf8 {
            let scalar = Unicode.Scalar(byte)
            let isUnreserved =
                (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || "-._~!$&'()*+,;=:@/".unicodeScalars.contains(scalar)
            if isUnreserved {
                result.unicodeScalars.append(scalar)
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                result += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return result
    }
}

extension AtomFeedItem {
    fileprivate var times: (published: Date?, updated: Date) {
        (published, updated)
    }
}

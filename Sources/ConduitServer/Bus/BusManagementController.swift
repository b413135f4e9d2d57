import ConduitAtom
import ConduitBus
import ConduitStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The Service Bus management API of the embedded namespace, as the Azure administration clients use it
/// (`ServiceBusAdministrationClient` in Python and .NET; docs/management-api.md): ATOM entries for queues, topics,
/// subscriptions, rules, event hubs and relay hybrid connections — create (`PUT`), update (`PUT` with `If-Match: *`), get, delete, list
/// (`GET /$Resources/queues|topics`, `…/Subscriptions`, `…/Rules`) and `GET /$namespaceinfo`. Needs a SAS token with
/// the Manage right.
struct BusManagementController: Sendable {
    let namespace: BusNamespace
    let namespaceName: String

    static let ifMatch = HTTPField.Name("If-Match")!

    func register(on router: Router<ConduitRequestContext>) {
        router.get("$namespaceinfo") { request, _ in try await self.namespaceInfo(request) }
        for kind in ["queues", "Queues", "topics", "Topics"] {
            router.get(RouterPath("$Resources/\(kind)")) { request, _ in
                try await self.list(request, topics: kind.lowercased() == "topics")
            }
        }
        for kind in ["hybridconnections", "HybridConnections"] {
            router.get(RouterPath("$Resources/\(kind)")) { request, _ in try await self.listRelays(request) }
        }
        router.put(":entity") { request, context in try await self.putEntity(request, context: context) }
        router.get(":entity") { request, context in try await self.getEntity(request, context: context) }
        router.delete(":entity") { request, context in try await self.deleteEntity(request, context: context) }
        for subscriptions in ["Subscriptions", "subscriptions"] {
            router.get(RouterPath(":entity/\(subscriptions)")) { request, context in
                try await self.listSubscriptions(request, context: context)
            }
            let subscription = ":entity/\(subscriptions)/:subscription"
            for method in [HTTPRequest.Method.put, .get, .delete] {
                router.on(RouterPath(subscription), method: method) { request, context in
                    try await self.subscription(request, context: context)
                }
            }
            for rules in ["Rules", "rules"] {
                router.get(RouterPath("\(subscription)/\(rules)")) { request, context in
                    try await self.listRules(request, context: context)
                }
                for method in [HTTPRequest.Method.put, .get, .delete] {
                    router.on(RouterPath("\(subscription)/\(rules)/:rule"), method: method) { request, context in
                        try await self.rule(request, context: context)
                    }
                }
            }
        }
    }

    // MARK: - Namespace, queues and topics

    private func namespaceInfo(_ request: Request) async throws -> Response {
        try await namespace.authorize(request, entity: "", right: .manage)
        let info = NamespaceInfo(name: namespaceName, createdTime: Date(), modifiedTime: Date())
        return Self.entry(encoder(request).namespaceInfoEntry(info, updated: Date()))
    }

    private func list(_ request: Request, topics: Bool) async throws -> Response {
        try await namespace.authorize(request, entity: "", right: .manage)
        let page = Self.page(request)
        let encoder = encoder(request)
        if topics {
            var items: [AtomFeedItem<ConduitAtom.TopicDescription>] = []
            for (topic, createdOn) in try await namespace.topics.topics() {
                let count = try await namespace.topics.subscriptions(of: topic.name).count
                items.append(
                    Self.item(
                        topic.name,
                        ManagementMapping.atom(topic, createdOn: createdOn, subscriptions: count),
                        createdOn
                    )
                )
            }
            let (slice, paged) = Self.slice(items, page)
            return Self.feed(encoder.topicFeed(slice, page: paged, updated: Date()))
        }
        var items: [AtomFeedItem<ConduitAtom.QueueDescription>] = []
        for (queue, createdOn) in try await namespace.queues.queues() {
            let counts = try await namespace.queues.counts(queue.name)
            items.append(
                Self.item(queue.name, ManagementMapping.atom(queue, createdOn: createdOn, counts: counts), createdOn)
            )
        }
        let (slice, paged) = Self.slice(items, page)
        return Self.feed(encoder.queueFeed(slice, page: paged, updated: Date()))
    }

    private func listRelays(_ request: Request) async throws -> Response {
        try await namespace.authorize(request, entity: "", right: .manage)
        let items = try await namespace.relays.relays().map { relay, createdOn in
            Self.item(relay.name, relayAtom(relay, createdOn: createdOn), createdOn)
        }
        let (slice, paged) = Self.slice(items, Self.page(request))
        return Self.feed(encoder(request).hybridConnectionFeed(slice, page: paged, updated: Date()))
    }

    /// A hybrid connection as the management API shows it, with the listeners connected to this node.
    private func relayAtom(_ relay: ConduitBus.HybridConnection, createdOn: Int64) -> HybridConnectionDescription {
        var atom = HybridConnectionDescription()
        atom.requiresClientAuthorization = relay.requiresClientAuthorization
        atom.userMetadata = relay.userMetadata
        atom.listenerCount = namespace.relays.hub.listenerCount(relay.name)
        atom.createdAt = Self.date(createdOn)
        atom.updatedAt = Self.date(createdOn)
        return atom
    }

    private func putEntity(_ request: Request, context: ConduitRequestContext) async throws -> Response {
        let name = try context.parameters.require("entity").lowercased()
        try await namespace.authorize(request, entity: name, right: .manage)
        let body = try await Self.body(request)
        let entity: ManagementEntity
        do {
            entity = try ManagementDecoder().decodeEntity(body.readableBytesView)
        } catch {
            return Self.error(400, "SubCode=40000. Bad Request. \(error.message)")
        }
        let update = request.headers[Self.ifMatch] != nil
        let now = Self.now()
        do {
            switch entity {
            case .queue(let atom):
                let queue = try ManagementMapping.queue(atom, name: name)
                if update {
                    try await namespace.queues.updateQueue(queue)
                } else {
                    try await namespace.queues.createQueue(queue, now: now)
                }
                let stored = try await namespace.queues.queues(named: name).first
                let entry = encoder(request).queueEntry(
                    ManagementMapping.atom(queue, createdOn: stored?.createdOn ?? now, counts: MessageCounts()),
                    name: name,
                    published: Self.date(stored?.createdOn ?? now),
                    updated: Date()
                )
                return Self.entry(entry, status: update ? .ok : .created)
            case .topic(let atom):
                let topic = try ManagementMapping.topic(atom, name: name)
                if update {
                    try await namespace.topics.updateTopic(topic)
                } else {
                    try await namespace.topics.createTopic(topic, now: now)
                }
                let entry = encoder(request).topicEntry(
                    ManagementMapping.atom(topic, createdOn: now, subscriptions: 0),
                    name: name,
                    published: Self.date(now),
                    updated: Date()
                )
                return Self.entry(entry, status: update ? .ok : .created)
            case .eventHub(let atom):
                guard !update else {
                    return Self.error(400, "SubCode=40000. Bad Request. An event hub's settings cannot be changed yet.")
                }
                let hub = ConduitBus.EventHubDescription(
                    name: name,
                    partitionCount: atom.partitionCount,
                    retentionSeconds: Double(atom.messageRetentionInDays) * 86_400
                )
                try await namespace.eventHubs.createHub(hub, now: now)
                return Self.entry(
                    encoder(request).eventHubEntry(
                        Self.atom(hub, createdOn: now),
                        name: name,
                        published: Self.date(now),
                        updated: Date()
                    ),
                    status: .created
                )
            case .hybridConnection(let atom):
                let relay = ConduitBus.HybridConnection(
                    name: name,
                    requiresClientAuthorization: atom.requiresClientAuthorization,
                    userMetadata: atom.userMetadata
                )
                if update {
                    try await namespace.relays.updateRelay(relay)
                } else {
                    try await namespace.relays.createRelay(relay, now: now)
                }
                let createdOn = try await namespace.relays.relays(named: name).first?.createdOn ?? now
                return Self.entry(
                    encoder(request).hybridConnectionEntry(
                        relayAtom(relay, createdOn: createdOn),
                        name: name,
                        published: Self.date(createdOn),
                        updated: Date()
                    ),
                    status: update ? .ok : .created
                )
            default:
                return Self.error(
                    400,
                    "SubCode=40000. Bad Request. PUT /\(name) takes a QueueDescription, TopicDescription, EventHubDescription or HybridConnectionDescription."
                )
            }
        } catch {
            return Self.failure(error, path: name)
        }
    }

    private func getEntity(_ request: Request, context: ConduitRequestContext) async throws -> Response {
        let name = try context.parameters.require("entity").lowercased()
        try await namespace.authorize(request, entity: name, right: .manage)
        if let (queue, createdOn) = try await namespace.queues.queues(named: name).first {
            let counts = try await namespace.queues.counts(name)
            return Self.entry(
                encoder(request).queueEntry(
                    ManagementMapping.atom(queue, createdOn: createdOn, counts: counts),
                    name: name,
                    published: Self.date(createdOn),
                    updated: Self.date(createdOn)
                )
            )
        }
        if let (topic, createdOn) = try await namespace.topics.topics(named: name).first {
            let count = try await namespace.topics.subscriptions(of: name).count
            return Self.entry(
                encoder(request).topicEntry(
                    ManagementMapping.atom(topic, createdOn: createdOn, subscriptions: count),
                    name: name,
                    published: Self.date(createdOn),
                    updated: Self.date(createdOn)
                )
            )
        }
        if let (hub, createdOn) = try await namespace.eventHubs.hubs(named: name).first {
            return Self.entry(
                encoder(request).eventHubEntry(
                    Self.atom(hub, createdOn: createdOn),
                    name: name,
                    published: Self.date(createdOn),
                    updated: Self.date(createdOn)
                )
            )
        }
        if let (relay, createdOn) = try await namespace.relays.relays(named: name).first {
            return Self.entry(
                encoder(request).hybridConnectionEntry(
                    relayAtom(relay, createdOn: createdOn),
                    name: name,
                    published: Self.date(createdOn),
                    updated: Self.date(createdOn)
                )
            )
        }
        // Azure answers a GET of a missing entity with an empty feed; the clients read it as "not found".
        return Self.feed(encoder(request).entityNotFoundFeed(updated: Date()))
    }

    private func deleteEntity(_ request: Request, context: ConduitRequestContext) async throws -> Response {
        let name = try context.parameters.require("entity").lowercased()
        try await namespace.authorize(request, entity: name, right: .manage)
        do {
            if try await namespace.queues.queue(name) != nil {
                try await namespace.queues.deleteQueue(name)
            } else if try await namespace.eventHubs.hub(name) != nil {
                try await namespace.eventHubs.deleteHub(name)
            } else if try await namespace.relays.relay(name) != nil {
                try await namespace.relays.deleteRelay(name)
            } else {
                try await namespace.topics.deleteTopic(name)
            }
        } catch {
            return Self.failure(error, path: name)
        }
        return Response(status: .ok)
    }

    // MARK: - Subscriptions and rules

    private func listSubscriptions(_ request: Request, context: ConduitRequestContext) async throws -> Response {
        let topic = try context.parameters.require("entity").lowercased()
        try await namespace.authorize(request, entity: topic, right: .manage)
        var items: [AtomFeedItem<ConduitAtom.SubscriptionDescription>] = []
        for subscription in try await namespace.topics.subscriptions(of: topic) {
            let counts = try await namespace.queues.counts(subscription.path)
            items.append(Self.item(subscription.name, ManagementMapping.atom(subscription, counts: counts), nil))
        }
        let (slice, page) = Self.slice(items, Self.page(request))
        return Self.feed(encoder(request).subscriptionFeed(slice, topicName: topic, page: page, updated: Date()))
    }

    private func subscription(_ request: Request, context: ConduitRequestContext) async throws -> Response {
        let topic = try context.parameters.require("entity").lowercased()
        let name = try context.parameters.require("subscription").lowercased()
        let path = TopicStore.subscriptionPath(topic: topic, subscription: name)
        try await namespace.authorize(request, entity: path, right: .manage)
        do {
            switch request.method {
            case .put:
                let body = try await Self.body(request)
                let atom: ConduitAtom.SubscriptionDescription
                do {
                    atom = try ManagementDecoder().decodeSubscription(body.readableBytesView)
                } catch {
                    return Self.error(400, "SubCode=40000. Bad Request. \(error.message)")
                }
                let description = try ManagementMapping.subscription(atom, topic: topic, name: name)
                let update = request.headers[Self.ifMatch] != nil
                if update {
                    try await namespace.topics.updateSubscription(description)
                } else {
                    let rule = try atom.defaultRule.map {
                        try ManagementMapping.rule($0, name: $0.name ?? SubscriptionRule.defaultName)
                    }
                    try await namespace.topics.createSubscription(
                        description,
                        rule: rule ?? SubscriptionRule(name: SubscriptionRule.defaultName),
                        now: Self.now()
                    )
                }
                let entry = encoder(request).subscriptionEntry(
                    ManagementMapping.atom(description, counts: MessageCounts()),
                    topicName: topic,
                    name: name,
                    published: Date(),
                    updated: Date()
                )
                return Self.entry(entry, status: update ? .ok : .created)
            case .delete:
                try await namespace.topics.deleteSubscription(topic: topic, name: name)
                return Response(status: .ok)
            default:
                guard let description = try await namespace.topics.subscription(topic: topic, name: name) else {
                    return Self.feed(encoder(request).entityNotFoundFeed(updated: Date()))
                }
                let counts = try await namespace.queues.counts(path)
                return Self.entry(
                    encoder(request).subscriptionEntry(
                        ManagementMapping.atom(description, counts: counts),
                        topicName: topic,
                        name: name,
                        published: Date(),
                        updated: Date()
                    )
                )
            }
        } catch {
            return Self.failure(error, path: path)
        }
    }

    private func listRules(_ request: Request, context: ConduitRequestContext) async throws -> Response {
        let topic = try context.parameters.require("entity").lowercased()
        let subscription = try context.parameters.require("subscription").lowercased()
        try await namespace.authorize(
            request,
            entity: TopicStore.subscriptionPath(topic: topic, subscription: subscription),
            right: .manage
        )
        do {
            guard try await namespace.topics.subscription(topic: topic, name: subscription) != nil else {
                throw BusError(.entityNotFound, "The topic '\(topic)' has no subscription '\(subscription)'.")
            }
            let items = try await namespace.topics.rules(topic: topic, subscription: subscription).map {
                Self.item($0.name, ManagementMapping.atom($0), nil)
            }
            let (slice, page) = Self.slice(items, Self.page(request))
            return Self.feed(
                encoder(request).ruleFeed(
                    slice,
                    topicName: topic,
                    subscriptionName: subscription,
                    page: page,
                    updated: Date()
                )
            )
        } catch {
            return Self.failure(error, path: "\(topic)/subscriptions/\(subscription)")
        }
    }

    private func rule(_ request: Request, context: ConduitRequestContext) async throws -> Response {
        let topic = try context.parameters.require("entity").lowercased()
        let subscription = try context.parameters.require("subscription").lowercased()
        let name = try context.parameters.require("rule")
        let path = "\(TopicStore.subscriptionPath(topic: topic, subscription: subscription))/rules/\(name)"
        try await namespace.authorize(
            request,
            entity: TopicStore.subscriptionPath(topic: topic, subscription: subscription),
            right: .manage
        )
        let encoder = encoder(request)
        do {
            switch request.method {
            case .put:
                let body = try await Self.body(request)
                let atom: RuleDescription
                do {
                    atom = try ManagementDecoder().decodeRule(body.readableBytesView)
                } catch {
                    return Self.error(400, "SubCode=40000. Bad Request. \(error.message)")
                }
                let rule: SubscriptionRule
                do {
                    rule = try ManagementMapping.rule(atom, name: name)
                } catch {
                    return Self.error(400, "SubCode=40000. Bad Request. The rule's SQL is not valid: \(error)")
                }
                if request.headers[Self.ifMatch] != nil {
                    try await namespace.topics.removeRule(name, topic: topic, subscription: subscription)
                }
                try await namespace.topics.addRule(rule, topic: topic, subscription: subscription, now: Self.now())
                let entry = encoder.ruleEntry(
                    ManagementMapping.atom(rule),
                    topicName: topic,
                    subscriptionName: subscription,
                    name: name,
                    published: Date(),
                    updated: Date()
                )
                return Self.entry(entry, status: request.headers[Self.ifMatch] != nil ? .ok : .created)
            case .delete:
                try await namespace.topics.removeRule(name, topic: topic, subscription: subscription)
                return Response(status: .ok)
            default:
                let rules = try await namespace.topics.rules(topic: topic, subscription: subscription)
                guard let rule = rules.first(where: { $0.name.lowercased() == name.lowercased() }) else {
                    return Self.feed(encoder.entityNotFoundFeed(updated: Date()))
                }
                return Self.entry(
                    encoder.ruleEntry(
                        ManagementMapping.atom(rule),
                        topicName: topic,
                        subscriptionName: subscription,
                        name: rule.name,
                        published: Date(),
                        updated: Date()
                    )
                )
            }
        } catch {
            return Self.failure(error, path: path)
        }
    }

    // MARK: - Helpers

    private static func atom(_ hub: ConduitBus.EventHubDescription, createdOn: Int64) -> ConduitAtom.EventHubDescription
    {
        var atom = ConduitAtom.EventHubDescription()
        atom.partitionCount = hub.partitionCount
        atom.messageRetentionInDays = max(1, Int((hub.retentionSeconds / 86_400).rounded(.up)))
        atom.partitionIds = (0..<hub.partitionCount).map(String.init)
        atom.createdAt = date(createdOn)
        atom.updatedAt = date(createdOn)
        return atom
    }

    private func encoder(_ request: Request) -> ManagementEncoder {
        ManagementEncoder(baseURL: request.origin, namespaceName: namespaceName)
    }

    private static func body(_ request: Request) async throws -> ByteBuffer {
        var request = request
        return try await request.collectBody(upTo: 1 << 20)
    }

    private static func page(_ request: Request) -> FeedPage {
        let skip = max(0, request.uri.queryParameters.get("$skip", as: Int.self) ?? 0)
        let top = min(max(1, request.uri.queryParameters.get("$top", as: Int.self) ?? 100), 1000)
        return FeedPage(skip: skip, top: top)
    }

    private static func slice<T>(_ items: [T], _ page: FeedPage) -> ([T], FeedPage) {
        let slice = Array(items.dropFirst(page.skip).prefix(page.top))
        return (slice, FeedPage(skip: page.skip, top: page.top, hasMore: items.count > page.skip + page.top))
    }

    private static func item<D>(_ name: String, _ description: D, _ createdOn: Int64?) -> AtomFeedItem<D> {
        let date = createdOn.map(Self.date) ?? Date()
        return AtomFeedItem(name: name, description: description, published: date, updated: date)
    }

    private static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    private static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    private static func entry(_ xml: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: ManagementContentType.entry],
            body: ResponseBody(byteBuffer: ByteBuffer(string: xml))
        )
    }

    private static func feed(_ xml: String) -> Response {
        Response(
            status: .ok,
            headers: [.contentType: ManagementContentType.feed],
            body: ResponseBody(byteBuffer: ByteBuffer(string: xml))
        )
    }

    private static func error(_ code: Int, _ detail: String) -> Response {
        Response(
            status: HTTPResponse.Status(code: code),
            headers: [.contentType: ManagementContentType.error],
            body: ResponseBody(byteBuffer: ByteBuffer(string: ManagementErrorBody(code: code, detail: detail).xml))
        )
    }

    private static func failure(_ error: any Error, path: String) -> Response {
        switch error {
        case let error as BusError:
            switch error.kind {
            case .conflict, .sessionLocked: return Self.error(409, "SubCode=40900. Conflict. \(error.message)")
            case .entityNotFound, .lockLost: return Self.error(404, "SubCode=40400. Not Found. \(error.message)")
            case .badRequest: return Self.error(400, "SubCode=40000. Bad Request. \(error.message)")
            }
        case let refusal as ManagementMapping.Refusal:
            return Self.error(400, "SubCode=40000. Bad Request. \(refusal.message)")
        default:
            // Two requests that create the same entity at once (PostgreSQL: both saw it absent): the second is a
            // conflict, as it would have been a moment later.
            if UniqueViolation.matches(error) {
                return Self.error(
                    409,
                    "SubCode=40900. Conflict. Another request created '\(path)' at the same moment; it exists now."
                )
            }
            return Self.error(500, "The operation on '\(path)' failed: \(error)")
        }
    }
}

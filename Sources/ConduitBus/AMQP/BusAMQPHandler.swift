import ConduitAMQP
import ConduitStore
import Foundation
import Logging
import NIOCore
import Synchronization

/// The embedded namespace behind one AMQP connection, as the Azure Service Bus and Event Hubs SDKs use it: SASL
/// (ANONYMOUS or MSSBCBS then a `$cbs` put-token, or PLAIN with a rule's name and key), links to queues, topics,
/// subscriptions, dead-letter sub-queues and event hubs, and the `$management` nodes.
final class BusAMQPHandler: AMQPConnectionHandler {
    let namespace: BusNamespace
    let connection: AMQPConnection
    let logger: Logger
    let state = Mutex(State())

    /// What one link is for.
    enum Link: Sendable {
        /// The client sends requests to `$cbs` or `<entity>/$management`.
        case requests(BusAMQPNode)
        /// The client receives replies from `$cbs` or `<entity>/$management` (its target is the reply address).
        case replies(BusAMQPNode, address: String?)
        /// The client sends messages to an entity or event hub partition.
        case sender(BusAMQPSender)
        /// The client receives messages from an entity or an event hub partition.
        case receiver(BusAMQPReceiver)
    }

    struct State: Sendable {
        /// SAS tokens put on `$cbs`, newest last.
        var tokens: [String] = []
        /// The rights of the rule a SASL PLAIN login named, for every entity.
        var plainRights: Set<AccessRight> = []
        var links: [AMQPLinkID: Link] = [:]
        /// Replies waiting for credit on their link.
        var pendingReplies: [AMQPLinkID: [ByteBuffer]] = [:]
        var nextTag: UInt64 = 0
    }

    init(namespace: BusNamespace, connection: AMQPConnection, logger: Logger) {
        self.namespace = namespace
        self.connection = connection
        self.logger = logger
    }

    static func nowMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    // MARK: - SASL and tokens

    func authenticate(mechanism: String, response: [UInt8]?, hostname: String?) async -> Bool {
        switch mechanism {
        case "ANONYMOUS", "MSSBCBS":
            // The client proves its rights with a token on `$cbs`.
            return true
        case "PLAIN":
            // authzid NUL authcid NUL password: a rule's name and one of its keys.
            let parts = (response ?? []).split(separator: 0, omittingEmptySubsequences: false).map {
                String(decoding: $0, as: UTF8.self)
            }
            guard parts.count == 3 else { return false }
            let (name, key) = (parts[1], parts[2])
            guard let rules = try? await namespace.cachedRules(fresh: true),
                let rule = rules.first(where: { $0.keyName == name && ($0.primaryKey == key || $0.secondaryKey == key) }
                )
            else {
                logger.info("AMQP SASL PLAIN refused", metadata: ["amqp.user": "\(name)"])
                return false
            }
            state.withLock { $0.plainRights = rule.rights }
            return true
        default:
            return false
        }
    }

    /// Checks that the connection may use `right` on `entity`: the rule of a PLAIN login, or a token put on `$cbs`.
    func authorize(_ entity: String, _ right: AccessRight) async -> AMQPError? {
        let (rights, tokens) = state.withLock { ($0.plainRights, $0.tokens) }
        if rights.contains(right) || rights.contains(.manage) { return nil }
        guard !tokens.isEmpty else {
            return AMQPError(
                condition: AMQPError.unauthorizedAccess,
                description: "Put a SAS token for '\(entity)' on $cbs first (or log in with SASL PLAIN)."
            )
        }
        var last: AMQPError?
        for token in tokens.reversed() {
            do {
                try await namespace.authorize(
                    token,
                    resource: "sb://localhost/\(entity)",
                    right: right,
                    now: Self.nowMilliseconds() / 1000
                )
                return nil
            } catch let error as AuthorizationError {
                last = AMQPError(condition: AMQPError.unauthorizedAccess, description: error.message)
            } catch {
                last = AMQPError(condition: AMQPError.internalError, description: "\(error)")
            }
        }
        return last
    }

    // MARK: - Links

    func attachRequested(_ link: AMQPLinkID, role: AMQPRole, attach: AMQPPerformative.Attach) async {
        // The node is the client's target when it sends, its source when it receives.
        let terminus = role == .receiver ? attach.target : attach.source
        guard let address = terminus.terminusAddress, let node = BusAMQPNode(address: address) else {
            connection.refuseAttach(
                link,
                error: AMQPError(condition: "amqp:invalid-field", description: "The link has no node address.")
            )
            return
        }
        // Tokens are checked against the whole address (an event hub reader's token names its consumer group).
        let resource =
            address.contains("://")
            ? SASAuthorizer.normalize(address, ignoringHost: true)
            : SASAuthorizer.normalize("sb://host/" + address, ignoringHost: true)
        do {
            switch (node, role) {
            case (.cbs, .receiver), (.management, .receiver):
                record(link, .requests(node))
                connection.acceptAttach(link)
            case (.cbs, .sender), (.management, .sender):
                record(link, .replies(node, address: attach.target.terminusAddress))
                connection.acceptAttach(link)
            case (.entity, .receiver), (.eventHubPartition, .receiver):
                if let error = await authorize(resource, .send) { throw error }
                let entity = try await resolve(node)
                let sender = BusAMQPSender(node: node, link: link, handler: self, eventHub: entity == .eventHub)
                record(link, .sender(sender))
                connection.acceptAttach(link)
            case (.entity, .sender), (.eventHubConsumer, .sender):
                if let error = await authorize(resource, .listen) { throw error }
                let entity = try await resolve(node)
                let receiver = try BusAMQPReceiver(node: node, link: link, attach: attach, handler: self)
                try checkSessions(receiver, entity)
                if receiver.sessionRequest != nil {
                    // Taking a session may wait for one: the connection goes on meanwhile.
                    Task { await self.attachSessionReceiver(receiver, attach: attach) }
                    return
                }
                if let refusal = receiver.claim() { throw refusal }
                record(link, .receiver(receiver))
                connection.acceptAttach(link)
                receiver.start()
            case (.eventHubPartition, .sender):
                throw AMQPError(
                    condition: AMQPError.notAllowed,
                    description: "Read an event hub partition through a consumer group: \(address) is for sending."
                )
            case (.eventHubConsumer, .receiver):
                throw AMQPError(
                    condition: AMQPError.notAllowed,
                    description: "\(address) is a consumer group's partition: it cannot be sent to."
                )
            }
        } catch {
            let refusal = Self.amqpError(error)
            logger.info(
                "AMQP link refused",
                metadata: ["amqp.link": "\(attach.name)", "amqp.address": "\(address)", "error": "\(refusal)"]
            )
            forget(link)
            connection.refuseAttach(link, error: refusal)
        }
    }

    /// A session receiver on a queue that requires sessions, and only there.
    private func checkSessions(_ receiver: BusAMQPReceiver, _ entity: ResolvedNode) throws {
        guard case .entity(let path) = receiver.node else { return }
        let deadLetters = QueueStore.split(path).deadLetters
        let sessionful: Bool
        if case .queue(let description) = entity { sessionful = description.isSessionful } else { sessionful = false }
        if receiver.sessionRequest != nil, !sessionful || deadLetters {
            throw AMQPError(
                condition: AMQPError.notAllowed,
                description: "'\(path)' does not require sessions: receive from it without a session."
            )
        }
        if receiver.sessionRequest == nil, sessionful, !deadLetters {
            throw AMQPError(
                condition: AMQPError.notAllowed,
                description: "'\(path)' requires sessions: receive from it with a session receiver."
            )
        }
    }

    /// Takes the session a receiver asked for (or the next available, waiting up to its `com.microsoft:timeout`),
    /// then answers the attach with the session's id in the source filter and its lock's end in the properties.
    private func attachSessionReceiver(_ receiver: BusAMQPReceiver, attach: AMQPPerformative.Attach) async {
        let link = receiver.link
        var timeout = Duration.seconds(60)
        for entry in attach.properties ?? [] where entry.key == .symbol("com.microsoft:timeout") {
            if let ms = entry.value.integer, ms > 0 { timeout = .milliseconds(ms) }
        }
        do {
            let lock = try await receiver.acquireSession(timeout: timeout)
            guard connection.isAttaching(link) else {
                // The client gave up waiting.
                receiver.stop()
                return
            }
            var source = try AMQPSource(attach.source)
            var filter = (source.filter ?? []).filter { $0.key != BusAMQPReceiver.sessionFilterKey }
            filter.append(AMQPMapEntry(BusAMQPReceiver.sessionFilterKey, .string(lock.sessionId)))
            source.filter = filter
            record(link, .receiver(receiver))
            connection.acceptAttach(
                link,
                source: source.value,
                properties: [
                    AMQPMapEntry(
                        .symbol("com.microsoft:locked-until-utc"),
                        .long(DotNetTicks.fromUnixMilliseconds(lock.lockedUntil))
                    )
                ]
            )
            receiver.start()
        } catch {
            receiver.stop()
            let refusal = Self.amqpError(error)
            logger.info(
                "AMQP session receiver refused",
                metadata: ["amqp.link": "\(attach.name)", "error": "\(refusal)"]
            )
            connection.refuseAttach(link, error: refusal)
        }
    }

    /// The receivers of this connection that hold a session of `queue`.
    func sessionReceivers(_ queue: String, sessionId: String) -> [BusAMQPReceiver] {
        state.withLock { state in
            state.links.values.compactMap {
                guard case .receiver(let receiver) = $0, receiver.session?.sessionId == sessionId,
                    QueueStore.split(receiver.node.entityPath).queue == queue
                else { return nil }
                return receiver
            }
        }
    }

    private func record(_ link: AMQPLinkID, _ kind: Link) {
        let added = state.withLock { $0.links.updateValue(kind, forKey: link) == nil }
        if added { namespace.amqpLinks.add(1) }
    }

    private func forget(_ link: AMQPLinkID) {
        let removed = state.withLock { state in
            state.pendingReplies[link] = nil
            return state.links.removeValue(forKey: link)
        }
        if removed != nil { namespace.amqpLinks.subtract(1) }
        if case .receiver(let receiver)? = removed { receiver.stop() }
    }

    /// Whether a plain entity name is an event hub (not a queue or topic of that name).
    /// What a node is on the namespace, read once per attach.
    enum ResolvedNode: Equatable {
        /// A queue or its dead-letter sub-queue, with the queue's settings.
        case queue(QueueDescription)
        /// An event hub by its name (its batches stay on one partition).
        case eventHub
        /// A topic, a subscription, an event hub partition, `$cbs` or a `$management` node.
        case other
    }

    /// Reads what `node` names; throws `amqp:not-found` when it names nothing.
    private func resolve(_ node: BusAMQPNode) async throws -> ResolvedNode {
        let exists: Bool
        var resolved = ResolvedNode.other
        switch node {
        case .entity(let path):
            let (queue, _) = QueueStore.split(path)
            let parts = queue.split(separator: "/").map(String.init)
            if parts.count == 3, parts[1] == "subscriptions" {
                // A subscription's messages are a queue of that path, with its settings (sessions among them).
                if let description = try await namespace.queues.queue(queue) {
                    exists = true
                    resolved = .queue(description)
                } else {
                    exists = false
                }
            } else if parts.count == 1 {
                if let description = try await namespace.queues.queue(parts[0]) {
                    exists = true
                    resolved = .queue(description)
                } else if queue == path, try await namespace.topics.topic(parts[0]) != nil {
                    exists = true
                } else {
                    exists = try await namespace.eventHubs.hub(parts[0]) != nil && queue == path
                    if exists { resolved = .eventHub }
                }
            } else {
                exists = false
            }
        case .eventHubPartition(let hub, let partition), .eventHubConsumer(let hub, _, let partition):
            guard let description = try await namespace.eventHubs.hub(hub) else {
                exists = false
                break
            }
            guard (0..<description.partitionCount).contains(partition) else {
                throw AMQPError(
                    condition: AMQPError.notFound,
                    description:
                        "The event hub '\(hub)' has partitions 0 to \(description.partitionCount - 1), not \(partition)."
                )
            }
            if case .eventHubConsumer(_, let group, _) = node,
                !(try await namespace.eventHubs.consumerGroups(of: hub)).contains(where: {
                    $0.lowercased() == group.lowercased()
                })
            {
                throw AMQPError(
                    condition: AMQPError.notFound,
                    description: "The event hub '\(hub)' has no consumer group '\(group)'."
                )
            }
            exists = true
        case .cbs, .management:
            exists = true
        }
        guard exists else {
            throw AMQPError(
                condition: AMQPError.notFound,
                description: "The messaging entity '\(node.entityPath)' could not be found."
            )
        }
        return resolved
    }

    func message(_ delivery: AMQPIncomingDelivery) async {
        switch state.withLock({ $0.links[delivery.link] }) {
        case .requests(let node)?:
            await BusAMQPRequests(handler: self).handle(delivery, node: node)
        case .sender(let sender)?:
            sender.enqueue(delivery)
        default:
            connection.settleIncoming(
                delivery.link,
                deliveryId: delivery.deliveryId,
                state: .rejected(
                    AMQPError(condition: AMQPError.notAllowed, description: "This link takes no messages.")
                )
            )
        }
    }

    func credit(_ link: AMQPLinkID, credit: UInt32, drain: Bool) async {
        switch state.withLock({ $0.links[link] }) {
        case .receiver(let receiver)?:
            receiver.creditChanged(drain: drain)
        case .replies?:
            flushReplies(link)
        default:
            break
        }
    }

    func settled(_ settlement: AMQPSettlement) async {
        guard case .receiver(let receiver)? = state.withLock({ $0.links[settlement.link] }) else { return }
        await receiver.settled(settlement)
    }

    func linkDetached(_ link: AMQPLinkID, error: AMQPError?) async {
        forget(link)
    }

    func connectionClosed() async {
        let links = state.withLock { state in
            defer { state.links = [:] }
            return Array(state.links.values)
        }
        namespace.amqpLinks.subtract(links.count)
        for case .receiver(let receiver) in links { receiver.stop() }
    }

    // MARK: - Replies

    /// A new delivery tag for a settled delivery (a reply, an event).
    func nextTag() -> [UInt8] {
        let tag = state.withLock { state -> UInt64 in
            state.nextTag &+= 1
            return state.nextTag
        }
        return withUnsafeBytes(of: tag.bigEndian) { Array($0) }
    }

    /// Sends a reply on the client's reply link for `node` (the one whose address is `replyTo`, if it names one),
    /// now or once the client gives credit.
    func reply(_ message: AMQPMessage, node: BusAMQPNode, replyTo: String?) {
        let link = state.withLock { state -> AMQPLinkID? in
            let candidates = state.links.filter {
                if case .replies(let target, _) = $0.value { return target == node }
                return false
            }
            if let replyTo,
                let exact = candidates.first(where: {
                    if case .replies(_, let address) = $0.value { return address == replyTo }
                    return false
                })
            {
                return exact.key
            }
            return candidates.keys.sorted { ($0.channel, $0.handle) < ($1.channel, $1.handle) }.first
        }
        guard let link else {
            logger.debug("an AMQP reply has no link to go on", metadata: ["amqp.node": "\(node)"])
            return
        }
        guard let payload = try? message.encoded() else {
            logger.warning("an AMQP reply could not be encoded", metadata: ["amqp.node": "\(node)"])
            return
        }
        state.withLock { $0.pendingReplies[link, default: []].append(payload) }
        flushReplies(link)
    }

    private func flushReplies(_ link: AMQPLinkID) {
        while true {
            let next = state.withLock { $0.pendingReplies[link]?.first }
            guard let next else { return }
            guard connection.send(link, tag: nextTag(), payload: next, settled: true) != nil else { return }
            state.withLock { _ = $0.pendingReplies[link]?.removeFirst() }
        }
    }

    func rememberToken(_ token: String) {
        state.withLock { state in
            state.tokens.removeAll { $0 == token }
            state.tokens.append(token)
            if state.tokens.count > 64 { state.tokens.removeFirst() }
        }
    }

    /// Any error as the AMQP error the peer gets: an AMQP error as it is, a bus error mapped, anything else
    /// `amqp:internal-error` (its description after `context`).
    static func amqpError(_ error: any Error, context: String = "") -> AMQPError {
        switch error {
        case let error as AMQPError: error
        case let error as BusAMQPError: error.amqpError
        case let error as BusError: amqpError(error)
        default: AMQPError(condition: AMQPError.internalError, description: context + "\(error)")
        }
    }

    /// A bus error as the AMQP error the SDKs map (service-bus-protocols.md §3.11).
    static func amqpError(_ error: BusError) -> AMQPError {
        let condition: String
        switch error.kind {
        case .entityNotFound: condition = AMQPError.notFound
        case .lockLost: condition = "com.microsoft:message-lock-lost"
        case .sessionLocked: condition = "com.microsoft:session-cannot-be-locked"
        case .conflict: condition = "com.microsoft:entity-already-exists"
        case .badRequest: condition = "com.microsoft:argument-error"
        }
        return AMQPError(condition: condition, description: error.message)
    }
}

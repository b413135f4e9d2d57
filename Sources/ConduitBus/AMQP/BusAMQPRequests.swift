import ConduitAMQP
import Foundation
import Logging
import NIOCore

/// Requests on `$cbs` (put-token) and on `<entity>/$management` (service-bus-protocols.md §3.2, §3.9, §4.4). The
/// reply goes on the client's reply link, with the request's message-id as its correlation-id (same AMQP type).
struct BusAMQPRequests {
    let handler: BusAMQPHandler

    /// A request's outcome: its status, description and body.
    struct Reply {
        var status: Int32
        var description: String?
        var body: [AMQPMapEntry]?
        var condition: String?

        static func error(_ status: Int32, _ condition: String, _ description: String) -> Reply {
            Reply(status: status, description: description, body: nil, condition: condition)
        }
    }

    func handle(_ delivery: AMQPIncomingDelivery, node: BusAMQPNode) async {
        handler.connection.settleIncoming(delivery.link, deliveryId: delivery.deliveryId, state: .accepted)
        var payload = delivery.payload
        guard let request = try? AMQPMessage.decode(&payload) else {
            handler.logger.debug("an unreadable AMQP request", metadata: ["amqp.node": "\(node)"])
            return
        }
        let operation = request.applicationProperty("operation").flatMap(\.text) ?? ""
        let reply: Reply
        // CBS and Event Hubs management answer with `status-code`; Service Bus entity management with `statusCode`.
        var hyphenated = true
        switch node {
        case .cbs:
            reply = await putToken(request, operation: operation)
        case .management(let entity):
            if operation == "READ" {
                reply = await eventHubRead(request)
            } else {
                hyphenated = false
                reply = await management(request, operation: operation, entity: entity)
            }
        default:
            return
        }
        var response = AMQPMessage(body: .value(reply.body.map { .map($0) } ?? .null))
        var properties = AMQPMessage.Properties()
        properties.correlationId = request.properties?.messageId ?? .null
        response.properties = properties
        var application: [AMQPMapEntry] = [
            AMQPMapEntry(.string(hyphenated ? "status-code" : "statusCode"), .int(reply.status))
        ]
        if let description = reply.description {
            application.append(
                AMQPMapEntry(.string(hyphenated ? "status-description" : "statusDescription"), .string(description))
            )
        }
        if let condition = reply.condition, !hyphenated {
            application.append(AMQPMapEntry(.string("errorCondition"), .symbol(condition)))
        }
        response.applicationProperties = application
        handler.reply(response, node: node, replyTo: request.properties?.replyTo)
    }

    // MARK: - $cbs

    /// `put-token`: a SAS token (whatever its `type` says) for an audience; valid if it is signed by a rule of the
    /// namespace or of the entity and has not expired.
    private func putToken(_ request: AMQPMessage, operation: String) async -> Reply {
        guard operation == "put-token" else {
            return .error(400, "amqp:not-implemented", "$cbs knows the operation put-token, not '\(operation)'.")
        }
        let audience = request.applicationProperty("name").flatMap(\.text) ?? ""
        let token: String
        switch request.body {
        case .value(.string(let text)): token = text
        case .value(.binary(let bytes)): token = String(decoding: bytes, as: UTF8.self)
        default: return .error(400, "com.microsoft:argument-error", "The put-token body must be the token string.")
        }
        var refusal = "The token is not valid for '\(audience)'."
        var status: Int32 = 401
        let path = SASAuthorizer.normalize(audience, ignoringHost: true)
        for right in [AccessRight.listen, .send, .manage] {
            do {
                try await handler.namespace.authorize(
                    token,
                    resource: "sb://localhost/\(path)",
                    right: right,
                    now: BusAMQPHandler.nowMilliseconds() / 1000
                )
                handler.rememberToken(token)
                return Reply(status: 202, description: "Accepted", body: nil, condition: nil)
            } catch let error as AuthorizationError {
                if error.kind == .unauthorized {
                    refusal = error.message
                    break
                }
                status = 403
                refusal = error.message
            } catch {
                return .error(500, AMQPError.internalError, "\(error)")
            }
        }
        return .error(status, AMQPError.unauthorizedAccess, refusal)
    }

    // MARK: - Event Hubs $management

    private func eventHubRead(_ request: AMQPMessage) async -> Reply {
        let type = request.applicationProperty("type").flatMap(\.text) ?? ""
        let hub = (request.applicationProperty("name").flatMap(\.text) ?? "").lowercased()
        if let token = request.applicationProperty("security_token").flatMap(\.text) {
            handler.rememberToken(token)
        }
        if let error = await handler.authorize(hub, .listen) {
            return .error(401, error.condition, error.errorDescription ?? "Unauthorized.")
        }
        do {
            guard let (description, createdOn) = try await handler.namespace.eventHubs.hubs(named: hub).first else {
                return .error(404, AMQPError.notFound, "The event hub '\(hub)' could not be found.")
            }
            switch type {
            case "com.microsoft:eventhub":
                return Reply(
                    status: 200,
                    description: "OK",
                    body: [
                        AMQPMapEntry(.string("name"), .string(description.name)),
                        AMQPMapEntry(.string("created_at"), .timestamp(createdOn)),
                        AMQPMapEntry(
                            .string("partition_ids"),
                            .array(
                                AMQPArray(
                                    elementCode: AMQPFormatCode.str8,
                                    elements: (0..<description.partitionCount).map { .string(String($0)) }
                                )
                            )
                        ),
                    ],
                    condition: nil
                )
            case "com.microsoft:partition":
                let text = request.applicationProperty("partition").flatMap(\.text) ?? ""
                guard let partition = Int(text), (0..<description.partitionCount).contains(partition) else {
                    return .error(404, AMQPError.notFound, "The event hub '\(hub)' has no partition '\(text)'.")
                }
                let info = try await handler.namespace.eventHubs.partitionInfo(hub: hub, partition: partition)
                let lastOffset = try await handler.namespace.eventHubs.lastOffset(hub: hub, partition: partition)
                return Reply(
                    status: 200,
                    description: "OK",
                    body: [
                        AMQPMapEntry(.string("name"), .string(description.name)),
                        AMQPMapEntry(.string("partition"), .string(text)),
                        AMQPMapEntry(.string("begin_sequence_number"), .long(max(info.beginningSequenceNumber, 0))),
                        AMQPMapEntry(.string("last_enqueued_sequence_number"), .long(info.lastSequenceNumber)),
                        AMQPMapEntry(.string("last_enqueued_offset"), .string(String(lastOffset ?? -1))),
                        AMQPMapEntry(.string("last_enqueued_time_utc"), .timestamp(info.lastEnqueuedTime)),
                        AMQPMapEntry(.string("is_partition_empty"), .boolean(info.isEmpty)),
                    ],
                    condition: nil
                )
            default:
                return .error(400, "com.microsoft:argument-error", "READ of type '\(type)' is not known.")
            }
        } catch {
            return .error(500, AMQPError.internalError, "\(error)")
        }
    }

    // MARK: - Rules

    /// add-rule and remove-rule (Manage), enumerate-rules (Listen) on a subscription.
    private func rules(
        _ operation: String,
        entity: String,
        field: (String) -> AMQPValue?
    ) async throws -> Reply {
        let (topic, subscription) = try BusAMQPRules.subscription(of: entity)
        let topics = handler.namespace.topics
        switch operation {
        case "com.microsoft:enumerate-rules":
            let skip = Int(field("skip").flatMap(\.text).flatMap(Int.init) ?? 0)
            let top = Int(field("top").flatMap(\.text).flatMap(Int.init) ?? Int(Int32.max))
            let page = try await topics.rules(topic: topic, subscription: subscription).dropFirst(max(skip, 0))
                .prefix(max(top, 0))
            // No rules (left): 204, which both SDKs read as the end; an empty list breaks their casts.
            guard !page.isEmpty else { return Reply(status: 204, description: "No Content", body: nil, condition: nil) }
            return Reply(
                status: 200,
                description: "OK",
                body: [AMQPMapEntry(.string("rules"), .list(page.map(BusAMQPRules.entry)))],
                condition: nil
            )
        default:
            if let error = await handler.authorize(entity, .manage) {
                return .error(401, error.condition, error.errorDescription ?? "Unauthorized.")
            }
            guard let name = field("rule-name")?.text, !name.isEmpty else {
                throw BusAMQPError.argument("\(operation) needs a rule-name.")
            }
            let now = BusAMQPHandler.nowMilliseconds()
            if operation == "com.microsoft:add-rule" {
                let rule = try BusAMQPRules.rule(named: name, from: field("rule-description"))
                try await topics.addRule(rule, topic: topic, subscription: subscription, now: now)
            } else {
                try await topics.removeRule(name, topic: topic, subscription: subscription)
            }
            return Reply(status: 200, description: "OK", body: [], condition: nil)
        }
    }

    // MARK: - Service Bus $management

    private func management(_ request: AMQPMessage, operation: String, entity: String) async -> Reply {
        if let error = await handler.authorize(QueueStore.split(entity).queue, .listen) {
            return .error(401, error.condition, error.errorDescription ?? "Unauthorized.")
        }
        let body: [AMQPMapEntry]
        if case .value(.map(let entries)) = request.body { body = entries } else { body = [] }
        func field(_ name: String) -> AMQPValue? {
            body.first { $0.key.text == name }?.value
        }
        let queues = handler.namespace.queues
        let now = BusAMQPHandler.nowMilliseconds()
        do {
            switch operation {
            case "com.microsoft:renew-lock":
                var expirations: [AMQPValue] = []
                for token in Self.uuids(field("lock-tokens")) {
                    expirations.append(.timestamp(try await queues.renewLock(entity, lockToken: token, now: now)))
                }
                return Reply(
                    status: 200,
                    description: "OK",
                    body: [
                        AMQPMapEntry(
                            .string("expirations"),
                            .array(AMQPArray(elementCode: AMQPFormatCode.timestamp, elements: expirations))
                        )
                    ],
                    condition: nil
                )
            case "com.microsoft:peek-message":
                let from = field("from-sequence-number")?.integer ?? 0
                let count = Int(field("message-count")?.integer ?? 1)
                let messages = try await queues.peek(entity, from: from, count: count)
                guard !messages.isEmpty else {
                    return .error(204, "com.microsoft:message-not-found", "No messages to peek.")
                }
                let list = try messages.map { message -> AMQPValue in
                    let bytes = try BusAMQPMessages.amqpMessage(message, now: now).encoded()
                    return .map([AMQPMapEntry(.string("message"), .binary(Array(bytes.readableBytesView)))])
                }
                return Reply(
                    status: 200,
                    description: "OK",
                    body: [AMQPMapEntry(.string("messages"), .list(list))],
                    condition: nil
                )
            case "com.microsoft:update-disposition":
                let status = field("disposition-status").flatMap(\.text) ?? ""
                for token in Self.uuids(field("lock-tokens")) {
                    switch status {
                    case "completed": try await queues.complete(entity, lockToken: token, now: now)
                    case "defered", "deferred": try await queues.deferMessage(entity, lockToken: token, now: now)
                    case "abandoned": try await queues.abandon(entity, lockToken: token, now: now)
                    case "suspended":
                        try await queues.deadLetter(
                            entity,
                            lockToken: token,
                            reason: field("deadletter-reason").flatMap(\.text),
                            description: field("deadletter-description").flatMap(\.text),
                            now: now
                        )
                    default:
                        return .error(
                            501,
                            "amqp:not-implemented",
                            "The disposition '\(status)' is not built yet in Conduit's AMQP server."
                        )
                    }
                }
                return Reply(status: 200, description: "OK", body: [], condition: nil)
            case "com.microsoft:schedule-message":
                guard case .list(let items)? = field("messages") ?? .list([]) else {
                    return .error(400, "com.microsoft:argument-error", "schedule-message needs a list of messages.")
                }
                var sequences: [AMQPValue] = []
                for item in items {
                    guard case .map(let entries) = item,
                        case .binary(let bytes)? = entries.first(where: { $0.key.text == "message" })?
                            .value
                    else {
                        return .error(400, "com.microsoft:argument-error", "Each scheduled message needs its bytes.")
                    }
                    var buffer = ByteBuffer(bytes: bytes)
                    let message = try BusAMQPMessages.busMessage(try AMQPMessage.decode(&buffer))
                    let numbers = try await queues.send([message], to: entity, now: now)
                    sequences.append(.long(numbers.first.flatMap { $0 } ?? -1))
                }
                return Reply(
                    status: 200,
                    description: "OK",
                    body: [
                        AMQPMapEntry(
                            .string("sequence-numbers"),
                            .array(AMQPArray(elementCode: AMQPFormatCode.long, elements: sequences))
                        )
                    ],
                    condition: nil
                )
            case "com.microsoft:receive-by-sequence-number":
                // 1 peek-lock (the default), 0 receive-and-delete.
                let peekLock = field("receiver-settle-mode")?.integer != 0
                let messages = try await queues.receiveDeferred(
                    entity,
                    sequences: Self.longs(field("sequence-numbers")),
                    peekLock: peekLock,
                    now: now
                )
                guard !messages.isEmpty else {
                    return .error(404, "com.microsoft:message-not-found", "No deferred message has those numbers.")
                }
                let list = try messages.map { message -> AMQPValue in
                    let bytes = try BusAMQPMessages.amqpMessage(message, now: now).encoded()
                    var entries = [AMQPMapEntry(.string("message"), .binary(Array(bytes.readableBytesView)))]
                    if let token = message.lockToken {
                        entries.append(AMQPMapEntry(.string("lock-token"), .uuid(token)))
                    }
                    return .map(entries)
                }
                return Reply(
                    status: 200,
                    description: "OK",
                    body: [AMQPMapEntry(.string("messages"), .list(list))],
                    condition: nil
                )
            case "com.microsoft:renew-session-lock":
                let (queue, _) = QueueStore.split(entity)
                guard let session = field("session-id").flatMap(\.text) else {
                    return .error(400, "com.microsoft:argument-error", "renew-session-lock needs a session-id.")
                }
                let until = try await queues.renewSessionLock(queue, sessionId: session, now: now)
                for receiver in handler.sessionReceivers(queue, sessionId: session) {
                    receiver.sessionRenewed(until: until)
                }
                return Reply(
                    status: 200,
                    description: "OK",
                    body: [AMQPMapEntry(.string("expiration"), .timestamp(until))],
                    condition: nil
                )
            case "com.microsoft:get-session-state":
                guard let session = field("session-id").flatMap(\.text) else {
                    return .error(400, "com.microsoft:argument-error", "get-session-state needs a session-id.")
                }
                let state = try await queues.sessionState(QueueStore.split(entity).queue, sessionId: session)
                return Reply(
                    status: 200,
                    description: "OK",
                    body: [AMQPMapEntry(.string("session-state"), state.map { .binary(Array($0)) } ?? .null)],
                    condition: nil
                )
            case "com.microsoft:set-session-state":
                guard let session = field("session-id").flatMap(\.text) else {
                    return .error(400, "com.microsoft:argument-error", "set-session-state needs a session-id.")
                }
                var state: Data?
                switch field("session-state") {
                case .binary(let bytes)?: state = Data(bytes)
                case .string(let text)?: state = Data(text.utf8)
                default: state = nil
                }
                try await queues.setSessionState(
                    QueueStore.split(entity).queue,
                    sessionId: session,
                    state: state,
                    now: now
                )
                return Reply(status: 200, description: "OK", body: [], condition: nil)
            case "com.microsoft:add-rule", "com.microsoft:remove-rule", "com.microsoft:enumerate-rules":
                return try await rules(operation, entity: entity, field: field)
            case "com.microsoft:cancel-scheduled-message":
                let numbers = Self.longs(field("sequence-numbers"))
                try await queues.cancelScheduled(entity, sequences: numbers, now: now)
                return Reply(status: 200, description: "OK", body: [], condition: nil)
            default:
                return .error(
                    501,
                    "amqp:not-implemented",
                    "The operation '\(operation)' is not built yet in Conduit's AMQP server."
                )
            }
        } catch let error as BusError {
            let amqp = BusAMQPHandler.amqpError(error)
            let status: Int32 = error.kind == .lockLost ? 410 : Int32(error.httpStatus == 410 ? 404 : error.httpStatus)
            return .error(status, amqp.condition, error.message)
        } catch let error as BusAMQPError {
            return .error(400, error.condition, error.message)
        } catch let error as FilterError {
            return .error(400, "com.microsoft:argument-error", "\(error)")
        } catch {
            return .error(500, AMQPError.internalError, "\(error)")
        }
    }

    static func uuids(_ value: AMQPValue?) -> [UUID] {
        elements(value).compactMap {
            if case .uuid(let uuid) = $0 { return uuid }
            return nil
        }
    }

    static func longs(_ value: AMQPValue?) -> [Int64] { elements(value).compactMap(\.integer) }

    static func elements(_ value: AMQPValue?) -> [AMQPValue] {
        switch value {
        case .array(let array)?: array.elements
        case .list(let items)?: items
        case let single?: [single]
        case nil: []
        }
    }
}

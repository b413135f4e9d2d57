import ConduitBus
import ConduitStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The Service Bus REST data plane for the embedded namespace's queues, as Azure defines it: send, peek-lock
/// (`POST …/messages/head`), receive-and-delete (`DELETE …/messages/head`), complete (`DELETE`), unlock (`PUT`) and
/// renew (`POST`) on `…/messages/{sequence or MessageId}/{lockToken}`; the same on `<queue>/$DeadLetterQueue`.
/// Every request carries a SAS token (`Authorization: SharedAccessSignature …`) for the resource
/// `sb://<host>/<entity>`: Send to send, Listen to receive and settle.
struct BusRESTController: Sendable {
    let namespace: BusNamespace

    static let brokerProperties = HTTPField.Name("BrokerProperties")!
    /// How often a waiting receive looks for messages it was not woken for.
    static let pollInterval: Duration = .milliseconds(200)
    /// The longest `?timeout=` a receive waits for a message.
    static let maximumWait: Duration = .seconds(60)

    func register(on router: Router<ConduitRequestContext>) {
        // Queues, and topic subscriptions (`<topic>/subscriptions/<name>`, any case), each with its dead letters.
        let sources = [":entity"] + ["subscriptions", "Subscriptions"].map { ":entity/\($0)/:subscription" }
        for source in sources {
            for prefix in ["", "/$DeadLetterQueue", "/$deadletterqueue"] {
                router.post(RouterPath("\(source)\(prefix)/messages/head")) { request, context in
                    try await self.receive(request, context: context, deadLetters: !prefix.isEmpty, delete: false)
                }
                router.delete(RouterPath("\(source)\(prefix)/messages/head")) { request, context in
                    try await self.receive(request, context: context, deadLetters: !prefix.isEmpty, delete: true)
                }
                for method in [HTTPRequest.Method.delete, .put, .post] {
                    router.on(RouterPath("\(source)\(prefix)/messages/:message/:token"), method: method) {
                        request,
                        context in
                        try await self.settle(request, context: context, deadLetters: !prefix.isEmpty)
                    }
                }
            }
        }
        // Queues, topics and event hubs; an event hub's partition, or publisher (its name is the partition key).
        router.post(":entity/messages") { request, context in try await self.send(request, context: context) }
        router.post(":entity/partitions/:partition/messages") { request, context in
            try await self.send(request, context: context)
        }
        router.post(":entity/publishers/:publisher/messages") { request, context in
            try await self.send(request, context: context)
        }
        // Conduit's own reading of event hub partitions (Azure reads them over AMQP only).
        router.get(":entity/consumergroups/:group/partitions/:partition/messages") { request, context in
            try await self.readEvents(request, context: context)
        }
        router.get(":entity/partitions/:partition") { request, context in
            try await self.partitionInfo(request, context: context)
        }
    }

    /// The entity a receive or settlement addresses: a queue or `<topic>/subscriptions/<name>`.
    private static func source(_ context: ConduitRequestContext, deadLetters: Bool) throws -> String {
        var entity = try context.parameters.require("entity")
        if let subscription = context.parameters.get("subscription") {
            entity = TopicStore.subscriptionPath(topic: entity, subscription: subscription)
        }
        return deadLetters ? entity + QueueStore.deadLetterSuffix : entity
    }

    // MARK: - Operations

    private func send(_ request: Request, context: ConduitRequestContext) async throws -> Response {
        let entity = try context.parameters.require("entity")
        try await namespace.authorize(request, entity: entity, right: .send)
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        let contentType = request.headers[.contentType] ?? ""
        var messages: [BusMessage]
        if Self.batchContentTypes.contains(where: { contentType.lowercased().hasPrefix($0) }) {
            messages = try Self.batch(Data(body.readableBytesView))
        } else {
            var message = BusMessage(body: Data(body.readableBytesView))
            message.contentType = request.headers[.contentType]
            if let text = request.headers[Self.brokerProperties] {
                try Self.apply(brokerProperties: text, to: &message)
            }
            for field in request.headers where Self.isUserProperty(field.name) {
                do {
                    message.userProperties[field.name.canonicalName] = try RESTPropertyCoding.parse(header: field.value)
                } catch {
                    throw HTTPError(.badRequest, message: "The user property header '\(field.name)' \(error.message).")
                }
            }
            messages = [message]
        }
        if let publisher = context.parameters.get("publisher") {
            for index in messages.indices { messages[index].partitionKey = publisher }
        }
        do {
            if let text = context.parameters.get("partition") {
                guard let partition = Int(text) else {
                    throw HTTPError(.badRequest, message: "The partition '\(text)' is not a number.")
                }
                try await namespace.eventHubs.send(messages, to: entity, partition: partition, now: Self.now())
                namespace.queues.arrivals.signal()
            } else {
                try await namespace.send(messages, to: entity, now: Self.now())
            }
        } catch let error as BusError {
            throw Self.httpError(error)
        }
        return Response(status: .created)
    }

    /// `GET /{hub}/consumergroups/{group}/partitions/{p}/messages?from=<sequence>&max=<n>&timeout=<s>`: a JSON
    /// array of events from that sequence number on (waiting up to `timeout` seconds for the first).
    private func readEvents(_ request: Request, context: ConduitRequestContext) async throws -> Response {
        let hub = try context.parameters.require("entity")
        try await namespace.authorize(request, entity: hub, right: .listen)
        let group = try context.parameters.require("group")
        guard let partition = Int(try context.parameters.require("partition")) else {
            throw HTTPError(.badRequest, message: "The partition must be a number.")
        }
        let from = request.uri.queryParameters.get("from", as: Int64.self) ?? 0
        let limit = request.uri.queryParameters.get("max", as: Int.self) ?? 100
        let events =
            try await poll(request) { () async throws -> [StoredEvent]? in
                let events = try await namespace.eventHubs.read(
                    hub: hub,
                    consumerGroup: group,
                    partition: partition,
                    from: from,
                    limit: limit
                )
                return events.isEmpty ? nil : events
            } ?? []
        let items: [[String: Any]] = events.map { event in
            var item: [String: Any] = [
                "SequenceNumber": event.sequenceNumber, "Offset": String(event.offset),
                "EnqueuedTimeUtc": Self.httpDate(event.enqueuedTime), "Partition": event.partition,
                "Body": event.message.body.base64EncodedString(),
            ]
            if let type = event.message.contentType { item["ContentType"] = type }
            if let key = event.message.partitionKey { item["PartitionKey"] = key }
            if let id = event.message.messageId { item["MessageId"] = id }
            item["Properties"] = event.message.userProperties.mapValues { RESTPropertyCoding.json($0) }
            return item
        }
        let data = try JSONSerialization.data(withJSONObject: items, options: [.sortedKeys])
        return Response(
            status: .ok,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    /// `GET /{hub}/partitions/{p}`: the partition's first and last sequence numbers, as JSON.
    private func partitionInfo(_ request: Request, context: ConduitRequestContext) async throws -> Response {
        let hub = try context.parameters.require("entity")
        try await namespace.authorize(request, entity: hub, right: .listen)
        guard let partition = Int(try context.parameters.require("partition")) else {
            throw HTTPError(.badRequest, message: "The partition must be a number.")
        }
        do {
            let info = try await namespace.eventHubs.partitionInfo(hub: hub, partition: partition)
            let object: [String: Any] = [
                "PartitionId": String(info.partition), "BeginningSequenceNumber": info.beginningSequenceNumber,
                "LastEnqueuedSequenceNumber": info.lastSequenceNumber, "LastEnqueuedOffset": String(info.lastOffset),
                "LastEnqueuedTimeUtc": Self.httpDate(info.lastEnqueuedTime), "IsEmpty": info.isEmpty,
            ]
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: Self.json(object)))
            )
        } catch let error as BusError {
            throw Self.httpError(error)
        }
    }

    private func receive(
        _ request: Request,
        context: ConduitRequestContext,
        deadLetters: Bool,
        delete: Bool
    ) async throws -> Response {
        let entity = try Self.source(context, deadLetters: deadLetters)
        try await namespace.authorize(request, entity: entity, right: .listen)
        let received = try await poll(request) {
            delete
                ? try await namespace.queues.receiveAndDelete(entity, now: Self.now())
                : try await namespace.queues.peekLock(entity, now: Self.now())
        }
        guard let received else { return Response(status: .noContent) }
        return response(received, request: request, entity: entity, status: delete ? .ok : .created)
    }

    /// Looks with `look` until it finds something or the request's `?timeout=` seconds (at most ``maximumWait``)
    /// pass; `nil` then. Woken by a send on this node; other nodes' sends, scheduled messages and expired locks show
    /// at the next poll. A ``BusError`` becomes its HTTP status.
    private func poll<Found>(_ request: Request, _ look: () async throws -> Found?) async throws -> Found? {
        let timeout = request.uri.queryParameters.get("timeout", as: Int.self).map { Duration.seconds($0) } ?? .zero
        let deadline = ContinuousClock.now + min(timeout, Self.maximumWait)
        while true {
            let seen = namespace.queues.arrivals.generation
            do {
                if let found = try await look() { return found }
            } catch let error as BusError {
                throw Self.httpError(error)
            }
            let now = ContinuousClock.now
            guard now < deadline else { return nil }
            await namespace.queues.arrivals.wait(after: seen, timeout: min(deadline - now, Self.pollInterval))
            try Task.checkCancellation()
        }
    }

    private func settle(_ request: Request, context: ConduitRequestContext, deadLetters: Bool) async throws -> Response
    {
        let entity = try Self.source(context, deadLetters: deadLetters)
        try await namespace.authorize(request, entity: entity, right: .listen)
        let tokenText = try context.parameters.require("token")
        guard let token = UUID(uuidString: tokenText) else {
            throw HTTPError(.badRequest, message: "The lock token '\(tokenText)' is not a GUID.")
        }
        do {
            switch request.method {
            case .delete: try await namespace.queues.complete(entity, lockToken: token, now: Self.now())
            case .put: try await namespace.queues.abandon(entity, lockToken: token, now: Self.now())
            default:
                let until = try await namespace.queues.renewLock(entity, lockToken: token, now: Self.now())
                var headers = HTTPFields()
                headers[Self.brokerProperties] = Self.json(["LockedUntilUtc": Self.httpDate(until)])
                return Response(status: .ok, headers: headers)
            }
        } catch let error as BusError {
            throw Self.httpError(error)
        }
        return Response(status: .ok)
    }

    // MARK: - Helpers

    private func response(
        _ received: ReceivedMessage,
        request: Request,
        entity: String,
        status: HTTPResponse.Status
    ) -> Response {
        var properties: [String: Any] = [
            "DeliveryCount": received.deliveryCount, "SequenceNumber": received.sequenceNumber,
            "EnqueuedSequenceNumber": received.sequenceNumber, "EnqueuedTimeUtc": Self.httpDate(received.enqueuedTime),
            "State": "Active",
        ]
        let message = received.message
        if let value = message.messageId { properties["MessageId"] = value }
        if let value = message.label { properties["Label"] = value }
        if let value = message.correlationId { properties["CorrelationId"] = value }
        if let value = message.sessionId { properties["SessionId"] = value }
        if let value = message.to { properties["To"] = value }
        if let value = message.replyTo { properties["ReplyTo"] = value }
        if let expires = received.expiresAt {
            properties["TimeToLive"] = Double(expires - received.enqueuedTime) / 1000
        }
        var headers = HTTPFields()
        if let token = received.lockToken, let until = received.lockedUntil {
            properties["LockToken"] = token.uuidString.lowercased()
            properties["LockedUntilUtc"] = Self.httpDate(until)
            headers[.location] =
                "\(request.origin)/\(entity.replacingOccurrences(of: QueueStore.deadLetterSuffix, with: "/$DeadLetterQueue"))/messages/\(received.sequenceNumber)/\(token.uuidString.lowercased())"
        }
        headers[Self.brokerProperties] = Self.json(properties)
        if let type = message.contentType { headers[.contentType] = type }
        for (name, value) in message.userProperties.sorted(by: { $0.key < $1.key }) {
            // Names HTTP cannot carry (the Claims keys hold ':' and '/') are left out, as Azure leaves them out.
            if let field = HTTPField.Name(name), let text = RESTPropertyCoding.header(value) { headers[field] = text }
        }
        if let reason = received.deadLetterReason { headers[HTTPField.Name("DeadLetterReason")!] = "\"\(reason)\"" }
        if let text = received.deadLetterErrorDescription {
            headers[HTTPField.Name("DeadLetterErrorDescription")!] = "\"\(text)\""
        }
        return Response(
            status: status,
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: message.body))
        )
    }

    /// A batch: a JSON array of `{"Body": "…", "BrokerProperties": {…}, "UserProperties": {…}}` (both content types
    /// Azure has documented).
    static let batchContentTypes = [
        "application/vnd.microsoft.servicebus.json", "application/vnd.microsoft.servicebus.yml",
    ]

    static func batch(_ data: Data) throws -> [BusMessage] {
        guard let items = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]], !items.isEmpty else {
            throw HTTPError(
                .badRequest,
                message:
                    "A batch must be a non-empty JSON array of {\"Body\": …, \"BrokerProperties\": …, \"UserProperties\": …}."
            )
        }
        return try items.enumerated().map { index, item in
            guard let body = item["Body"] as? String else {
                throw HTTPError(.badRequest, message: "Message \(index + 1) of the batch has no Body string.")
            }
            var message = BusMessage(body: Data(body.utf8))
            if let properties = item["BrokerProperties"] {
                guard let object = properties as? [String: Any] else {
                    throw HTTPError(.badRequest, message: "Message \(index + 1): BrokerProperties must be an object.")
                }
                try apply(brokerProperties: object, to: &message)
            }
            if let properties = item["UserProperties"] {
                guard let object = properties as? [String: Any] else {
                    throw HTTPError(.badRequest, message: "Message \(index + 1): UserProperties must be an object.")
                }
                for (name, value) in object {
                    do {
                        message.userProperties[name] = try RESTPropertyCoding.parse(json: value)
                    } catch {
                        throw HTTPError(
                            .badRequest,
                            message: "Message \(index + 1): the user property '\(name)' \(error)."
                        )
                    }
                }
            }
            return message
        }
    }

    /// Reads the settable `BrokerProperties`; get-only and unknown ones are ignored, as Azure does.
    static func apply(brokerProperties text: String, to message: inout BusMessage) throws {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw HTTPError(.badRequest, message: "The BrokerProperties header is not a JSON object.")
        }
        try apply(brokerProperties: object, to: &message)
    }

    static func apply(brokerProperties object: [String: Any], to message: inout BusMessage) throws {
        func string(_ name: String) throws -> String? {
            guard let value = object[name] else { return nil }
            guard let text = value as? String else {
                throw HTTPError(.badRequest, message: "BrokerProperties.\(name) must be a string.")
            }
            return text
        }
        message.messageId = try string("MessageId")
        message.label = try string("Label")
        message.correlationId = try string("CorrelationId")
        message.sessionId = try string("SessionId")
        message.to = try string("To")
        message.replyTo = try string("ReplyTo")
        // Not one of Azure's REST broker properties (a single send carries it as the HTTP Content-Type), but the only
        // way a batch entry can say it: Conduit's posts to a remote namespace send one.
        if let type = try string("ContentType") { message.contentType = type }
        message.partitionKey = try string("PartitionKey")
        if let value = object["TimeToLive"] {
            guard let seconds = (value as? NSNumber)?.doubleValue, seconds > 0 else {
                throw HTTPError(
                    .badRequest,
                    message: "BrokerProperties.TimeToLive must be a positive number of seconds."
                )
            }
            message.timeToLiveSeconds = seconds
        }
        if let text = try string("TimeToLiveTimeSpan") {
            guard let seconds = timeSpanSeconds(text), seconds > 0 else {
                throw HTTPError(
                    .badRequest,
                    message:
                        "BrokerProperties.TimeToLiveTimeSpan must be a positive [d.]hh:mm:ss time span, not '\(text)'."
                )
            }
            message.timeToLiveSeconds = seconds
        }
        if let text = try string("ScheduledEnqueueTimeUtc") {
            guard let milliseconds = HTTPDate.parse(text) else {
                throw HTTPError(
                    .badRequest,
                    message:
                        "BrokerProperties.ScheduledEnqueueTimeUtc must be an RFC 2616 date, like 'Sun, 06 Nov 1994 08:49:37 GMT'."
                )
            }
            message.scheduledEnqueueTime = milliseconds
        }
    }

    /// `0.00:00:40` or `00:00:40.5` → seconds.
    static func timeSpanSeconds(_ text: String) -> Double? {
        var days = 0.0
        var rest = Substring(text)
        if let dot = rest.firstIndex(of: "."), let colon = rest.firstIndex(of: ":"), dot < colon {
            guard let value = Double(rest[..<dot]) else { return nil }
            days = value
            rest = rest[rest.index(after: dot)...]
        }
        let parts = rest.split(separator: ":")
        guard parts.count == 3, let hours = Double(parts[0]), let minutes = Double(parts[1]),
            let seconds = Double(parts[2])
        else { return nil }
        return days * 86400 + hours * 3600 + minutes * 60 + seconds
    }

    /// Headers that are not HTTP's own or Service Bus's carry user properties.
    static func isUserProperty(_ name: HTTPField.Name) -> Bool {
        let reserved: Set<String> = [
            "authorization", "content-type", "content-length", "host", "brokerproperties", "connection", "expect",
            "user-agent", "accept", "accept-encoding", "date", "transfer-encoding", "x-ms-retrypolicy", "keep-alive",
        ]
        return !reserved.contains(name.canonicalName)
    }

    static func unquote(_ value: String) -> String {
        value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"")
            ? String(value.dropFirst().dropLast()) : value
    }

    static func httpError(_ error: BusError) -> HTTPError {
        HTTPError(HTTPResponse.Status(code: error.httpStatus), message: error.message)
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    static func httpDate(_ milliseconds: Int64) -> String {
        HTTPDate.format(milliseconds)
    }

    static func json(_ object: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

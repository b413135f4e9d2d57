import ConduitBus
import ConduitPlatform
import ConduitStore
import Foundation
import Hummingbird
import NIOCore
import NIOFoundationCompat
import SQLKit

extension ConsoleController {
    struct BusOverview: Encodable {
        struct Counts: Encodable {
            var name: String
            var path: String
            var active: Int
            var scheduled: Int
            var deadLettered: Int
        }
        struct Topic: Encodable {
            var name: String
            var subscriptions: [Counts]
        }
        struct Partition: Encodable {
            var id: String
            var count: Int64
            var lastSequence: Int64
        }
        struct EventHub: Encodable {
            var name: String
            var partitions: [Partition]
        }
        struct Relay: Encodable {
            var name: String
            var listeners: Int
        }
        var queues: [Counts] = []
        var topics: [Topic] = []
        var eventHubs: [EventHub] = []
        var relays: [Relay] = []
    }

    func requireBus() throws -> BusNamespace {
        guard let bus else { throw WebAPIError.notFound("This server has no embedded bus.") }
        return bus
    }

    /// `GET /api/console/bus`: every entity of the embedded bus with its message counts.
    func busEntities() async throws -> Response {
        let bus = try requireBus()
        var overview = BusOverview()
        var subscriptions: [String: [BusOverview.Counts]] = [:]
        for source in try await bus.messageSources() {
            let entry = BusOverview.Counts(
                name: source.name,
                path: source.path,
                active: source.counts.active,
                scheduled: source.counts.scheduled,
                deadLettered: source.counts.deadLettered
            )
            if let topic = source.topic {
                subscriptions[topic, default: []].append(entry)
            } else {
                overview.queues.append(entry)
            }
        }
        for (topic, _) in try await bus.topics.topics() {
            overview.topics.append(.init(name: topic.name, subscriptions: subscriptions[topic.name] ?? []))
        }
        for (hub, _) in try await bus.eventHubs.hubs() {
            var partitions: [BusOverview.Partition] = []
            for partition in 0..<hub.partitionCount {
                let info = try await bus.eventHubs.partitionInfo(hub: hub.name, partition: partition)
                partitions.append(
                    .init(
                        id: String(partition),
                        count: info.isEmpty ? 0 : info.lastSequenceNumber - info.beginningSequenceNumber + 1,
                        lastSequence: info.lastSequenceNumber
                    )
                )
            }
            overview.eventHubs.append(.init(name: hub.name, partitions: partitions))
        }
        for (relay, _) in try await bus.relays.relays() {
            overview.relays.append(.init(name: relay.name, listeners: bus.relays.hub.listenerCount(relay.name)))
        }
        return try Self.json(overview)
    }

    struct PeekedMessage: Encodable {
        var sequence: Int64
        var messageId: String?
        var enqueued: String
        var deliveryCount: Int
        var contentType: String?
        var label: String?
        var correlationId: String?
        var sessionId: String?
        var deadLetterReason: String?
        var deadLetterDescription: String?
        var properties: [String: String]
        var body: String
        var bodyIsBase64: Bool
        var size: Int

        init(_ message: BusMessage, sequence: Int64, enqueued: Int64, deliveryCount: Int) {
            self.sequence = sequence
            messageId = message.messageId
            self.enqueued = ConsoleText.iso(milliseconds: enqueued)
            self.deliveryCount = deliveryCount
            contentType = message.contentType
            label = message.label
            correlationId = message.correlationId
            sessionId = message.sessionId
            properties = message.userProperties.mapValues(Self.text)
            size = message.body.count
            // The first 64 kB: as text when it is UTF-8, else as base64.
            let head = message.body.prefix(65_536)
            if let text = String(data: head, encoding: .utf8) {
                body = text
                bodyIsBase64 = false
            } else {
                body = head.base64EncodedString()
                bodyIsBase64 = true
            }
        }

        static func text(_ value: PropertyValue) -> String {
            switch value {
            case .null: "null"
            case .string(let text): text
            case .int64(let number): String(number)
            case .double(let number): String(number)
            case .bool(let flag): String(flag)
            case .date(let date): ConsoleText.iso(milliseconds: Int64(date.timeIntervalSince1970 * 1000))
            case .duration(let duration): "\(duration)"
            case .uuid(let uuid): uuid.uuidString.lowercased()
            }
        }
    }

    /// `GET /api/console/bus/messages?entity=…&deadLetter=true&from=0&count=50[&partition=0]`: peeks at messages
    /// without locking them (an event hub's partition with `partition`).
    func busMessages(_ request: Request) async throws -> Response {
        let bus = try requireBus()
        let query = request.uri.queryParameters
        guard let entity = query.get("entity"), !entity.isEmpty else {
            throw WebAPIError.badRequest("entity: give a queue's name, a subscription's path or an event hub's name.")
        }
        let from = Int64(query.get("from") ?? "0") ?? -1
        let count = Int(query.get("count") ?? "50") ?? -1
        guard from >= 0 else { throw WebAPIError.badRequest("from: a sequence number (0 or more).") }
        guard (1...500).contains(count) else { throw WebAPIError.badRequest("count: a number from 1 to 500.") }
        var messages: [PeekedMessage] = []
        if let partitionText = query.get("partition") {
            guard let partition = Int(partitionText), partition >= 0 else {
                throw WebAPIError.badRequest("partition: '\(partitionText)' is not a partition number.")
            }
            messages = try await bus.eventHubs.read(hub: entity, partition: partition, from: from, limit: count).map {
                PeekedMessage($0.message, sequence: $0.sequenceNumber, enqueued: $0.enqueuedTime, deliveryCount: 0)
            }
        } else {
            let deadLetter = query.get("deadLetter") == "true"
            let path = deadLetter ? entity + QueueStore.deadLetterSuffix : entity
            messages = try await bus.queues.peek(path, from: from, count: count).map {
                var message = PeekedMessage(
                    $0.message,
                    sequence: $0.sequenceNumber,
                    enqueued: $0.enqueuedTime,
                    deliveryCount: $0.deliveryCount
                )
                message.deadLetterReason = $0.deadLetterReason
                message.deadLetterDescription = $0.deadLetterErrorDescription
                return message
            }
        }
        return try Self.json(["messages": messages])
    }

    struct DeadLetterAction: Decodable {
        var entity: String
        var action: String
        var sequences: [Int64]?
    }

    /// `POST /api/console/bus/deadletters`: resubmits or purges dead letters (the given ones, or all).
    func deadLetters(_ request: Request) async throws -> Response {
        let bus = try requireBus()
        let body = try await Self.body(request, as: DeadLetterAction.self)
        let count: Int
        switch body.action {
        case "resubmit":
            count = try await bus.queues.resubmitDeadLetters(
                body.entity,
                sequences: body.sequences,
                now: Int64(Date().timeIntervalSince1970 * 1000)
            )
        case "purge":
            count = try await bus.queues.purgeDeadLetters(body.entity, sequences: body.sequences)
        default:
            throw WebAPIError.badRequest("action: '\(body.action)' is neither resubmit nor purge.")
        }
        return try Self.json(["count": count])
    }
}

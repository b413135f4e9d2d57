import ConduitAMQP
import ConduitStore
import Foundation
import SQLKit

/// Where an event hub reader starts, from its source's selector filter (service-bus-protocols.md §4.2):
/// `amqp.annotation.x-opt-offset > '-1'`, `… x-opt-sequence-number >= '5'`, `… x-opt-enqueued-time > '<ms>'`, or the
/// offset `@latest`.
public enum EventPosition: Sendable, Hashable {
    case beginning
    case latest
    case offset(Int64, inclusive: Bool)
    case sequenceNumber(Int64, inclusive: Bool)
    case enqueuedTime(Int64, inclusive: Bool)

    /// Reads the selector filter of a source terminus; no filter starts at the beginning.
    init(source: AMQPValue) throws {
        guard let expression = (try? AMQPSource(source))?.selector else {
            self = .beginning
            return
        }
        try self.init(expression: expression)
    }

    /// Reads a selector expression.
    init(expression: String) throws {
        let pattern = #/^\s*amqp\.annotation\.x-opt-(offset|sequence-number|enqueued-time)\s*(>=|>)\s*'([^']*)'\s*$/#
        guard let match = expression.wholeMatch(of: pattern) else {
            throw AMQPError(
                condition: "amqp:invalid-field",
                description: "The event position filter '\(expression)' is not one of the forms the SDKs send."
            )
        }
        let inclusive = match.2 == ">="
        let text = String(match.3)
        switch match.1 {
        case "offset":
            if text == "@latest" {
                self = .latest
            } else if let offset = Int64(text) {
                self = offset < 0 ? .beginning : .offset(offset, inclusive: inclusive)
            } else {
                throw AMQPError(condition: "amqp:invalid-field", description: "'\(text)' is not an event offset.")
            }
        case "sequence-number":
            guard let number = Int64(text) else {
                throw AMQPError(condition: "amqp:invalid-field", description: "'\(text)' is not a sequence number.")
            }
            self = .sequenceNumber(number, inclusive: inclusive)
        default:
            guard let ms = Int64(text) else {
                throw AMQPError(condition: "amqp:invalid-field", description: "'\(text)' is not a time in ms.")
            }
            self = .enqueuedTime(ms, inclusive: inclusive)
        }
    }
}

extension EventHubStore {
    /// The sequence number of the first event a reader starting at `position` gets.
    public func startSequence(hub: String, partition: Int, position: EventPosition) async throws -> Int64 {
        let name = hub.lowercased()
        let info = try await partitionInfo(hub: name, partition: partition)
        let after = info.lastSequenceNumber + 1
        let condition: SQLQueryString
        switch position {
        case .beginning: return 0
        case .latest: return after
        case .sequenceNumber(let number, let inclusive): return inclusive ? number : number + 1
        case .offset(let offset, let inclusive):
            condition = inclusive ? "byteoffset >= \(bind: offset)" : "byteoffset > \(bind: offset)"
        case .enqueuedTime(let ms, let inclusive):
            condition = inclusive ? "enqueued >= \(bind: ms)" : "enqueued > \(bind: ms)"
        }
        return try await store.withDatabase { db in
            let row = try await db.raw(
                "SELECT MIN(sequence) AS first FROM conduit_bus_event WHERE hub = \(bind: name) "
                    + "AND partitionid = \(bind: partition) AND " + condition
            ).first()
            return try row?.decode(column: "first", as: Int64?.self) ?? after
        }
    }
}

/// Stored events as AMQP messages (service-bus-protocols.md §4.3).
enum BusAMQPEvents {
    static func amqpMessage(_ event: StoredEvent) -> AMQPMessage {
        let message = event.message
        var result = AMQPMessage(body: .data([Array(message.body)]))
        if message.messageId != nil || message.contentType != nil || message.correlationId != nil {
            var properties = AMQPMessage.Properties()
            properties.messageId = message.messageId.map { .string($0) } ?? .null
            properties.correlationId = message.correlationId.map { .string($0) } ?? .null
            properties.contentType = message.contentType
            result.properties = properties
        }
        var annotations: [AMQPMapEntry] = [
            AMQPMapEntry(.symbol("x-opt-sequence-number"), .long(event.sequenceNumber)),
            AMQPMapEntry(.symbol("x-opt-offset"), .string(String(event.offset))),
            AMQPMapEntry(.symbol("x-opt-enqueued-time"), .timestamp(event.enqueuedTime)),
        ]
        if let key = message.partitionKey {
            annotations.append(AMQPMapEntry(.symbol("x-opt-partition-key"), .string(key)))
        }
        result.messageAnnotations = annotations
        let application = message.userProperties.sorted { $0.key < $1.key }.map {
            AMQPMapEntry(.string($0.key), BusAMQPMessages.amqpValue($0.value))
        }
        if !application.isEmpty { result.applicationProperties = application }
        return result
    }
}

extension EventHubStore {
    /// The offset of a partition's last event; `nil` when it has none.
    public func lastOffset(hub: String, partition: Int) async throws -> Int64? {
        let name = hub.lowercased()
        return try await store.withDatabase { db in
            let row = try await db.raw(
                """
                SELECT byteoffset FROM conduit_bus_event WHERE hub = \(bind: name) AND partitionid = \(bind: partition) \
                ORDER BY sequence DESC LIMIT 1
                """
            ).first()
            return try row?.decode(column: "byteoffset", as: Int64.self)
        }
    }
}

extension EventHubStore {
    /// Appends a batch to one partition, as Event Hubs keeps a batch together: the partition of the first event's
    /// partition key, or the next in turn.
    public func sendBatch(_ messages: [BusMessage], to hub: String, now: Int64) async throws {
        guard let description = try await self.hub(hub) else { throw Self.missing(hub.lowercased()) }
        let partition =
            messages.first?.partitionKey.map { Self.partition(forKey: $0, count: description.partitionCount) }
            ?? roundRobin.next(description.partitionCount)
        _ = try await send(messages, to: hub, partition: partition, now: now)
    }
}

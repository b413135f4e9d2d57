import ConduitAMQP
import Foundation

/// What an AMQP link address names on the embedded namespace (service-bus-protocols.md §3.3, §4.1): the address may
/// carry `amqps://host[:port]/` in front, and is matched without regard to case.
enum BusAMQPNode: Sendable, Hashable {
    /// The claims-based-security node, `$cbs`.
    case cbs
    /// An entity's request/response node, `<entity>/$management` (or the namespace's, `$management`).
    case management(entity: String)
    /// A queue, a topic, `<topic>/subscriptions/<name>`, or either's `/$deadletterqueue`.
    case entity(String)
    /// An event hub partition a producer sends to, `<hub>/partitions/<id>`.
    case eventHubPartition(hub: String, partition: Int)
    /// An event hub partition a consumer group reads, `<hub>/consumergroups/<group>/partitions/<id>`.
    case eventHubConsumer(hub: String, group: String, partition: Int)

    /// Reads an address; `nil` for an empty one.
    init?(address: String) {
        var path = Substring(address)
        if let scheme = path.range(of: "://") {
            path = path[scheme.upperBound...]
            guard let slash = path.firstIndex(of: "/") else { return nil }
            path = path[path.index(after: slash)...]
        }
        while path.hasPrefix("/") { path = path.dropFirst() }
        while path.hasSuffix("/") { path = path.dropLast() }
        guard !path.isEmpty else { return nil }
        let lower = path.lowercased()
        let parts = lower.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if lower == "$cbs" {
            self = .cbs
        } else if parts.last == "$management" {
            self = .management(entity: parts.dropLast().joined(separator: "/"))
        } else if parts.count == 3, parts[1] == "partitions", let id = Int(parts[2]) {
            self = .eventHubPartition(hub: parts[0], partition: id)
        } else if parts.count == 5, parts[1] == "consumergroups", parts[3] == "partitions", let id = Int(parts[4]) {
            // Consumer group names keep their case ($Default).
            let original = path.split(separator: "/").map(String.init)
            self = .eventHubConsumer(hub: parts[0], group: original[2], partition: id)
        } else {
            self = .entity(lower)
        }
    }

    /// The entity a token must cover for this node (`""` for the namespace itself).
    var entityPath: String {
        switch self {
        case .cbs: ""
        case .management(let entity): entity
        case .entity(let path): path
        case .eventHubPartition(let hub, _), .eventHubConsumer(let hub, _, _): hub
        }
    }
}

extension AMQPValue {
    /// The `address` of a source or target terminus (a string, or a symbol from some clients).
    var terminusAddress: String? {
        guard case .described(_, .list(let fields)) = self, let first = fields.first else { return nil }
        switch first {
        case .string(let text), .symbol(let text): return text
        default: return nil
        }
    }
}

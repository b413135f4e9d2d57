import ConduitAMQP
import Synchronization

/// The readers of each event hub partition and consumer group on this server, with their owner level (epoch): a
/// reader with a higher level takes the partition from the others, which are disconnected with `amqp:link:stolen`;
/// a reader with a lower level, or without one while an owner reads, is refused.
public final class EventHubOwnership: Sendable {
    struct Key: Hashable {
        var hub: String
        var group: String
        var partition: Int
    }

    struct Reader {
        var epoch: Int64?
        var disconnect: @Sendable (AMQPError) -> Void
    }

    private let readers = Mutex<[Key: [ObjectIdentifier: Reader]]>([:])

    public init() {}

    /// Registers a reader; returns the error that refuses it, if it may not read.
    func register(
        hub: String,
        group: String,
        partition: Int,
        epoch: Int64?,
        id: ObjectIdentifier,
        disconnect: @escaping @Sendable (AMQPError) -> Void
    ) -> AMQPError? {
        let key = Key(hub: hub.lowercased(), group: group.lowercased(), partition: partition)
        let (refusal, stolen) = readers.withLock { all -> (AMQPError?, [Reader]) in
            var current = all[key] ?? [:]
            let highest = current.values.compactMap(\.epoch).max()
            if let highest, (epoch ?? Int64.min) < highest {
                let level = epoch.map { "owner level \($0)" } ?? "no owner level"
                return (
                    AMQPError(
                        condition: "amqp:link:stolen",
                        description:
                            "A reader with owner level \(highest) holds partition \(partition) of '\(hub)' in consumer group '\(group)'; this one has \(level)."
                    ), []
                )
            }
            var stolen: [Reader] = []
            if let epoch {
                for (other, reader) in current where (reader.epoch ?? Int64.min) < epoch {
                    stolen.append(reader)
                    current[other] = nil
                }
            }
            current[id] = Reader(epoch: epoch, disconnect: disconnect)
            all[key] = current
            return (nil, stolen)
        }
        for reader in stolen {
            reader.disconnect(
                AMQPError(
                    condition: "amqp:link:stolen",
                    description:
                        "A reader with owner level \(epoch ?? 0) took partition \(partition) of '\(hub)' in consumer group '\(group)'."
                )
            )
        }
        return refusal
    }

    func unregister(hub: String, group: String, partition: Int, id: ObjectIdentifier) {
        let key = Key(hub: hub.lowercased(), group: group.lowercased(), partition: partition)
        readers.withLock { all in
            all[key]?[id] = nil
            if all[key]?.isEmpty == true { all[key] = nil }
        }
    }
}

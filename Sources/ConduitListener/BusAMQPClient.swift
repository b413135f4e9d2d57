import ConduitAMQP
import ConduitBus
import Foundation
import Logging
import NIOSSL

/// A Service Bus and Event Hubs client over AMQP, from a connection string, as the Azure SDKs
/// connect: `UseDevelopmentEmulator=true` is plain AMQP (port 5672 unless the endpoint names one, as the embedded bus
/// of `conduit serve` is reached), anything else AMQP over TLS (port 5671) verified against the system's trust store
/// or `caFile`; SASL ANONYMOUS, then a SAS token per entity through `$cbs`.
public struct BusAMQPClient: Sendable {
    public let client: AMQPClient
    let cbs: AMQPClientRequester
    public let connection: ConnectionString
    /// `amqp://host:port` or `amqps://host:port`, for messages.
    public let base: String

    /// - Parameter linkCredit: how many messages a receiver holds (prefetch).
    /// - Throws: ``ListenerError`` saying what failed, with a hint for the usual mistakes.
    public static func connect(
        connectionString text: String,
        caFile: String?,
        linkCredit: UInt32 = 50
    ) async throws -> BusAMQPClient {
        let connection: ConnectionString
        do {
            connection = try ConnectionString(parsing: text)
        } catch {
            throw ListenerError("\(error)")
        }
        let secure = !connection.useDevelopmentEmulator
        let port = connection.port ?? (secure ? 5671 : 5672)
        let base = "\(secure ? "amqps" : "amqp")://\(connection.host):\(port)"
        var tls: NIOSSLContext?
        if secure {
            // Verified fully: the system's trust store, or only the given CAs.
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .fullVerification
            do {
                if let caFile { configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile)) }
                tls = try NIOSSLContext(configuration: configuration)
            } catch {
                throw ListenerError("the CA file \(caFile ?? "") cannot be read as PEM certificates: \(error)")
            }
        }
        var logger = Logger(label: "conduit.listen")
        logger.logLevel = .warning
        let client: AMQPClient
        do {
            client = try await AMQPClient.connect(
                host: connection.host,
                port: port,
                credentials: .anonymous,
                hostname: connection.host,
                tls: tls,
                openTimeout: .seconds(10),
                configuration: .init(containerId: "conduit-listen-\(UUID())", linkCredit: linkCredit),
                logger: logger
            )
        } catch {
            throw ListenerError(Self.explain("cannot connect to \(base)", error, secure: secure))
        }
        do {
            let cbs = try await client.openRequester(node: "$cbs")
            return BusAMQPClient(client: client, cbs: cbs, connection: connection, base: base)
        } catch {
            await client.close()
            throw ListenerError("\(base) has no $cbs node (is it a Service Bus namespace?): \(error)")
        }
    }

    /// What went wrong, with a hint for the usual mistakes.
    public static func explain(_ what: String, _ error: any Error, secure: Bool) -> String {
        let text = (error as? AMQPError)?.errorDescription ?? "\(error)"
        var hint = ""
        if text.contains("HTTP/1.1") || text.contains("decode") || text.contains("protocol header")
            || text.contains("did not open the connection")
        {
            hint =
                " — is it the HTTP port? Use the AMQP connection string (conduit-data/amqp.connection), or --transport rest"
        } else if secure && text.lowercased().contains("certificate") {
            hint = " — give the namespace's certificate authority with --ca FILE"
        } else if secure && (text.contains("WRONG_VERSION_NUMBER") || text.contains("handshake")) {
            hint =
                " — is it a plain AMQP port? The embedded bus needs UseDevelopmentEmulator=true in the connection string"
        }
        return "\(what): \(text)\(hint)"
    }

    /// The SAS token for `entity`: the connection string's signature, or one made from its key.
    public func token(for entity: String) -> String { connection.token(for: entity) }

    /// Puts the token for `entity` on the connection.
    public func authorize(_ entity: String) async throws {
        do {
            try await AMQPClient.putToken(token(for: entity), audience: "sb://\(connection.host)/\(entity)", on: cbs)
        } catch {
            throw ListenerError("the namespace refused the credentials for '\(entity)': \(error)")
        }
    }

    /// A peek-lock receiver from a queue or `topic/Subscriptions/name`.
    public func receiver(entity: String, filter: [AMQPMapEntry]? = nil) async throws -> AMQPClientReceiver {
        try await authorize(entity)
        do {
            return try await client.openReceiver(address: entity, filter: filter)
        } catch let error as AMQPError where error.condition == AMQPError.notFound {
            throw ListenerError("'\(entity)' does not exist in \(base): \(error.errorDescription ?? "")")
        } catch {
            throw ListenerError("cannot receive from '\(entity)': \(error)")
        }
    }

    /// The partition ids of an event hub (`$management` READ of `com.microsoft:eventhub`).
    public func partitionIDs(hub: String) async throws -> [String] {
        let management = try await client.openRequester(node: "$management")
        defer { Task { try? await management.close() } }
        let answer = try await management.request(
            AMQPMessage(
                applicationProperties: [
                    AMQPMapEntry(.string("operation"), .string("READ")),
                    AMQPMapEntry(.string("type"), .string("com.microsoft:eventhub")),
                    AMQPMapEntry(.string("name"), .string(hub)),
                    AMQPMapEntry(.string("security_token"), .string(token(for: hub))),
                ],
                body: .value(.null)
            ),
            timeout: .seconds(30)
        )
        guard answer.applicationProperty("status-code")?.integer == 200,
            case .value(.map(let body)) = answer.body,
            let ids = body.first(where: { $0.key == .string("partition_ids") })?.value
        else {
            let reason = answer.applicationProperty("status-description").flatMap(\.text) ?? "no reason"
            throw ListenerError("cannot read the event hub '\(hub)' in \(base): \(reason)")
        }
        let elements: [AMQPValue] =
            switch ids {
            case .array(let array): array.elements
            case .list(let list): list
            default: []
            }
        return elements.compactMap(\.text)
    }

    /// A receiver of one partition of an event hub, from `position` (a selector such as
    /// `amqp.annotation.x-opt-offset > '-1'`).
    public func partitionReceiver(
        hub: String,
        consumerGroup: String,
        partition: String,
        position: String
    ) async throws -> AMQPClientReceiver {
        let address = "\(hub)/ConsumerGroups/\(consumerGroup)/Partitions/\(partition)"
        try await authorize(hub)
        let filter = [
            AMQPMapEntry(
                .symbol(AMQPSource.selectorFilter),
                .described(descriptor: .symbol(AMQPSource.selectorFilter), value: .string(position))
            )
        ]
        do {
            return try await client.openReceiver(address: address, settled: true, filter: filter)
        } catch {
            throw ListenerError("cannot read partition \(partition) of '\(hub)': \(error)")
        }
    }

    /// A receiver of each partition of `hub`, from the start of each or (`latest`) only new events.
    public func partitionReceivers(
        hub: String,
        consumerGroup: String,
        latest: Bool
    ) async throws -> [AMQPClientReceiver] {
        let position = latest ? "amqp.annotation.x-opt-offset > '@latest'" : "amqp.annotation.x-opt-offset > '-1'"
        var receivers: [AMQPClientReceiver] = []
        for partition in try await partitionIDs(hub: hub) {
            receivers.append(
                try await partitionReceiver(
                    hub: hub,
                    consumerGroup: consumerGroup,
                    partition: partition,
                    position: position
                )
            )
        }
        return receivers
    }

    public func close() async {
        await client.close()
    }

}

/// A message `conduit listen` got, over AMQP or REST.

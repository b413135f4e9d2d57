import AsyncHTTPClient
import ConduitBus
import ConduitListener
import Foundation
import NIOCore
import NIOHTTP1

/// A client of the Service Bus REST data plane (the embedded bus or Azure) for the command line: peek-lock,
/// complete, abandon, with SAS tokens made from a connection string.
struct BusRESTClient {
    let base: String
    let connection: ConnectionString
    let client: HTTPClient

    /// A message as a REST receive gives it.
    struct Received {
        var body: [UInt8]
        var contentType: String?
        /// `BrokerProperties`, parsed.
        var broker: [String: Any]
        /// The path of the locked message (for complete and abandon); `nil` for receive-and-delete.
        var location: String?
        /// The response headers (user properties among them).
        var headers: HTTPHeaders

        /// Whether the context was truncated to fit 192 KB (the `MessageMaxSizeExceeded` property).
        var isTruncated: Bool { headers.first(name: "MessageMaxSizeExceeded") != nil }

        var messageId: String? { broker["MessageId"] as? String }
        var sequenceNumber: Int64? { (broker["SequenceNumber"] as? NSNumber)?.int64Value }
    }

    /// `Endpoint=sb://host:port/` is reached over `http://` with `UseDevelopmentEmulator=true` (as the embedded
    /// bus is), otherwise over `https://`.
    init(connectionString text: String, client: HTTPClient) throws {
        let connection: ConnectionString
        do {
            connection = try ConnectionString(parsing: text)
        } catch {
            throw CommandFailure("\(error)")
        }
        let scheme = connection.useDevelopmentEmulator || connection.endpoint.hasPrefix("http://") ? "http" : "https"
        self.base = "\(scheme)://\(connection.host)\(connection.port.map { ":\($0)" } ?? "")"
        self.connection = connection
        self.client = client
    }

    func authorization(for entity: String) -> String { connection.token(for: entity) }

    /// Peek-locks the next message of `entity`, waiting up to `wait` seconds; `nil` when none came.
    func peekLock(_ entity: String, wait: Int) async throws -> Received? {
        let response = try await execute(.POST, "/\(entity)/messages/head?timeout=\(wait)", entity: entity)
        switch response.status.code {
        case 201:
            return try await Self.received(response, location: response.headers.first(name: "Location"))
        case 204:
            return nil
        default:
            throw try await failure(response, doing: "receive from '\(entity)'")
        }
    }

    /// An event read from an event hub partition (Conduit's REST reading).
    struct Event {
        var sequenceNumber: Int64
        var body: [UInt8]
        var contentType: String?
        var messageId: String?
        var partition: Int
    }

    /// Up to `max` events of a partition from sequence number `from`, waiting up to `wait` seconds for the first.
    func readEvents(hub: String, consumerGroup: String, partition: Int, from: Int64, wait: Int) async throws -> [Event]
    {
        let group = consumerGroup.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? consumerGroup
        let answer = try await call(
            .GET,
            "/\(hub)/consumergroups/\(group)/partitions/\(partition)/messages?from=\(from)&max=100&timeout=\(wait)",
            entity: hub
        )
        guard answer.status == 200 else {
            throw CommandFailure(
                "cannot read partition \(partition) of '\(hub)': \(answer.status) \(answer.body.prefix(300))"
            )
        }
        let items = (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8))) as? [[String: Any]] ?? []
        return items.compactMap { item in
            guard let sequence = (item["SequenceNumber"] as? NSNumber)?.int64Value,
                let body = (item["Body"] as? String).flatMap({ Data(base64Encoded: $0) })
            else { return nil }
            return Event(
                sequenceNumber: sequence,
                body: Array(body),
                contentType: item["ContentType"] as? String,
                messageId: item["MessageId"] as? String,
                partition: partition
            )
        }
    }

    /// The number of partitions of a hub (from `GET /{hub}/partitions/{p}` until one is missing).
    func partitionCount(hub: String) async throws -> Int {
        var count = 0
        while count < 1024 {
            let answer = try await call(.GET, "/\(hub)/partitions/\(count)", entity: hub)
            if answer.status == 404 || answer.status == 410 { break }
            guard answer.status == 200 else {
                throw CommandFailure("cannot read event hub '\(hub)': \(answer.status) \(answer.body.prefix(300))")
            }
            count += 1
        }
        guard count > 0 else { throw CommandFailure("the event hub '\(hub)' does not exist") }
        return count
    }

    /// Sends a received message again (body, content type, settable broker properties and user-property headers).
    func resend(_ message: Received, to entity: String) async throws {
        var headers: [(String, String)] = []
        if let type = message.contentType { headers.append(("Content-Type", type)) }
        var broker: [String: Any] = [:]
        for key in ["MessageId", "CorrelationId", "Label", "SessionId", "To", "ReplyTo"] {
            if let value = message.broker[key] { broker[key] = value }
        }
        let brokerJSON = try JSONSerialization.data(withJSONObject: broker, options: [.sortedKeys])
        headers.append(("BrokerProperties", String(decoding: brokerJSON, as: UTF8.self)))
        let reserved: Set<String> = [
            "content-type", "content-length", "brokerproperties", "location", "date", "server", "connection",
            "deadletterreason", "deadlettererrordescription", "transfer-encoding", "keep-alive",
        ]
        for header in message.headers where !reserved.contains(header.name.lowercased()) {
            headers.append((header.name, header.value))
        }
        let answer = try await call(.POST, "/\(entity)/messages", entity: entity, bytes: message.body, headers: headers)
        guard answer.status == 201 else {
            throw CommandFailure(
                "cannot resend message \(message.messageId ?? "?") to '\(entity)': \(answer.status) \(answer.body.prefix(300))"
            )
        }
    }

    /// Completes (`DELETE`) or abandons (`PUT`) a locked message by its `Location`.
    func settle(_ message: Received, entity: String, complete: Bool) async throws {
        guard let location = message.location, let url = URL(string: location) else { return }
        let path = url.path + (url.query.map { "?\($0)" } ?? "")
        let response = try await execute(complete ? .DELETE : .PUT, path, entity: entity)
        guard response.status.code == 200 else {
            throw try await failure(response, doing: complete ? "complete a message" : "abandon a message")
        }
    }

    /// A request to the namespace with a body; returns the status, headers and body text.
    func call(
        _ method: HTTPMethod,
        _ path: String,
        entity: String,
        body: String? = nil,
        bytes: [UInt8]? = nil,
        headers: [(String, String)] = []
    ) async throws -> (status: Int, headers: HTTPHeaders, body: String) {
        let response = try await execute(
            method,
            path,
            entity: entity,
            body: bytes ?? body.map { Array($0.utf8) },
            headers: headers
        )
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), response.headers, String(buffer: bytes))
    }

    private func execute(
        _ method: HTTPMethod,
        _ path: String,
        entity: String,
        body: [UInt8]? = nil,
        headers: [(String, String)] = []
    ) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: authorization(for: entity))
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            return try await client.execute(request, timeout: .seconds(90))
        } catch {
            throw CommandFailure("cannot reach the bus at \(base): \(error)")
        }
    }

    private static func received(_ response: HTTPClientResponse, location: String?) async throws -> Received {
        let body = try await response.body.collect(upTo: 64 << 20)
        let broker =
            response.headers.first(name: "BrokerProperties").flatMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            } ?? [:]
        return Received(
            body: Array(body.readableBytesView),
            contentType: response.headers.first(name: "Content-Type"),
            broker: broker,
            location: location,
            headers: response.headers
        )
    }

    private func failure(_ response: HTTPClientResponse, doing what: String) async throws -> CommandFailure {
        let body = try? await response.body.collect(upTo: 64 * 1024)
        let detail = body.map { String(buffer: $0) }.flatMap { $0.isEmpty ? nil : $0 } ?? ""
        let reason: String
        switch response.status.code {
        case 401: reason = "the bus refused the credentials (401)"
        case 403: reason = "the key lacks the Listen right (403)"
        case 404, 410: reason = "the entity does not exist (\(response.status.code))"
        default: reason = "the bus answered \(response.status.code)"
        }
        return CommandFailure("cannot \(what): \(reason)\(detail.isEmpty ? "" : ": \(detail.prefix(300))")")
    }
}

extension ListenedMessage {
    init(_ received: BusRESTClient.Received) {
        self.init(
            body: received.body,
            contentType: received.contentType,
            messageId: received.messageId,
            sequenceNumber: received.sequenceNumber,
            isTruncated: received.isTruncated
        )
    }
}

import AsyncHTTPClient
import ConduitBus
import ConduitServer
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// A client of one queue of the embedded bus over its Service Bus REST data plane, for the benchmarks: send,
/// receive-and-delete, peek-lock and complete, with a SAS token made from the namespace's root rule.
struct BenchQueueClient: Sendable {
    /// `http://<host>:<port>/<queue>`.
    let queueURL: String
    /// `SharedAccessSignature sr=…&sig=…&se=…&skn=…` for `sb://localhost/<queue>`.
    let authorization: String
    let client: HTTPClient

    /// A message taken off the queue.
    struct Received: Sendable {
        var body: ByteBuffer
        /// Where to settle it (peek-lock only).
        var location: String?
        /// The `BrokerProperties` header (JSON).
        var brokerProperties: String?

        /// `MessageId` from the broker properties.
        var messageId: String? {
            guard let text = brokerProperties,
                let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            else { return nil }
            return object["MessageId"] as? String
        }
    }

    /// A client of `queue` on the server `info` describes, signing with the root rule of its connection string.
    init(info: ServerReady, queue: String, client: HTTPClient) throws {
        let connection = try ConnectionString(parsing: info.busConnectionString)
        guard let keyName = connection.keyName, let key = connection.key else {
            throw CommandFailure("the bus connection string of the server has no SharedAccessKeyName/SharedAccessKey")
        }
        self.queueURL = "http://\(connection.host):\(connection.port ?? info.port)/\(queue)"
        self.authorization =
            SASToken.make(
                resource: "sb://localhost/\(queue)",
                keyName: keyName,
                key: key,
                expiry: Int64(Date().timeIntervalSince1970) + 24 * 3600
            ).headerValue
        self.client = client
    }

    /// `POST <queue>/messages`: sends one message.
    func send(_ body: ByteBuffer, contentType: String = "application/octet-stream") async throws {
        var request = HTTPClientRequest(url: queueURL + "/messages")
        request.method = .POST
        request.headers.add(name: "Authorization", value: authorization)
        request.headers.add(name: "Content-Type", value: contentType)
        request.body = .bytes(body)
        let response = try await client.execute(request, timeout: .seconds(30))
        let answer = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .created else { throw Self.failure("a send", response.status, answer) }
    }

    /// Takes the next message off the queue, waiting up to `timeout` seconds for one: `DELETE <queue>/messages/head`
    /// (receive-and-delete) or, with `lock`, `POST <queue>/messages/head` (peek-lock, settled with ``complete(_:)``).
    /// Returns `nil` when none came.
    func receive(lock: Bool, timeout: Int) async throws -> Received? {
        var request = HTTPClientRequest(url: queueURL + "/messages/head?timeout=\(timeout)")
        request.method = lock ? .POST : .DELETE
        request.headers.add(name: "Authorization", value: authorization)
        let response = try await client.execute(request, timeout: .seconds(Int64(timeout) + 30))
        let body = try await response.body.collect(upTo: 64 << 20)
        let properties = response.headers.first(name: "BrokerProperties")
        switch response.status {
        case .noContent:
            return nil
        case .ok where !lock:
            return Received(body: body, location: nil, brokerProperties: properties)
        case .created where lock:
            guard let location = response.headers.first(name: "Location") else {
                throw CommandFailure("a peek-lock answered 201 without a Location header")
            }
            return Received(body: body, location: location, brokerProperties: properties)
        default:
            throw Self.failure("a receive", response.status, body)
        }
    }

    /// `DELETE <location>`: completes a peek-locked message.
    func complete(_ location: String) async throws {
        var request = HTTPClientRequest(url: location)
        request.method = .DELETE
        request.headers.add(name: "Authorization", value: authorization)
        let response = try await client.execute(request, timeout: .seconds(30))
        let answer = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else { throw Self.failure("a complete", response.status, answer) }
    }

    private static func failure(_ what: String, _ status: HTTPResponseStatus, _ body: ByteBuffer) -> CommandFailure {
        CommandFailure("\(what) on the bus answered \(status.code) \(status.reasonPhrase): \(String(buffer: body))")
    }
}

extension ByteBuffer {
    /// The number written in ASCII digits right after the first occurrence of `marker` in the readable bytes, or
    /// `nil` when the marker is not there (or no digit follows it).
    func number(after marker: [UInt8]) -> Int? {
        readableBytesView.withContiguousStorageIfAvailable { bytes -> Int? in
            guard bytes.count >= marker.count else { return nil }
            var start = 0
            while start + marker.count <= bytes.count {
                if bytes[start] == marker[0], bytes[start..<start + marker.count].elementsEqual(marker) {
                    var index = start + marker.count
                    var value: Int?
                    while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                        value = (value ?? 0) * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                        index += 1
                    }
                    return value
                }
                start += 1
            }
            return nil
        } ?? nil
    }
}

/// What the bus benchmarks' receivers noted: when each numbered message first came, how many came again, and how
/// many carried no number.
final class Receipts: Sendable {
    private struct State {
        var first: [Int: ContinuousClock.Instant] = [:]
        var duplicates = 0
        var unrecognized = 0
    }
    private let state = Mutex(State())

    /// Notes message `number` (`nil`: it had none) received at `instant`.
    func note(_ number: Int?, _ instant: ContinuousClock.Instant) {
        state.withLock { state in
            guard let number else {
                state.unrecognized += 1
                return
            }
            if state.first[number] == nil {
                state.first[number] = instant
            } else {
                state.duplicates += 1
            }
        }
    }

    /// How many numbers came at least once.
    var count: Int { state.withLock { $0.first.count } }
    var first: [Int: ContinuousClock.Instant] { state.withLock { $0.first } }
    var duplicates: Int { state.withLock { $0.duplicates } }
    var unrecognized: Int { state.withLock { $0.unrecognized } }
}

import Foundation

/// A control message of the Hybrid Connections protocol (reference §5.2): one JSON text frame on the listener's
/// control channel (or a rendezvous socket), with one member naming the operation.
public enum RelayControlMessage: Sendable, Hashable {
    /// Service → listener: a WebSocket sender waits at `address` (`sb-hc-action=accept`).
    case accept(RelayAccept)
    /// Service → listener: an HTTP request; a binary frame with its body follows when `body` is `true`.
    case request(RelayRequestHead)
    /// Listener → service: the answer to a request; a binary frame with its body follows when `body` is `true`.
    case response(RelayResponseHead)
    /// Listener → service: a fresh SAS token for the channel.
    case renewToken(token: String)

    /// Reads one control message.
    /// - Throws: ``RelayProtocolError`` naming what is wrong (not JSON, no known operation, a missing member).
    public init(json: some Collection<UInt8>) throws(RelayProtocolError) {
        do {
            self = try JSONDecoder().decode(Envelope.self, from: Data(json)).message
        } catch let error as RelayProtocolError {
            throw error
        } catch let DecodingError.keyNotFound(key, context) {
            throw RelayProtocolError("The control message has no '\(Self.path(context.codingPath + [key]))'.")
        } catch let DecodingError.typeMismatch(_, context) {
            throw RelayProtocolError(
                "The '\(Self.path(context.codingPath))' of the control message has the wrong type: \(context.debugDescription)"
            )
        } catch let DecodingError.valueNotFound(_, context) {
            throw RelayProtocolError("The '\(Self.path(context.codingPath))' of the control message is null.")
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            throw RelayProtocolError(
                "The '\(Self.path(context.codingPath))' of the control message is wrong: \(context.debugDescription)"
            )
        } catch {
            throw RelayProtocolError("The control message is not a JSON object (\(json.count) bytes).")
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String { keys.map(\.stringValue).joined(separator: ".") }

    /// The message as a JSON text frame.
    public var json: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(Envelope(message: self))) ?? Data())
    }

    /// `{"<operation>": {...}}`.
    private struct Envelope: Codable {
        var message: RelayControlMessage

        init(message: RelayControlMessage) { self.message = message }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Operation.self)
            guard container.allKeys.count == 1, let key = container.allKeys.first else {
                throw RelayProtocolError(
                    "A control message is a JSON object with exactly one member, the operation; this one has \(container.allKeys.count) known ones."
                )
            }
            switch key {
            case .accept: message = .accept(try container.decode(RelayAccept.self, forKey: key))
            case .request: message = .request(try container.decode(RelayRequestHead.self, forKey: key))
            case .response: message = .response(try container.decode(RelayResponseHead.self, forKey: key))
            case .renewToken:
                message = .renewToken(token: try container.decode(RenewToken.self, forKey: key).token)
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Operation.self)
            switch message {
            case .accept(let accept): try container.encode(accept, forKey: .accept)
            case .request(let head): try container.encode(head, forKey: .request)
            case .response(let head): try container.encode(head, forKey: .response)
            case .renewToken(let token): try container.encode(RenewToken(token: token), forKey: .renewToken)
            }
        }

        enum Operation: String, CodingKey {
            case accept, request, response, renewToken
        }

        struct RenewToken: Codable {
            var token: String
        }
    }
}

/// The `accept` operation: where the listener meets a WebSocket sender.
public struct RelayAccept: Sendable, Hashable, Codable {
    /// The rendezvous address, to be opened as it is (it holds `sb-hc-action=accept`).
    public var address: String
    public var id: String
    /// The sender's `Host`, `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions` headers.
    public var connectHeaders: [String: String]

    public init(address: String, id: String, connectHeaders: [String: String] = [:]) {
        self.address = address
        self.id = id
        self.connectHeaders = connectHeaders
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        address = try container.decode(String.self, forKey: .address)
        id = try container.decode(String.self, forKey: .id)
        connectHeaders = try container.decodeIfPresent([String: String].self, forKey: .connectHeaders) ?? [:]
    }
}

/// The `request` operation's head.
public struct RelayRequestHead: Sendable, Hashable, Codable {
    /// The rendezvous address: where the listener may answer (or must fetch the request, when it was too large for
    /// the control channel and holds neither method nor target).
    public var address: String?
    public var id: String
    /// The request target, e.g. `/orders/new?x=1` (without `sb-hc-*` parameters).
    public var requestTarget: String?
    public var method: String?
    /// The sender's headers, without hop-by-hop headers and the relay's own credentials.
    public var requestHeaders: [String: String]
    /// Whether a binary frame with the body follows.
    public var body: Bool

    public init(
        address: String? = nil,
        id: String,
        requestTarget: String?,
        method: String?,
        requestHeaders: [String: String] = [:],
        body: Bool
    ) {
        self.address = address
        self.id = id
        self.requestTarget = requestTarget
        self.method = method
        self.requestHeaders = requestHeaders
        self.body = body
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        address = try container.decodeIfPresent(String.self, forKey: .address)
        id = try container.decode(String.self, forKey: .id)
        requestTarget = try container.decodeIfPresent(String.self, forKey: .requestTarget)
        method = try container.decodeIfPresent(String.self, forKey: .method)
        requestHeaders = try container.decodeIfPresent([String: String].self, forKey: .requestHeaders) ?? [:]
        body = try container.decodeIfPresent(Bool.self, forKey: .body) ?? false
    }
}

/// The `response` operation's head.
public struct RelayResponseHead: Sendable, Hashable, Codable {
    public var requestId: String
    public var statusCode: Int
    public var statusDescription: String?
    public var responseHeaders: [String: String]
    /// Whether a binary frame with the body follows.
    public var body: Bool

    public init(
        requestId: String,
        statusCode: Int,
        statusDescription: String? = nil,
        responseHeaders: [String: String] = [:],
        body: Bool
    ) {
        self.requestId = requestId
        self.statusCode = statusCode
        self.statusDescription = statusDescription
        self.responseHeaders = responseHeaders
        self.body = body
    }

    enum CodingKeys: String, CodingKey {
        case requestId, statusCode, statusDescription, responseHeaders, body
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        requestId = try container.decode(String.self, forKey: .requestId)
        // The documentation's example sends the code as a string ("200"); a number is taken too.
        let code: Int?
        if let number = try? container.decode(Int.self, forKey: .statusCode) {
            code = number
        } else {
            code = Int(try container.decode(String.self, forKey: .statusCode))
        }
        guard let code, (100...599).contains(code) else {
            throw DecodingError.dataCorruptedError(
                forKey: .statusCode,
                in: container,
                debugDescription: "not an HTTP status code (100-599)"
            )
        }
        statusCode = code
        statusDescription = try container.decodeIfPresent(String.self, forKey: .statusDescription)
        responseHeaders = try container.decodeIfPresent([String: String].self, forKey: .responseHeaders) ?? [:]
        body = try container.decodeIfPresent(Bool.self, forKey: .body) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(requestId, forKey: .requestId)
        try container.encode(String(statusCode), forKey: .statusCode)
        try container.encodeIfPresent(statusDescription, forKey: .statusDescription)
        try container.encode(responseHeaders, forKey: .responseHeaders)
        try container.encode(body, forKey: .body)
    }
}

/// A control message that breaks the protocol.
public struct RelayProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

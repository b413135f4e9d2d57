import ConduitBus
import ConduitContext
import ConduitPlatform
import ConduitServer
import ConduitStore
import ConduitTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore

/// A live Web API on a fresh database, with an administrator key.
struct ServerHarness {
    let client: any TestClientProtocol
    let key: String
    let platform: Platform

    /// The embedded bus, when the harness was run `withBus`.
    var bus: BusNamespace? = nil

    static func run(
        _ backend: TestBackend,
        withBus: Bool = false,
        _ body: @Sendable (ServerHarness) async throws -> Void
    ) async throws {
        try await backend.withFreshStore { store in
            var logger = Logger(label: "conduit.test")
            logger.logLevel = .warning
            let platform = try await Platform.open(
                store: store,
                migrations: [APIKeys.migration] + (withBus ? BusNamespace.migrations : []),
                logger: logger
            )
            let keys = APIKeys(store: store)
            let key = try await keys.issue(for: platform.administratorId, name: "test")
            let bus = withBus ? BusNamespace(store: store) : nil
            let app = Application(
                router: ConduitApplication.router(platform: platform, keys: keys, bus: bus),
                logger: logger
            )
            try await app.test(.live) { client in
                try await body(ServerHarness(client: client, key: key, platform: platform, bus: bus))
            }
        }
    }

    struct Reply {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: String
        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        }
        /// `error.code` of a Dataverse-shaped error.
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
        var errorMessage: String? { (json["error"] as? [String: Any])?["message"] as? String }
    }

    /// Sends a request to `/api/data/v9.2/<path>` with the key.
    func send(
        _ method: HTTPRequest.Method,
        _ path: String,
        body: String? = nil,
        headers extra: [String: String] = [:],
        authorized: Bool = true
    ) async throws -> Reply {
        var headers = HTTPFields()
        if authorized { headers[.authorization] = "Bearer \(key)" }
        if body != nil { headers[.contentType] = "application/json" }
        for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
        let uri = path.hasPrefix("/") ? path : "/api/data/v9.2/" + path
        return try await client.execute(
            uri: uri,
            method: method,
            headers: headers,
            body: body.map { ByteBuffer(string: $0) }
        ) { response in
            Reply(status: response.status, headers: response.headers, body: String(buffer: response.body))
        }
    }

    /// The id in an `OData-EntityId` header.
    static func id(_ reply: Reply) -> Guid? {
        guard let header = reply.headers[HTTPField.Name("OData-EntityId")!], let open = header.lastIndex(of: "(") else {
            return nil
        }
        return Guid(header[header.index(after: open)...].dropLast())
    }
}

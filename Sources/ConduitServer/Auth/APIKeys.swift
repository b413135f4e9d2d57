import ConduitContext
import ConduitStore
import Crypto
import Foundation
import Hummingbird
import SQLKit
import Synchronization

/// Bearer API keys, one or more per `systemuser`, stored as SHA-256 hashes in `conduit_apikey`.
public final class APIKeys: Sendable {
    let store: Store
    private let cache = Mutex<[String: Guid]>([:])

    public init(store: Store) {
        self.store = store
    }

    /// The schema of the key table: pass it to `Platform.open(migrations:)` so every version is applied together.
    public static let migration = Migration(version: 100, name: "api keys") { db, _ in
        try await db.raw(
            "CREATE TABLE IF NOT EXISTS conduit_apikey (keyhash TEXT PRIMARY KEY NOT NULL, systemuserid TEXT NOT NULL, name TEXT, createdon TEXT)"
        ).run()
    }

    /// Makes a new key for a user and returns it; only its hash is stored.
    public func issue(for userId: Guid, name: String) async throws -> String {
        var random = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
        let key =
            "cdt_"
            + Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let hash = Self.hash(key)
        try await store.transaction { db in
            try await db.raw(
                "INSERT INTO conduit_apikey (keyhash, systemuserid, name, createdon) VALUES (\(bind: hash), \(bind: userId.description), \(bind: name), \(bind: ISO8601DateFormatter().string(from: Date())))"
            ).run()
        }
        return key
    }

    /// The user a key belongs to, or `nil`.
    public func user(for key: String) async throws -> Guid? {
        let hash = Self.hash(key)
        if let user = cache.withLock({ $0[hash] }) { return user }
        let row = try await store.withDatabase { db in
            try await db.raw("SELECT systemuserid FROM conduit_apikey WHERE keyhash = \(bind: hash)").all().first
        }
        guard let text = try row?.decode(column: "systemuserid", as: String.self), let user = Guid(text) else {
            return nil
        }
        cache.withLock { $0[hash] = user }
        return user
    }

    static func hash(_ key: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: Data(key.utf8)) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}

/// Checks the `Authorization: Bearer <key>` header; no request runs without a valid key.
public struct APIKeyMiddleware: RouterMiddleware {
    public typealias Context = ConduitRequestContext
    let keys: APIKeys

    public init(keys: APIKeys) {
        self.keys = keys
    }

    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    )
        async throws -> Response
    {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer "),
            let user = try await keys.user(for: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
        else {
            throw WebAPIError.unauthorized
        }
        var context = context
        context.userId = user
        return try await next(request, context)
    }
}

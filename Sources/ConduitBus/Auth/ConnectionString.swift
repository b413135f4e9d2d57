import Foundation

/// An Azure Service Bus / Event Hubs connection string:
/// `Endpoint=sb://<host>[:port]/;SharedAccessKeyName=<rule>;SharedAccessKey=<key>[;EntityPath=<entity>]`,
/// or with `SharedAccessSignature=<token>` instead of the key pair, and `UseDevelopmentEmulator=true` for a local
/// broker without TLS. Parsed as the Azure SDKs parse it: `;`-separated, split at the first `=`, keys
/// case-insensitive, a trailing `;` allowed.
public struct ConnectionString: Sendable, Hashable {
    /// The endpoint as written (`sb://localhost:5672/`).
    public var endpoint: String
    /// The host, without scheme, port or path.
    public var host: String
    /// The port, when the endpoint names one.
    public var port: Int?
    public var keyName: String?
    public var key: String?
    public var sharedAccessSignature: String?
    public var entityPath: String?
    /// `UseDevelopmentEmulator=true` (exactly the lower-case `true`, as the SDKs read it): plain TCP, port kept.
    public var useDevelopmentEmulator: Bool

    public init(parsing text: String) throws(ConnectionStringError) {
        var values: [String: String] = [:]
        for part in text.split(separator: ";", omittingEmptySubsequences: true) {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let equals = trimmed.firstIndex(of: "=") else {
                throw ConnectionStringError("'\(trimmed.prefix(30))' is not a key=value pair")
            }
            let name = trimmed[..<equals].lowercased()
            values[name] = String(trimmed[trimmed.index(after: equals)...])
        }
        guard let endpoint = values["endpoint"] ?? values["hostname"], !endpoint.isEmpty else {
            throw ConnectionStringError("it has no Endpoint")
        }
        var rest = Substring(endpoint)
        if let scheme = rest.range(of: "://") { rest = rest[scheme.upperBound...] }
        let authority = rest.prefix { $0 != "/" }
        var host = String(authority)
        var port: Int?
        if let colon = authority.lastIndex(of: ":") {
            guard let number = Int(authority[authority.index(after: colon)...]), (1...65535).contains(number) else {
                throw ConnectionStringError("the Endpoint's port in '\(endpoint)' is not a number from 1 to 65535")
            }
            port = number
            host = String(authority[..<colon])
        }
        guard !host.isEmpty else { throw ConnectionStringError("the Endpoint '\(endpoint)' has no host") }
        let keyName = values["sharedaccesskeyname"]
        let key = values["sharedaccesskey"]
        let signature = values["sharedaccesssignature"]
        if signature != nil && (keyName != nil || key != nil) {
            throw ConnectionStringError("it gives both a SharedAccessSignature and a SharedAccessKey; give one")
        }
        if signature == nil && (keyName == nil || key == nil) {
            throw ConnectionStringError("it needs SharedAccessKeyName and SharedAccessKey, or a SharedAccessSignature")
        }
        self.endpoint = endpoint
        self.host = host
        self.port = port
        self.keyName = keyName
        self.key = key
        self.sharedAccessSignature = signature
        self.entityPath = values["entitypath"].flatMap { $0.isEmpty ? nil : $0 }
        self.useDevelopmentEmulator = values["usedevelopmentemulator"] == "true"
    }
}

/// A connection string that cannot be used; the message says why.
public struct ConnectionStringError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "invalid connection string: \(message)" }
}

extension ConnectionString {
    /// The SAS token for an entity of the namespace (`sb://host/entity`): the string's own signature, or one made
    /// from its key, valid for `lifetime` seconds from `now`.
    public func token(
        for entity: String,
        lifetime: Int64 = 3600,
        now: Int64 = Int64(Date().timeIntervalSince1970)
    ) -> String {
        if let sharedAccessSignature { return sharedAccessSignature }
        return SASToken.make(
            resource: "sb://\(host)/\(entity)",
            keyName: keyName ?? "",
            key: key ?? "",
            expiry: now + lifetime
        ).headerValue
    }
}

import Foundation
import NIOCore
import PostgresKit

/// A parsed `postgres://` URL: where the server is, who we are, and whether to use TLS.
struct PostgresURL: Sendable, Hashable {
    enum TLSMode: Sendable, Hashable {
        case disable
        case prefer
        case require
    }

    var host: String
    var port: Int
    var username: String
    var password: String?
    var database: String?
    var tls: TLSMode

    /// `host:port` for messages (never the password).
    var endpoint: String {
        self.host.contains(":") ? "[\(self.host)]:\(self.port)" : "\(self.host):\(self.port)"
    }

    init(parsing text: String) throws(StoreError) {
        let form = "postgres://user[:password]@host[:port]/database[?sslmode=disable]"
        func invalid(_ what: String) -> StoreError {
            StoreError(.invalidConfiguration, "the PostgreSQL URL \(what); the form is \(form)")
        }
        guard let colon = text.firstIndex(of: ":"), text[text.index(after: colon)...].hasPrefix("//") else {
            throw invalid("does not start with postgres:// or postgresql://")
        }
        guard let components = URLComponents(string: text) else {
            throw invalid("is not a valid URL (percent-encode special characters in the user name and password)")
        }
        guard let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql" else {
            throw invalid("does not start with postgres:// or postgresql://")
        }
        guard let username = components.user, !username.isEmpty else {
            throw invalid("has no user name")
        }
        var host = components.host ?? ""
        if host.hasPrefix("["), host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        }
        guard !host.isEmpty else {
            throw invalid("has no host")
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else {
            throw invalid("has port \(port), outside 1…65535")
        }
        let path = components.path
        var database: String?
        if !path.isEmpty, path != "/" {
            let name = path.hasPrefix("/") ? String(path.dropFirst()) : path
            guard !name.contains("/") else {
                throw invalid("has the path '\(path)'; it takes one database name")
            }
            database = name
        }
        if components.fragment != nil {
            throw invalid("has a '#' fragment")
        }
        var tls: TLSMode? = nil
        for item in components.queryItems ?? [] {
            switch item.name.lowercased() {
            case "sslmode", "tlsmode", "ssl", "tls":
                switch item.value?.lowercased() ?? "" {
                case "disable", "false":
                    tls = .disable
                case "allow", "prefer", "true":
                    tls = .prefer
                case "require", "verify-ca", "verify-full":
                    tls = .require
                default:
                    throw invalid("has \(item.name)=\(item.value ?? ""); use disable, prefer or require")
                }
            default:
                throw invalid("has the unsupported parameter '\(item.name)' (only sslmode is understood)")
            }
        }
        self.host = host
        self.port = port
        self.username = username
        self.password = components.password
        self.database = database
        self.tls = tls ?? (Self.isLoopback(host) ? .disable : .prefer)
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// The pool's configuration.
    func clientConfiguration(maximumConnections: Int) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch self.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(.makeClientConfiguration())
        case .require: tls = .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: self.host,
            port: self.port,
            username: self.username,
            password: self.password,
            database: self.database,
            tls: tls
        )
        configuration.options.maximumConnections = maximumConnections
        return configuration
    }

    /// The configuration of a single diagnostic connection.
    func connectionConfiguration(connectTimeout: TimeAmount) throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch self.tls {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        var configuration = PostgresConnection.Configuration(
            host: self.host,
            port: self.port,
            username: self.username,
            password: self.password,
            database: self.database,
            tls: tls
        )
        configuration.options.connectTimeout = connectTimeout
        return configuration
    }
}

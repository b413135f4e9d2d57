import Foundation

/// A service endpoint's namespace address (`sb://contoso.servicebus.windows.net/`, `https://host:port/`,
/// `http://127.0.0.1:8081/`), parsed, and where it leads: the embedded bus of this server or a remote namespace.
public struct EndpointAddress: Sendable, Hashable, CustomStringConvertible {
    /// `sb`, `https` or `http` (lower case).
    public var scheme: String
    /// The host (lower case).
    public var host: String
    /// The port, when the address names one.
    public var port: Int?

    /// Parses an address. Accepted schemes: `sb` (posted over AMQP with TLS, port 5671), `amqp` (plain AMQP, port
    /// 5672, for a local or test namespace), `https` (the Service Bus REST API), and `http` (plain REST, for a local
    /// or test namespace).
    public init(parsing text: String) throws(ServiceEndpointError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let separator = trimmed.range(of: "://") else {
            throw ServiceEndpointError(
                "The namespace address '\(text)' has no scheme: write it as sb://<namespace>.servicebus.windows.net/ (or https://, or amqp:// or http:// for a local test namespace)."
            )
        }
        let scheme = trimmed[..<separator.lowerBound].lowercased()
        guard ["sb", "amqp", "https", "http"].contains(scheme) else {
            throw ServiceEndpointError(
                "The namespace address '\(text)' uses the scheme '\(scheme)': use sb:// (AMQP over TLS), https:// (REST), or amqp:// or http:// (plain, for a local test namespace)."
            )
        }
        let rest = trimmed[separator.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        var host = Substring(authority)
        var port: Int?
        if let colon = authority.lastIndex(of: ":") {
            guard let number = Int(authority[authority.index(after: colon)...]), (1...65535).contains(number) else {
                throw ServiceEndpointError(
                    "The port in the namespace address '\(text)' is not a number from 1 to 65535."
                )
            }
            port = number
            host = authority[..<colon]
        }
        guard !host.isEmpty, !host.contains("@"), !host.contains(where: { $0 == " " }) else {
            throw ServiceEndpointError("The namespace address '\(text)' has no valid host.")
        }
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = port
    }

    /// Whether posts go over AMQP (`sb://`, `amqp://`) rather than the REST API (`https://`, `http://`).
    public var isAMQP: Bool { scheme == "sb" || scheme == "amqp" }

    /// The base URL of the namespace's REST API: `sb://` becomes `https://`.
    public var httpBase: String {
        let scheme = self.scheme == "http" ? "http" : "https"
        return "\(scheme)://\(host)\(port.map { ":\($0)" } ?? "")"
    }

    public var description: String { "\(scheme)://\(host)\(port.map { ":\($0)" } ?? "")/" }
}

/// How this server recognises its own embedded namespace in an endpoint's address: by the namespace's name
/// (default `localhost`) or one of the server's host names, with no port or one of the server's ports.
public struct EmbeddedNamespace: Sendable, Hashable {
    /// The namespace's name: `sb://<name>/` and a `solutionnamespace` of `<name>` mean the embedded bus.
    public var name: String
    /// Other host names of this server (`127.0.0.1`, the name it was reached at).
    public var hosts: Set<String>
    /// The server's ports: an address with another port is another server.
    public var ports: Set<Int>

    public init(name: String = "localhost", hosts: Set<String> = ["127.0.0.1", "localhost"], ports: Set<Int> = []) {
        self.name = name.lowercased()
        self.hosts = Set(hosts.map { $0.lowercased() })
        self.ports = ports
    }

    /// Whether `address` is this server's embedded namespace.
    public func contains(_ address: EndpointAddress) -> Bool {
        guard address.host == name || hosts.contains(address.host) else { return false }
        guard let port = address.port else { return true }
        return ports.contains(port)
    }

    /// Whether the endpoint posts to the embedded bus: its address is this namespace, or it has no address and its
    /// `solutionnamespace` is this namespace's name.
    public func contains(_ endpoint: ServiceEndpoint) throws(ServiceEndpointError) -> Bool {
        if let address = endpoint.namespaceAddress, !address.isEmpty {
            return contains(try EndpointAddress(parsing: address))
        }
        return endpoint.solutionNamespace?.lowercased() == name
    }
}

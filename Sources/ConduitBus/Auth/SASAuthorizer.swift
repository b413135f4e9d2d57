import Foundation

/// A right a Shared Access Signature rule grants.
public enum AccessRight: String, Sendable, Hashable, Codable, CaseIterable {
    case manage = "Manage"
    case send = "Send"
    case listen = "Listen"
}

/// A shared access authorization rule of a namespace or an entity: a name, two keys, rights.
public struct AuthorizationRule: Sendable, Hashable, Codable {
    public var keyName: String
    public var primaryKey: String
    public var secondaryKey: String
    public var rights: Set<AccessRight>

    /// A rule; Manage implies Send and Listen, as Azure requires.
    public init(keyName: String, primaryKey: String, secondaryKey: String, rights: Set<AccessRight>) {
        self.keyName = keyName
        self.primaryKey = primaryKey
        self.secondaryKey = secondaryKey
        self.rights = rights.contains(.manage) ? Set(AccessRight.allCases) : rights
    }
}

/// Why a request is not allowed: 401 for a missing, malformed, forged or expired token; 403 for a valid token
/// without the right. The message says which.
public struct AuthorizationError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// No token, an unreadable one, an unknown key, a wrong signature, an expired token, or another resource.
        case unauthorized
        /// A valid token whose rule lacks the right the operation needs.
        case forbidden
    }

    public var kind: Kind
    public var message: String

    /// 401 or 403.
    public var httpStatus: Int { kind == .unauthorized ? 401 : 403 }

    public var description: String { message }
}

/// Checks SAS tokens against the rules of a namespace and its entities, as Azure does.
public struct SASAuthorizer: Sendable {
    /// The rules that may sign a token for an entity: the namespace's and the entity's own.
    public var rules: [AuthorizationRule]
    /// Compare only the paths of the token's scope and the resource, not the host. A local broker is reached as
    /// `localhost`, `127.0.0.1` or a host name, on several ports, and is one namespace whichever is used.
    public var ignoresHost: Bool

    public init(rules: [AuthorizationRule], ignoresHost: Bool = false) {
        self.rules = rules
        self.ignoresHost = ignoresHost
    }

    /// Checks `header` (an `Authorization` value) for an operation on `resource` (`sb://host/queue/...`) that needs
    /// `right`, at `now` (Unix seconds). Returns the rule that signed the token.
    public func authorize(
        _ header: String?,
        resource: String,
        right: AccessRight,
        now: Int64
    ) throws(AuthorizationError) -> AuthorizationRule {
        guard let header, !header.isEmpty else {
            throw AuthorizationError(kind: .unauthorized, message: "No SharedAccessSignature token was sent.")
        }
        let token: SASToken
        do {
            token = try SASToken(parsing: header)
        } catch {
            throw AuthorizationError(kind: .unauthorized, message: "The token is malformed: \(error.message).")
        }
        guard let rule = rules.first(where: { $0.keyName == token.keyName }) else {
            throw AuthorizationError(
                kind: .unauthorized,
                message: "The token is signed with the key '\(token.keyName)', which no rule of this entity has."
            )
        }
        guard token.isSigned(with: rule.primaryKey) || token.isSigned(with: rule.secondaryKey) else {
            throw AuthorizationError(
                kind: .unauthorized,
                message: "The token's signature does not match the keys of rule '\(rule.keyName)'."
            )
        }
        guard token.expiry > now else {
            throw AuthorizationError(
                kind: .unauthorized,
                message: "The token expired \(now - token.expiry) s ago (se=\(token.expiry))."
            )
        }
        guard Self.covers(token.resource, resource, ignoringHost: ignoresHost) else {
            throw AuthorizationError(
                kind: .unauthorized,
                message: "The token is for '\(token.resource)', which does not cover '\(resource)'."
            )
        }
        guard rule.rights.contains(right) else {
            throw AuthorizationError(
                kind: .forbidden,
                message:
                    "Rule '\(rule.keyName)' has the rights \(rule.rights.map(\.rawValue).sorted().joined(separator: ", ")); this operation needs \(right.rawValue)."
            )
        }
        return rule
    }

    /// Whether a token for `scope` is valid for `resource`: the same URI or one under it, comparing scheme and host
    /// case-insensitively and ignoring the scheme (`sb`, `http`, `https`, `amqp`) and a trailing slash.
    static func covers(_ scope: String, _ resource: String, ignoringHost: Bool = false) -> Bool {
        let granted = normalize(scope, ignoringHost: ignoringHost)
        let wanted = normalize(resource, ignoringHost: ignoringHost)
        return wanted == granted || (ignoringHost && granted.isEmpty) || wanted.hasPrefix(granted + "/")
    }

    /// The scope of a URI as tokens are compared: without scheme (and host, when ignored) or trailing slash, in
    /// lower case.
    public static func normalize(_ uri: String, ignoringHost: Bool) -> String {
        var text = Substring(uri)
        if let scheme = text.range(of: "://") { text = text[scheme.upperBound...] }
        if ignoringHost { text = text.drop { $0 != "/" } }
        while text.hasSuffix("/") { text = text.dropLast() }
        if ignoringHost { while text.hasPrefix("/") { text = text.dropFirst() } }
        return text.lowercased()
    }
}

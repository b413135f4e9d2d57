/// How a client authenticates with SASL (AMQP 1.0 part 5.3).
public enum AMQPSASLCredentials: Sendable, Hashable {
    /// No identity (Azure: the rights come from a token put on `$cbs` afterwards).
    case anonymous
    /// A user name and password (RabbitMQ; Service Bus: a rule's name and key).
    case plain(user: String, password: String)
    /// Azure's claims-based security: a token on `$cbs` follows.
    case claimsBasedSecurity

    /// The mechanism's name.
    public var mechanism: String {
        switch self {
        case .anonymous: "ANONYMOUS"
        case .plain: "PLAIN"
        case .claimsBasedSecurity: "MSSBCBS"
        }
    }

    /// The initial response of `sasl-init`.
    var initialResponse: [UInt8]? {
        switch self {
        case .anonymous, .claimsBasedSecurity: []
        case .plain(let user, let password): [0] + Array(user.utf8) + [0] + Array(password.utf8)
        }
    }
}

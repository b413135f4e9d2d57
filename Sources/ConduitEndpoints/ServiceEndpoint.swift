import ConduitContext
import ConduitPlatform
import Foundation

/// A `serviceendpoint` row as the notification service uses it: where to post, how to authenticate, in which
/// format. Option values are Dataverse's (reference §5).
public struct ServiceEndpoint: Sendable, Hashable {
    /// `contract`.
    public enum Contract: Int32, Sendable, Hashable, CaseIterable {
        case oneWay = 1, queue = 2, rest = 3, twoWay = 4, topic = 5, persistentQueue = 6, eventHub = 7
        case webhook = 8, eventGrid = 9, managedDataLake = 10

        /// The option's label.
        public var label: String {
            switch self {
            case .oneWay: "OneWay"
            case .queue: "Queue"
            case .rest: "Rest"
            case .twoWay: "TwoWay"
            case .topic: "Topic"
            case .persistentQueue: "Queue (Persistent)"
            case .eventHub: "Event Hub"
            case .webhook: "Webhook"
            case .eventGrid: "Event Grid"
            case .managedDataLake: "Managed Data Lake"
            }
        }

        /// Whether this server can post to it yet.
        public var isSupported: Bool {
            switch self {
            case .queue, .persistentQueue, .topic, .eventHub, .webhook, .oneWay, .twoWay, .rest: true
            default: false
            }
        }

        /// The Service Bus contracts (queue and topic), whose messages carry the Claims property bag.
        public var isServiceBus: Bool { self == .queue || self == .persistentQueue || self == .topic }

        /// The relay contracts (1 OneWay, 3 REST, 4 TwoWay), posted through a hybrid connection.
        public var isRelay: Bool { self == .oneWay || self == .rest || self == .twoWay }
    }

    /// `authtype`.
    public enum AuthType: Int32, Sendable, Hashable, CaseIterable {
        case acs = 1, sasKey = 2, sasToken = 3, webhookKey = 4, httpHeader = 5, httpQueryString = 6
        case connectionString = 7, accessKey = 8
    }

    /// `userclaim`.
    public enum UserClaim: Int32, Sendable, Hashable, CaseIterable {
        case none = 1, userId = 2, userInfo = 3
    }

    public var id: Guid
    public var name: String
    public var contract: Contract
    public var authType: AuthType
    public var format: WireFormat
    public var userClaim: UserClaim
    /// `solutionnamespace`: the namespace's name (`contoso`).
    public var solutionNamespace: String?
    /// `namespaceaddress`: the full address (`sb://contoso.servicebus.windows.net/`).
    public var namespaceAddress: String?
    /// `path`: the queue, topic or event hub.
    public var path: String
    public var sasKeyName: String?
    public var sasKey: String?
    public var sasToken: String?
    /// `authvalue`: for `authtype` 7, the connection string; for a webhook, its key (4) or `<settings>` (5, 6).
    public var authValue: String?
    /// `url`: a webhook's address.
    public var url: String? = nil

    /// The address to post to: `namespaceaddress`, or `sb://<solutionnamespace>.servicebus.windows.net/` when only
    /// the name is given (Dataverse's `namespaceformat` 1).
    public var address: String {
        if let namespaceAddress, !namespaceAddress.isEmpty { return namespaceAddress }
        return "sb://\(solutionNamespace ?? "").servicebus.windows.net/"
    }
}

extension ServiceEndpoint {
    /// Reads a `serviceendpoint` row (with its secrets: the notification service reads them directly).
    /// - Throws: ``ServiceEndpointError`` when a required column is missing or holds an unknown value.
    public init(row: Entity) throws(ServiceEndpointError) {
        func option(_ name: String) -> Int32? { row.attributes[name]?.optionValue }
        func text(_ name: String) -> String? {
            if case .string(let value)? = row.attributes[name], !value.isEmpty { return value }
            return nil
        }
        guard let contractValue = option("contract") else {
            throw ServiceEndpointError(
                "A service endpoint needs a contract (2 Queue, 5 Topic, 6 Queue, 7 Event Hub, 8 Webhook)."
            )
        }
        guard let contract = Contract(rawValue: contractValue) else {
            throw ServiceEndpointError(
                "\(contractValue) is not a contract: use 1 to 10 (2 Queue, 5 Topic, 7 Event Hub, 8 Webhook)."
            )
        }
        let authValue = option("authtype") ?? AuthType.sasKey.rawValue
        guard let authType = AuthType(rawValue: authValue) else {
            throw ServiceEndpointError(
                "\(authValue) is not an authtype: use 2 SAS Key, 3 SAS Token or 7 Connection String (webhooks: 4 WebhookKey, 5 HttpHeader, 6 HttpQueryString)."
            )
        }
        let formatValue = option("messageformat") ?? (contract == .eventHub ? 2 : 1)
        guard let format = WireFormat(messageFormat: Int(formatValue)) else {
            throw ServiceEndpointError("\(formatValue) is not a messageformat: use 1 Binary XML, 2 Json or 3 Text XML.")
        }
        let claimValue = option("userclaim") ?? UserClaim.none.rawValue
        guard let userClaim = UserClaim(rawValue: claimValue) else {
            throw ServiceEndpointError("\(claimValue) is not a userclaim: use 1 None, 2 UserId or 3 UserInfo.")
        }
        self.init(
            id: row.id,
            name: text("name") ?? "",
            contract: contract,
            authType: authType,
            format: format,
            userClaim: userClaim,
            solutionNamespace: text("solutionnamespace"),
            namespaceAddress: text("namespaceaddress"),
            path: text("path") ?? "",
            sasKeyName: text("saskeyname"),
            sasKey: text("saskey"),
            sasToken: text("sastoken"),
            authValue: text("authvalue"),
            url: text("url")
        )
    }
}

/// A service endpoint that cannot be saved or posted to; the message says what is wrong and how to fix it.
public struct ServiceEndpointError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

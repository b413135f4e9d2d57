/// A hybrid connection of the embedded relay: the path listeners listen on and senders send to.
public struct HybridConnection: Sendable, Hashable, Codable {
    /// The name (lower case; shares the namespace with queues, topics and event hubs).
    public var name: String
    /// Whether senders need a SAS token with the Send right (Azure's default: `true`). Listeners always need Listen.
    public var requiresClientAuthorization: Bool
    /// Free text kept for the owner (Azure's `UserMetadata`).
    public var userMetadata: String?

    public init(name: String, requiresClientAuthorization: Bool = true, userMetadata: String? = nil) {
        self.name = name.lowercased()
        self.requiresClientAuthorization = requiresClientAuthorization
        self.userMetadata = userMetadata
    }

    /// Checks the name; the error says what is wrong.
    public func validate() throws(BusError) {
        try QueueDescription(name: name).validate(kind: "hybrid connection")
        if let userMetadata, userMetadata.utf8.count > 1024 {
            throw BusError(.badRequest, "The user metadata holds at most 1024 bytes, not \(userMetadata.utf8.count).")
        }
    }
}

/// A right granted by an ``AuthorizationRule``, written as `<AccessRights>Send</AccessRights>`.
public enum AccessRight: String, Sendable, Hashable, CaseIterable {
    /// Management of the entity; Azure requires it to come with `Send` and `Listen`.
    case manage = "Manage"
    /// Sending messages.
    case send = "Send"
    /// Receiving messages.
    case listen = "Listen"
}

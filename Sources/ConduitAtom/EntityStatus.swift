/// The `Status` of a queue, topic or subscription.
public enum EntityStatus: String, Sendable, Hashable, CaseIterable {
    /// The entity is usable (Azure's default).
    case active = "Active"
    /// The entity is being created.
    case creating = "Creating"
    /// The entity is being deleted.
    case deleting = "Deleting"
    /// Neither sending nor receiving is allowed.
    case disabled = "Disabled"
    /// Sending is allowed, receiving is not.
    case receiveDisabled = "ReceiveDisabled"
    /// The entity is being renamed.
    case renaming = "Renaming"
    /// The entity is being restored.
    case restoring = "Restoring"
    /// Receiving is allowed, sending is not.
    case sendDisabled = "SendDisabled"
    /// The status is not known.
    case unknown = "Unknown"
}

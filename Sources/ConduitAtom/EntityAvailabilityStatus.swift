/// The read-only `EntityAvailabilityStatus` Azure reports for queues, topics and subscriptions.
public enum EntityAvailabilityStatus: String, Sendable, Hashable, CaseIterable {
    /// The entity is available (what Azure reports in normal operation).
    case available = "Available"
    /// The entity is partially available.
    case limited = "Limited"
    /// The entity is being renamed.
    case renaming = "Renaming"
    /// The entity is being restored.
    case restoring = "Restoring"
    /// The availability is not known.
    case unknown = "Unknown"
}

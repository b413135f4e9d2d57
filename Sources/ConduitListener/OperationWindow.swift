/// The operations a listener handled lately, by `OperationId`, at most ``capacity`` (the oldest are forgotten
/// first), and those being handled now: a duplicate (the same context delivered again after a retry) is recognised
/// while it is in the window.
public struct OperationWindow: Sendable {
    /// What to do with a context.
    public enum Claim: Sendable, Hashable {
        /// Not seen: handle it (and call ``finished(_:handled:)``).
        case new
        /// Handled already: settle it without handling it again.
        case handled
        /// Being handled now by another worker: give it back, to be seen again once that one finished.
        case inProgress
    }

    /// How many handled operations are remembered.
    public let capacity: Int
    private var handled: Set<String> = []
    private var order: [String] = []
    private var oldest = 0
    private var running: Set<String> = []

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Claims `operation` for handling.
    public mutating func claim(_ operation: String) -> Claim {
        if handled.contains(operation) { return .handled }
        if running.contains(operation) { return .inProgress }
        running.insert(operation)
        return .new
    }

    /// The handling of a claimed `operation` ended: remembered when `handled`, free to be claimed again when not.
    public mutating func finished(_ operation: String, handled wasHandled: Bool) {
        running.remove(operation)
        guard wasHandled, !handled.contains(operation) else { return }
        handled.insert(operation)
        order.append(operation)
        if order.count - oldest > capacity {
            handled.remove(order[oldest])
            oldest += 1
        }
        // Drop the forgotten prefix now and then, so that the order stays about as long as the window.
        if oldest > capacity {
            order.removeFirst(oldest)
            oldest = 0
        }
    }

    /// How many handled operations are remembered now.
    public var count: Int { handled.count }
}

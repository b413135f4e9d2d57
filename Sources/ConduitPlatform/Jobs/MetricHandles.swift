import Metrics
import Synchronization

/// Counters and timers made once per label and dimensions, then reused: making one through the factory on every
/// event looks it up in the registry under a lock, which costs on hot paths (each request, each post).
public final class MetricHandles: Sendable {
    let factory: any MetricsFactory

    private struct Key: Hashable {
        var label: String
        var dimensions: [String]
    }

    private let counters = Mutex<[Key: Counter]>([:])
    private let timers = Mutex<[Key: Timer]>([:])

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// The counter of `label` with `dimensions`.
    public func counter(_ label: String, _ dimensions: [(String, String)]) -> Counter {
        let key = Key(label: label, dimensions: dimensions.flatMap { [$0.0, $0.1] })
        if let counter = counters.withLock({ $0[key] }) { return counter }
        let counter = Counter(label: label, dimensions: dimensions, factory: factory)
        return counters.withLock { counters in
            if let existing = counters[key] { return existing }
            counters[key] = counter
            return counter
        }
    }

    /// The timer of `label` with `dimensions`.
    public func timer(_ label: String, _ dimensions: [(String, String)]) -> Timer {
        let key = Key(label: label, dimensions: dimensions.flatMap { [$0.0, $0.1] })
        if let timer = timers.withLock({ $0[key] }) { return timer }
        let timer = Timer(label: label, dimensions: dimensions, factory: factory)
        return timers.withLock { timers in
            if let existing = timers[key] { return existing }
            timers[key] = timer
            return timer
        }
    }
}

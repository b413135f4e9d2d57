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
        Self.handle(label, dimensions, in: counters) { Counter(label: $0, dimensions: $1, factory: factory) }
    }

    /// The timer of `label` with `dimensions`.
    public func timer(_ label: String, _ dimensions: [(String, String)]) -> Timer {
        Self.handle(label, dimensions, in: timers) { Timer(label: $0, dimensions: $1, factory: factory) }
    }

    /// The handle of `label` and `dimensions` in `cache`, made with `make` the first time.
    private static func handle<Handle: Sendable>(
        _ label: String,
        _ dimensions: [(String, String)],
        in cache: borrowing Mutex<[Key: Handle]>,
        make: (String, [(String, String)]) -> Handle
    ) -> Handle {
        let key = Key(label: label, dimensions: dimensions.flatMap { [$0.0, $0.1] })
        if let handle = cache.withLock({ $0[key] }) { return handle }
        // Made outside the lock (the factory takes its own); the first one stored wins.
        let handle = make(label, dimensions)
        return cache.withLock { cache in
            if let existing = cache[key] { return existing }
            cache[key] = handle
            return handle
        }
    }
}

extension Timer {
    /// Records the time from `started` until now.
    public func record(since started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}

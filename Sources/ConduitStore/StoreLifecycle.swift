import Synchronization

/// Whether ``Store/run()`` has not started, is running, or has returned.
final class StoreLifecycle: Sendable {
    enum Phase: Sendable, Hashable {
        case idle
        case running
        /// Graceful shutdown was triggered or `run()` was cancelled.
        case stopping
        case finished
    }

    private let state = Mutex(Phase.idle)

    var phase: Phase {
        self.state.withLock { $0 }
    }

    /// Moves from idle to running; false if `run()` was called before.
    func start() -> Bool {
        self.state.withLock { phase in
            switch phase {
            case .idle:
                phase = .running
                return true
            case .running, .stopping, .finished:
                return false
            }
        }
    }

    /// Notes that shutdown began (no effect before `run()` or after it returned).
    func stop() {
        self.state.withLock { phase in
            if phase == .running {
                phase = .stopping
            }
        }
    }

    func finish() {
        self.state.withLock { $0 = .finished }
    }
}

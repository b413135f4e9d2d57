import ConduitStore
import SQLKit
import Synchronization

/// The PostgreSQL channel on which nodes tell each other that system jobs were committed.
let jobsChannel = "conduit_jobs"

/// Tells the asynchronous service that new system jobs were committed (or became runnable), so that it claims
/// them now instead of at its next poll. Each listener gets its own stream; signals that arrive while one is
/// pending merge into it.
///
/// `Platform.jobChanges` is another one: it fires when any system job was written (created, claimed, finished or
/// changed by a person), for live views such as the console.
public final class JobWake: Sendable {
    private let listeners = Mutex<(next: Int, all: [Int: AsyncStream<Void>.Continuation])>((0, [:]))

    init() {}

    /// New jobs are committed (or became ready): wake the workers.
    public func signal() {
        for listener in listeners.withLock({ Array($0.all.values) }) {
            listener.yield()
        }
    }

    /// A stream of wake-ups for one listener; it ends when the listener stops iterating.
    public func listen() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let id = listeners.withLock { state in
            state.next += 1
            state.all[state.next] = continuation
            return state.next
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.listeners.withLock { $0.all.removeValue(forKey: id) }
        }
        return stream
    }
}

extension Platform {
    /// Notes that the transaction of `notes` wrote a runnable system job. On PostgreSQL the first one also sends a
    /// `NOTIFY` in that transaction, which reaches the other nodes when it commits.
    func jobWritten(_ notes: TransactionNotes?, db: any SQLDatabase) async throws {
        guard let notes, notes.jobWritten(), store.flavor == .postgres else { return }
        try await db.raw("SELECT pg_notify(\(bind: jobsChannel), '')").run()
    }
}

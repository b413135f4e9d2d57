/// Tells the asynchronous service that new system jobs were committed, so that it claims them now instead of at
/// its next poll. Signals that arrive while one is pending merge into it.
public final class JobWake: Sendable {
    let signals: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (signals, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// New jobs are committed (or became ready): wake the workers.
    public func signal() {
        continuation.yield()
    }
}

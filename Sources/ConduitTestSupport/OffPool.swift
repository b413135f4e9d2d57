import Foundation

/// Runs blocking work (waiting for a child process, reading its output) on a thread of its own and awaits it, so the
/// calling test does not hold one of the few threads that run every test's tasks: on a 2-core machine two blocked
/// threads stall the whole parallel test run.
public func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}

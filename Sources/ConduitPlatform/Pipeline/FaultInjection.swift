import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Crash points for the crash-safety tests: with `CONDUIT_FAULT_KILL_BEFORE_COMMIT=<message>` in the environment,
/// the process kills itself with SIGKILL after the pipeline has written a `<message>` operation and its system jobs
/// but before the transaction commits. Never set outside tests.
enum FaultInjection {
    static let killBeforeCommit = ProcessInfo.processInfo.environment["CONDUIT_FAULT_KILL_BEFORE_COMMIT"]

    static func beforeCommit(message: String) {
        guard let killBeforeCommit, killBeforeCommit == message else { return }
        kill(getpid(), SIGKILL)
    }
}

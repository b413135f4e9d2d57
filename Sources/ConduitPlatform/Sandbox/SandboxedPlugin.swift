import ConduitContext
import Dispatch
import Foundation
import Synchronization
@_spi(Fuzzing) import WasmKit

/// A plug-in type of a sandboxed plug-in assembly (`isolationmode` 2): a function exported by a WebAssembly module,
/// run by WasmKit with a fresh instance per execution, under a fuel budget and a memory cap, with no access to files,
/// clocks or the network: only the host functions of the ABI (docs/sandbox.md).
///
/// The guest exports `memory`, `alloc(size: i32) -> i32` and, for each plug-in type, a function named after its
/// `typename`, `(context: i32, context_length: i32, configuration: i32, configuration_length: i32) -> i32`, called
/// with the execution context as DataContract JSON (UTF-8) and the step's unsecure configuration (UTF-8, length 0
/// when there is none), each written where `alloc` said: it returns 0 for success; any other value fails the step with the message given to
/// `conduit.fail` (or a default). Host functions (module `conduit`): `trace`, `fail`, `post`, `answer`,
/// `set_shared_variable` (see ``SandboxABI``).
struct SandboxedPlugin: Plugin {
    let module: Module
    let typeName: String
    let assemblyName: String
    let limits: SandboxLimits
    let configuration: String?

    init(configuration: String?, secureConfiguration: String?) throws {
        throw PlatformError(
            .pluginFailed,
            "A sandboxed plug-in is made from its plug-in assembly, not from configuration strings."
        )
    }

    init(module: Module, typeName: String, assemblyName: String, limits: SandboxLimits, configuration: String?) {
        self.configuration = configuration
        self.module = module
        self.typeName = typeName
        self.assemblyName = assemblyName
        self.limits = limits
    }

    func execute(_ context: inout RemoteExecutionContext, services: PluginServices) async throws {
        let input = ContextCodec.encode(context, format: .json)
        let run = SandboxRun(context: context, services: services, limits: limits)
        let module = self.module
        let typeName = self.typeName
        let configuration = Array((self.configuration ?? "").utf8)
        // The guest runs on a thread of its own (a host function that calls back into the platform blocks it until
        // the platform answers), never on the cooperative pool.
        let outcome: Result<Int32, any Error> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    returning: Result {
                        try SandboxABI.run(
                            module: module,
                            export: typeName,
                            input: input,
                            configuration: configuration,
                            run: run
                        )
                    }
                )
            }
        }
        let status: Int32
        do {
            status = try outcome.get()
        } catch let error as SandboxError {
            throw PlatformError(
                .pluginFailed,
                "The sandboxed plug-in '\(typeName)' (assembly '\(assemblyName)') failed: \(error.message)"
            )
        } catch let error as Trap {
            if run.cap.refused {
                throw PlatformError(
                    .pluginFailed,
                    "The sandboxed plug-in '\(typeName)' (assembly '\(assemblyName)') tried to grow its memory beyond the sandbox's cap of \(limits.memoryBytes >> 20) MB, and then trapped: \(error)"
                )
            }
            throw PlatformError(
                .pluginFailed,
                "The sandboxed plug-in '\(typeName)' (assembly '\(assemblyName)') trapped: \(SandboxABI.describe(error, limits: limits))"
            )
        } catch let error as HostCallFailure {
            // The platform's own error (a post that failed: an async job waits and retries), unchanged.
            throw error.underlying
        }
        if status != 0 {
            throw InvalidPluginExecutionError(
                run.failure ?? "The sandboxed plug-in '\(typeName)' returned \(status) (failure) without a message."
            )
        }
        for (key, value) in run.sharedVariables { context.sharedVariables[key] = .string(value) }
    }
}

/// What one execution may leave with the host, whatever the guest does.
enum SandboxQuota {
    /// The failure message kept.
    static let failureBytes = 10 << 10
    /// Shared variables' keys and values, together.
    static let sharedVariableBytes = 1 << 20
}

/// What one execution of a sandboxed plug-in collects, and the platform services its host functions call.
final class SandboxRun: Sendable {
    let context: RemoteExecutionContext
    let services: PluginServices
    let limits: SandboxLimits
    /// When the execution must have ended (``SandboxLimits/deadline`` after it began).
    let deadline: ContinuousClock.Instant
    /// Refuses memory growth beyond ``SandboxLimits/memoryBytes``.
    let cap: SandboxMemoryCap
    private struct State {
        var failure: String?
        var answer: [UInt8] = []
        var sharedVariables: [String: String] = [:]
        var sharedVariableBytes = 0
    }
    private let state = Mutex(State())

    init(context: RemoteExecutionContext, services: PluginServices, limits: SandboxLimits) {
        self.context = context
        self.services = services
        self.limits = limits
        self.deadline = .now + limits.deadline
        self.cap = SandboxMemoryCap(bytes: limits.memoryBytes)
    }

    var failure: String? { state.withLock { $0.failure } }
    var sharedVariables: [(String, String)] {
        state.withLock { $0.sharedVariables.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    }
    var answer: [UInt8] { state.withLock { $0.answer } }

    /// A trace line, for the step's ``TracingService`` (which keeps the first 10 KB).
    func trace(_ line: String) { services.tracing.trace(line) }

    func fail(_ message: String) {
        let kept =
            message.utf8.count <= SandboxQuota.failureBytes
            ? message : String(decoding: message.utf8.prefix(SandboxQuota.failureBytes), as: UTF8.self) + "…"
        state.withLock { $0.failure = kept }
    }

    func setAnswer(_ bytes: [UInt8]) { state.withLock { $0.answer = bytes } }

    /// Sets a shared variable (the last value given a key wins); refuses more than
    /// ``SandboxQuota/sharedVariableBytes`` in all.
    func setSharedVariable(_ key: String, _ value: String) throws {
        try state.withLock { state in
            let before = state.sharedVariables[key].map { key.utf8.count + $0.utf8.count } ?? 0
            let total = state.sharedVariableBytes - before + key.utf8.count + value.utf8.count
            guard total <= SandboxQuota.sharedVariableBytes else {
                throw SandboxError(
                    "set_shared_variable: the shared variables of one execution may hold \(SandboxQuota.sharedVariableBytes >> 20) MB in all; '\(key)' would bring them to \(total) bytes"
                )
            }
            state.sharedVariables[key] = value
            state.sharedVariableBytes = total
        }
    }

    /// Stops the execution when it has run past its deadline: checked by every host function, before and after it
    /// calls into the platform (fuel bounds the work between two calls).
    func checkDeadline(_ function: String) throws {
        guard ContinuousClock.now >= deadline else { return }
        throw SandboxError(
            "it ran past its deadline of \(JobLifecycle.describe(limits.deadline)) (stopped when it called conduit.\(function))"
        )
    }

    /// Runs `work` on the cooperative pool and waits for it on this (the guest's) thread.
    func blocking<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        let semaphore = DispatchSemaphore(value: 0)
        let result = Mutex<Result<T, any Error>?>(nil)
        Task {
            let outcome: Result<T, any Error>
            do { outcome = .success(try await work()) } catch { outcome = .failure(error) }
            result.withLock { $0 = outcome }
            semaphore.signal()
        }
        semaphore.wait()
        return try result.withLock { $0! }.get()
    }
}

/// The budget of one execution.
public struct SandboxLimits: Sendable {
    /// Fuel: about one unit per WebAssembly instruction; an execution that spends it all is stopped.
    public var fuel: UInt64
    /// The most linear memory a guest may have, in bytes.
    public var memoryBytes: Int
    /// Wall-clock time an execution may take (Dataverse gives a sandboxed plug-in 2 minutes): a guest that calls a
    /// host function after it fails with the deadline.
    public var deadline: Duration

    public init(fuel: UInt64 = 2_000_000_000, memoryBytes: Int = 64 << 20, deadline: Duration = .seconds(120)) {
        self.fuel = fuel
        self.memoryBytes = memoryBytes
        self.deadline = deadline
    }

    /// The defaults, changed by `CONDUIT_SANDBOX_FUEL` (units), `CONDUIT_SANDBOX_MEMORY_MB` and
    /// `CONDUIT_SANDBOX_TIMEOUT` (seconds) where `environment` gives them.
    static func fromEnvironment(_ environment: [String: String]) -> SandboxLimits {
        var limits = SandboxLimits()
        if let fuel = environment["CONDUIT_SANDBOX_FUEL"].flatMap({ UInt64($0) }) { limits.fuel = fuel }
        if let megabytes = environment["CONDUIT_SANDBOX_MEMORY_MB"].flatMap({ Int($0) }) {
            limits.memoryBytes = megabytes << 20
        }
        if let seconds = environment["CONDUIT_SANDBOX_TIMEOUT"].flatMap({ Double($0) }) {
            limits.deadline = .seconds(seconds)
        }
        return limits
    }
}

/// A sandboxed plug-in that cannot be loaded or run, and why.
struct SandboxError: Error, Sendable, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// A host function's call into the platform failed: the execution stops with the platform's error.
struct HostCallFailure: Error, @unchecked Sendable {
    let underlying: any Error
}

/// Refuses memory growth beyond the cap (and remembers that it did).
final class SandboxMemoryCap: ResourceLimiter {
    let bytes: Int
    private let refusal = Atomic<Bool>(false)
    init(bytes: Int) { self.bytes = bytes }
    var refused: Bool { refusal.load(ordering: .relaxed) }
    func limitMemoryGrowth(to desired: Int) throws -> Bool {
        guard desired <= bytes else {
            refusal.store(true, ordering: .relaxed)
            return false
        }
        return true
    }
    func limitTableGrowth(to desired: Int) throws -> Bool { desired <= 100_000 }
}

import ConduitContext
import ConduitStore
import Foundation
import SQLKit
import Synchronization
import WasmKit

/// The sandboxed plug-in assemblies (`pluginassembly` rows with `isolationmode` 2), parsed once and kept until a
/// registration changes (an assembly uploaded again, a plug-in type added): usable in steps at once, without a
/// restart.
final class SandboxAssemblies: Sendable {
    private struct Loaded: Sendable {
        var module: Module
        var name: String
        /// ``Platform/registrationCounter`` when it was loaded.
        var generation: Int
    }
    private let loaded = Mutex<[Guid: Loaded]>([:])
    /// The budget of each execution: ``SandboxLimits``' defaults, which `CONDUIT_SANDBOX_FUEL`,
    /// `CONDUIT_SANDBOX_MEMORY_MB` and `CONDUIT_SANDBOX_TIMEOUT` (seconds) change.
    private let configuredLimits = Mutex(SandboxLimits.fromEnvironment(ProcessInfo.processInfo.environment))

    /// The budget of each execution.
    var limits: SandboxLimits {
        get { configuredLimits.withLock { $0 } }
        set { configuredLimits.withLock { $0 = newValue } }
    }

    /// The plug-in of `typeName` in assembly `assemblyId`, ready to run.
    func plugin(
        assemblyId: Guid,
        typeName: String,
        configuration: String?,
        platform: Platform,
        db: (any SQLDatabase)?
    ) async throws -> any Plugin {
        let generation = platform.registrationGeneration
        if let cached = loaded.withLock({ $0[assemblyId] }), cached.generation == generation {
            return SandboxedPlugin(
                module: cached.module,
                typeName: typeName,
                assemblyName: cached.name,
                limits: limits,
                configuration: configuration
            )
        }
        let read: @Sendable (any SQLDatabase) async throws -> (String, Int?, String?)? = { db in
            guard
                let row = try await db.raw(
                    "SELECT name, isolationmode, content FROM pluginassembly WHERE pluginassemblyid = \(bind: assemblyId.description)"
                ).first()
            else { return nil }
            return (
                try row.decode(column: "name", as: String?.self) ?? assemblyId.description,
                try row.decode(column: "isolationmode", as: Int?.self),
                try row.decode(column: "content", as: String?.self)
            )
        }
        let found: (String, Int?, String?)?
        if let db {
            found = try await read(db)
        } else {
            found = try await platform.store.withDatabase { try await read($0) }
        }
        guard let (name, isolation, content) = found else {
            throw PlatformError(
                .pluginFailed,
                "The plug-in type '\(typeName)' names plug-in assembly \(assemblyId), which does not exist."
            )
        }
        guard isolation == 2 else {
            throw PlatformError(
                .pluginFailed,
                "The plug-in assembly '\(name)' has isolationmode \(isolation.map(String.init) ?? "null"); only sandboxed assemblies (2) can be uploaded and run."
            )
        }
        guard let content, let bytes = Data(base64Encoded: content, options: .ignoreUnknownCharacters) else {
            throw PlatformError(
                .pluginFailed,
                "The plug-in assembly '\(name)' has no content, or its content is not base64."
            )
        }
        let module: Module
        do {
            module = try SandboxABI.parse(Array(bytes), assembly: name)
        } catch let error as SandboxError {
            throw PlatformError(.pluginFailed, "The sandboxed plug-in '\(typeName)' cannot be loaded: \(error.message)")
        }
        loaded.withLock { $0[assemblyId] = Loaded(module: module, name: name, generation: generation) }
        return SandboxedPlugin(
            module: module,
            typeName: typeName,
            assemblyName: name,
            limits: limits,
            configuration: configuration
        )
    }
}

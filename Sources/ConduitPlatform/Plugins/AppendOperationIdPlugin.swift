import ConduitContext
import Foundation
import Synchronization

/// A sample plug-in compiled into `conduit serve` (type name `Conduit.Samples.AppendOperationId`): appends the
/// `OperationId` of every run, one per line, to the file named by the step's configuration. It shows what an
/// asynchronous step receives, and lets anyone count how often each system job ran — at least once, and more than
/// once only when the server died between the run and recording its outcome.
public struct AppendOperationIdPlugin: Plugin {
    /// The type name to register steps with (`plugintype.typename`).
    public static let typeName = "Conduit.Samples.AppendOperationId"
    private static let writes = Mutex(())

    let path: String

    public init(configuration: String?, secureConfiguration: String?) throws {
        guard let path = configuration?.trimmingCharacters(in: .whitespacesAndNewlines), !path.isEmpty else {
            throw InvalidPluginExecutionError(
                "The step's configuration must be the path of the file to append OperationIds to."
            )
        }
        self.path = path
    }

    public func execute(_ context: inout RemoteExecutionContext, services: PluginServices) async throws {
        let line = Data("\(context.operationId)\n".utf8)
        let path = self.path
        try Self.writes.withLock { _ in
            let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
            guard descriptor >= 0 else {
                throw InvalidPluginExecutionError("Cannot open \(path) to append to it (errno \(errno)).")
            }
            defer { close(descriptor) }
            let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard written == line.count else {
                throw ExternalServiceError("Cannot append to \(path) (errno \(errno)); will try again.")
            }
        }
    }
}

extension PluginRegistry {
    /// A registry with the sample plug-ins compiled into Conduit (`Conduit.Samples.AppendOperationId`).
    public static func withSamples() -> PluginRegistry {
        let registry = PluginRegistry()
        registry.register(AppendOperationIdPlugin.self, typeName: AppendOperationIdPlugin.typeName)
        return registry
    }
}

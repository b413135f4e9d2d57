import ConduitContext
import ConduitPlatform
import Synchronization

/// What test plug-ins saw, by the key each step carries in its configuration.
enum PluginLog {
    private static let entries = Mutex<[String: [String]]>([:])
    private static let contexts = Mutex<[String: [RemoteExecutionContext]]>([:])

    static func append(_ key: String, _ line: String, context: RemoteExecutionContext) {
        entries.withLock { $0[key, default: []].append(line) }
        contexts.withLock { $0[key, default: []].append(context) }
    }

    static func lines(_ key: String) -> [String] { entries.withLock { $0[key] ?? [] } }
    static func contexts(_ key: String) -> [RemoteExecutionContext] { contexts.withLock { $0[key] ?? [] } }
}

/// Configuration: `key|label`. Records "label stage/mode" and the context.
struct RecordingPlugin: Plugin {
    let key: String
    let label: String

    init(configuration: String?, secureConfiguration: String?) throws {
        let parts = (configuration ?? "").split(separator: "|", maxSplits: 1).map(String.init)
        key = parts.first ?? ""
        label = parts.count > 1 ? parts[1] : ""
    }

    func execute(_ context: inout RemoteExecutionContext, services: PluginServices) async throws {
        PluginLog.append(key, "\(label) \(context.stage)", context: context)
    }
}

/// Upper-cases the Target's `firstname` (stage 20).
struct UppercaseFirstNamePlugin: Plugin {
    init(configuration: String?, secureConfiguration: String?) throws {}

    func execute(_ context: inout RemoteExecutionContext, services: PluginServices) async throws {
        guard case .entity(var target)? = context.inputParameters["Target"],
            case .string(let name)? = target.attributes["firstname"]
        else { return }
        target.attributes["firstname"] = .string(name.uppercased())
        context.inputParameters["Target"] = .entity(target)
    }
}

/// Always fails with the configured message.
struct FailingPlugin: Plugin {
    let message: String
    init(configuration: String?, secureConfiguration: String?) throws { message = configuration ?? "failed" }
    func execute(_ context: inout RemoteExecutionContext, services: PluginServices) async throws {
        throw InvalidPluginExecutionError(message)
    }
}

/// Stage 20 writes a shared variable; later stages copy what they saw into the log.
struct SharedVariablePlugin: Plugin {
    let key: String
    init(configuration: String?, secureConfiguration: String?) throws { key = configuration ?? "" }
    func execute(_ context: inout RemoteExecutionContext, services: PluginServices) async throws {
        if context.stage == 20 {
            context.sharedVariables["fromPreOperation"] = .string("hello")
        }
        let seen: String
        if case .string(let text)? = context.sharedVariables["fromPreOperation"] { seen = text } else { seen = "-" }
        PluginLog.append(key, "\(context.stage) saw \(seen)", context: context)
    }
}

/// Updates the row it was triggered by again: an infinite loop.
struct LoopingPlugin: Plugin {
    let key: String
    init(configuration: String?, secureConfiguration: String?) throws { key = configuration ?? "" }
    func execute(_ context: inout RemoteExecutionContext, services: PluginServices) async throws {
        PluginLog.append(key, "depth \(context.depth)", context: context)
        var again = Entity(logicalName: context.primaryEntityName, id: context.primaryEntityId)
        again.attributes["jobtitle"] = .string("loop \(context.depth)")
        try await services.organizationService.update(again)
    }
}

/// Creates an account named after the contact (a nested call in the same transaction).
struct CreateAccountPlugin: Plugin {
    init(configuration: String?, secureConfiguration: String?) throws {}
    func execute(_ context: inout RemoteExecutionContext, services: PluginServices) async throws {
        _ = try await services.organizationService.create(
            Entity(logicalName: "account", attributes: [("name", .string("for \(context.primaryEntityId)"))])
        )
    }
}

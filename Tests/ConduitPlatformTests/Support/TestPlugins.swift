import ConduitContext
import ConduitPlatform
import Foundation
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

/// Attempts per operation (system job), for the asynchronous service tests.
enum JobAttempts {
    private static let counts = Mutex<[String: Int]>([:])

    /// Counts one more attempt of `operation` under `key`; returns the attempt number (1 for the first).
    static func next(_ key: String, _ operation: Guid) -> Int {
        counts.withLock { counts in
            counts["\(key)/\(operation)", default: 0] += 1
            return counts["\(key)/\(operation)"]!
        }
    }
}

/// Configuration: `key|failures|external or internal`. Fails its first `failures` attempts per system job, then
/// succeeds. Each attempt logs "attempt <n> retrycount <r> postponeuntil <ticks or none>" from its job's row.
struct FlakyPlugin: Plugin {
    let key: String
    let failures: Int
    let external: Bool

    init(configuration: String?, secureConfiguration: String?) throws {
        let parts = (configuration ?? "").split(separator: "|").map(String.init)
        key = parts.first ?? ""
        failures = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        external = parts.count > 2 ? parts[2] == "external" : true
    }

    func execute(_ context: inout RemoteExecutionContext, services: PluginServices) async throws {
        let operation = context.operationId
        let attempt = JobAttempts.next(key, operation)
        let job = try await services.organizationService.retrieve(
            EntityReference(logicalName: "asyncoperation", id: operation),
            columns: .columns(["retrycount", "postponeuntil", "statuscode"])
        )
        var postponed = "none"
        if case .dateTime(let date)? = job.attributes["postponeuntil"] { postponed = "\(date.ticks)" }
        var retries = -1
        if case .int(let count)? = job.attributes["retrycount"] { retries = Int(count) }
        PluginLog.append(key, "attempt \(attempt) retrycount \(retries) postponeuntil \(postponed)", context: context)
        guard attempt > failures else {
            if external { throw ExternalServiceError("flaky failure \(attempt)", friendlyMessage: "Try later.") }
            throw InvalidPluginExecutionError("broken on attempt \(attempt)")
        }
    }
}

/// Configuration: `key|failing record id`. Logs "<record> <numberofchildren>" for each update it handles; fails
/// (external) for the failing record until it has logged `othersFirst[key]` updates of other records.
struct OrderPlugin: Plugin {
    static let othersFirst = Mutex<[String: Int]>([:])
    let key: String
    let failingRecord: Guid?

    init(configuration: String?, secureConfiguration: String?) throws {
        let parts = (configuration ?? "").split(separator: "|").map(String.init)
        key = parts.first ?? ""
        failingRecord = parts.count > 1 ? Guid(parts[1]) : nil
    }

    func execute(_ context: inout RemoteExecutionContext, services: PluginServices) async throws {
        let others = Self.othersFirst.withLock { $0[key] } ?? 0
        if context.primaryEntityId == failingRecord, PluginLog.lines(key).count < others {
            throw ExternalServiceError("the downstream system is down for this record")
        }
        guard case .entity(let target)? = context.inputParameters["Target"],
            case .int(let value)? = target.attributes["numberofchildren"]
        else { throw InvalidPluginExecutionError("no numberofchildren in the Target") }
        PluginLog.append(key, "\(context.primaryEntityId) \(value)", context: context)
    }
}

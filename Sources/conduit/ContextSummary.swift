import ConduitContext

/// The human summary `conduit context inspect` prints.
struct ContextSummary {
    var context: RemoteExecutionContext
    var inputFormat: WireFormat
    var inputSize: Int

    var text: String {
        var lines: [String] = []
        let c = context
        lines.append(
            "message:        \(c.messageName ?? "(none)") of \(c.primaryEntityName ?? "(none)") \(c.primaryEntityId)"
        )
        lines.append(
            "stage:          \(c.stage) \(Self.stageName(c.stage)), mode \(c.mode) \(c.mode == 0 ? "synchronous" : c.mode == 1 ? "asynchronous" : "unknown"), depth \(c.depth)"
        )
        lines.append("organization:   \(c.organizationName ?? "(none)") \(c.organizationId)")
        lines.append("user:           \(c.userId) (initiating \(c.initiatingUserId))")
        lines.append("correlation:    \(c.correlationId)")
        lines.append("operation:      \(c.operationId) created \(c.operationCreatedOn.xmlText(localOffsetMinutes: 0))")
        lines.append("request:        \(c.requestId.map(String.init(describing:)) ?? "(none)")")
        if let owner = c.owningExtension {
            lines.append("owning step:    \(owner.logicalName ?? "?") \(owner.id)\(owner.name.map { " \($0)" } ?? "")")
        }
        lines.append("input:          \(Self.describe(c.inputParameters))")
        if case .entity(let target)? = c.inputParameters["Target"] {
            lines.append("target columns: \(target.attributes.keys.joined(separator: ", "))")
        }
        lines.append("output:         \(Self.describe(c.outputParameters))")
        lines.append("shared:         \(Self.describe(c.sharedVariables))")
        lines.append("pre-images:     \(Self.describe(c.preEntityImages))")
        lines.append("post-images:    \(Self.describe(c.postEntityImages))")
        lines.append("parent context: \(c.parent.map { "\($0.messageName ?? "?") stage \($0.stage)" } ?? "none")")
        let sizes = ContextCodec.sizes(of: c)
        let sizeText = WireFormat.allCases.map { "\($0.rawValue) \(sizes[$0] ?? 0) B" }.joined(separator: ", ")
        lines.append("size:           \(sizeText) (read \(inputSize) B of \(inputFormat.rawValue))")
        return lines.joined(separator: "\n") + "\n"
    }

    static func stageName(_ stage: Int32) -> String {
        switch stage {
        case 10: return "PreValidation"
        case 20: return "PreOperation"
        case 30: return "MainOperation"
        case 40: return "PostOperation"
        default: return "stage"
        }
    }

    static func describe<Value>(_ collection: KeyedCollection<Value>) -> String {
        collection.isEmpty ? "(none)" : collection.keys.joined(separator: ", ")
    }
}

import Testing

@testable import ConduitContext

@Suite("payload size rule")
struct PayloadSizePolicyTests {
    static let policies: [PayloadSizePolicy] = [.serviceBus, .webhook]

    /// A context whose body in `format` is exactly `size` bytes, padded in InputParameters (removable) or in
    /// SharedVariables (kept by truncation).
    static func context(size: Int, format: WireFormat, padRemovable: Bool) -> RemoteExecutionContext {
        var length = 0
        var context = RemoteExecutionContext()
        context.messageName = "Update"
        context.primaryEntityName = "account"
        if padRemovable {
            var parent = context
            parent.stage = 30
            context.parent = parent
            context.postEntityImages = [
                ("AsynchronousStepPrimaryName", Entity(logicalName: "account", id: Samples.guid1))
            ]
        }
        for _ in 0..<20 {
            let pad = ContextValue.string(String(repeating: "x", count: length))
            if padRemovable {
                context.inputParameters = [("Target", .entity(Entity(logicalName: "account"))), ("pad", pad)]
            } else {
                context.sharedVariables = [("pad", pad)]
            }
            let measured = ContextCodec.encode(context, format: format).count
            if measured == size { return context }
            length += size - measured
        }
        Issue.record("could not build a \(size)-byte \(format) body")
        return context
    }

    @Test("limits are 192 KB for Service Bus and 256 KB for webhooks")
    func limits() {
        #expect(PayloadSizePolicy.serviceBus.limit == 196_608)
        #expect(PayloadSizePolicy.webhook.limit == 262_144)
    }

    @Test("a body at or just under the limit is sent whole", arguments: policies, WireFormat.allCases)
    func atAndUnderLimit(policy: PayloadSizePolicy, format: WireFormat) throws {
        for size in [policy.limit, policy.limit - 1] {
            let context = Self.context(size: size, format: format, padRemovable: true)
            let payload = try policy.apply(to: context, format: format)
            #expect(payload.body.count == size)
            #expect(!payload.isTruncated)
            #expect(payload.originalSize == size)
            #expect(payload.context == context)
        }
    }

    @Test("a body just over the limit is truncated and marked", arguments: policies, WireFormat.allCases)
    func justOverLimit(policy: PayloadSizePolicy, format: WireFormat) throws {
        let context = Self.context(size: policy.limit + 1, format: format, padRemovable: true)
        let payload = try policy.apply(to: context, format: format)
        #expect(payload.isTruncated)
        #expect(payload.originalSize == policy.limit + 1)
        #expect(payload.body.count < 4096)
        let sent = try ContextCodec.decode(payload.body, format: format)
        #expect(sent.parent == nil)
        #expect(sent.inputParameters.isEmpty)
        #expect(sent.preEntityImages.isEmpty)
        #expect(sent.postEntityImages.isEmpty)
        #expect(sent.messageName == "Update")
        #expect(sent.primaryEntityName == "account")
        #expect(sent == payload.context)
    }

    @Test("still over the limit after truncation is an error with both sizes", arguments: policies, WireFormat.allCases)
    func stillTooLarge(policy: PayloadSizePolicy, format: WireFormat) throws {
        let context = Self.context(size: policy.limit + 1, format: format, padRemovable: false)
        let error = #expect(throws: PayloadTooLargeError.self) { try policy.apply(to: context, format: format) }
        #expect(error?.originalSize == policy.limit + 1)
        #expect(error?.limit == policy.limit)
        // Nothing removable: the truncated body is the same size.
        #expect(error?.truncatedSize == policy.limit + 1)
        #expect(error?.description.contains("\(policy.limit)-byte") == true)
    }

    @Test("the truncated body fits exactly at the limit too", arguments: [WireFormat.json])
    func truncatedFitsAtLimit(format: WireFormat) throws {
        // SharedVariables padding sized so that the truncated body is exactly the limit.
        let policy = PayloadSizePolicy(limit: 10_000)
        var context = Self.context(size: policy.limit, format: format, padRemovable: false)
        context.inputParameters = [
            (
                "Target",
                .entity(
                    Entity(logicalName: "account", attributes: [("big", .string(String(repeating: "y", count: 5000)))])
                )
            )
        ]
        let truncatedSize = ContextCodec.encode(PayloadSizePolicy.truncate(context), format: format).count
        let payload = try PayloadSizePolicy(limit: truncatedSize).apply(to: context, format: format)
        #expect(payload.isTruncated)
        #expect(payload.body.count == truncatedSize)
    }
}

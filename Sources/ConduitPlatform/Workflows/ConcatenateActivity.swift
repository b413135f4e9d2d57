import ConduitContext

/// A sample custom workflow activity: joins two texts with a separator. Inputs `first` and `second` (text,
/// required), `separator` (text, optional, a space by default); output `text`. `conduit serve` registers it as
/// `Conduit.Samples.Concatenate`.
public struct ConcatenateActivity: WorkflowActivity {
    public static let typeName = "Conduit.Samples.Concatenate"
    public static let inputs = [
        WorkflowArgument("first", .string), WorkflowArgument("second", .string),
        WorkflowArgument("separator", .string, required: false),
    ]
    public static let outputs = [WorkflowArgument("text", .string)]

    public init() {}

    public func execute(
        _ inputs: [String: ContextValue],
        context: WorkflowActivityContext
    ) async throws
        -> [String: ContextValue]
    {
        func text(_ name: String) -> String? {
            if case .string(let value)? = inputs[name] { return value }
            return nil
        }
        let joined = [text("first"), text("second")].compactMap { $0 }.joined(separator: text("separator") ?? " ")
        context.services.tracing.trace("Concatenate: \(joined)")
        return ["text": .string(joined)]
    }
}

import ConduitContext
import Synchronization

/// The type of a custom workflow activity's input or output (the types Dataverse allows for `InArgument<T>` and
/// `OutArgument<T>`).
public enum WorkflowArgumentType: String, Sendable, Hashable, Codable, CaseIterable {
    case string, integer, decimal, double, boolean, dateTime, money, entityReference, optionSet

    /// Whether `value` is of this type (`null` is any type's "no value").
    public func accepts(_ value: ContextValue) -> Bool {
        switch (self, value) {
        case (_, .null): true
        case (.string, .string), (.integer, .int), (.decimal, .decimal), (.double, .double), (.boolean, .boolean),
            (.dateTime, .dateTime), (.money, .money), (.entityReference, .entityReference),
            (.optionSet, .optionSetValue):
            true
        default: false
        }
    }

    /// Whether a column of `type` holds values of this type.
    func accepts(column type: AttributeType) -> Bool {
        switch (self, type) {
        case (.string, .string), (.string, .memo), (.integer, .integer), (.decimal, .decimal), (.double, .double),
            (.boolean, .boolean), (.dateTime, .datetime), (.money, .money),
            (.entityReference, .lookup), (.entityReference, .owner), (.entityReference, .customer),
            (.optionSet, .picklist), (.optionSet, .state), (.optionSet, .status):
            true
        default: false
        }
    }
}

/// One input or output of a custom workflow activity.
public struct WorkflowArgument: Sendable, Hashable {
    public var name: String
    public var type: WorkflowArgumentType
    /// Inputs: whether the definition must give it (`[RequiredArgument]`).
    public var isRequired: Bool

    public init(_ name: String, _ type: WorkflowArgumentType, required: Bool = true) {
        self.name = name
        self.type = type
        self.isRequired = required
    }
}

/// What a custom workflow activity gets besides its inputs.
public struct WorkflowActivityContext: Sendable {
    /// The workflow's execution context (the SDK's `IWorkflowContext`): the triggering message, table, record and
    /// user.
    public let context: RemoteExecutionContext
    /// The organization service (as the workflow's user), tracing and the notification service.
    public let services: PluginServices
}

/// A custom workflow activity compiled into the server (the SDK's `CodeActivity`), with typed inputs and outputs.
/// Register it with ``Platform/registerWorkflowActivity(_:typeName:friendlyName:)``; a workflow definition calls it
/// by type name (`{"type": "custom", "activity": "…", "inputs": {…}, "outputs": {…}}`).
///
/// ```swift
/// struct Greeting: WorkflowActivity {
///     static let inputs = [WorkflowArgument("name", .string)]
///     static let outputs = [WorkflowArgument("greeting", .string)]
///     func execute(_ inputs: [String: ContextValue], context: WorkflowActivityContext) async throws
///         -> [String: ContextValue]
///     {
///         guard case .string(let name)? = inputs["name"] else { return ["greeting": .null] }
///         return ["greeting": .string("Hello, \(name)")]
///     }
/// }
/// ```
/// The inputs it gets and the outputs it returns are checked against the declared types: a wrong type fails the
/// workflow with a message that names the argument. An error it throws fails the workflow job, except
/// ``ExternalServiceError``, which makes the job wait and retry from this activity.
public protocol WorkflowActivity: Sendable {
    static var inputs: [WorkflowArgument] { get }
    static var outputs: [WorkflowArgument] { get }
    init()
    func execute(
        _ inputs: [String: ContextValue],
        context: WorkflowActivityContext
    ) async throws
        -> [String: ContextValue]
}

/// The custom workflow activities compiled into this server, by type name.
public final class WorkflowActivityRegistry: Sendable {
    /// A registered activity: its arguments and how to make one.
    struct Entry: Sendable {
        var inputs: [WorkflowArgument]
        var outputs: [WorkflowArgument]
        var make: @Sendable () -> any WorkflowActivity
    }

    private let entries = Mutex<[String: Entry]>([:])

    public init() {}

    /// Registers an activity type under `typeName`.
    public func register<A: WorkflowActivity>(_ type: A.Type, typeName: String) {
        entries.withLock { $0[typeName] = Entry(inputs: A.inputs, outputs: A.outputs, make: { A() }) }
    }

    func entry(_ typeName: String) -> Entry? { entries.withLock { $0[typeName] } }

    /// The registered type names.
    public var typeNames: [String] { entries.withLock { Array($0.keys) }.sorted() }
}

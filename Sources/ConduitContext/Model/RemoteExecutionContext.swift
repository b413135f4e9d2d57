/// The execution context Dataverse posts to service endpoints: `Microsoft.Xrm.Sdk.RemoteExecutionContext`,
/// data contract `RemoteExecutionContext` in `http://schemas.microsoft.com/xrm/2011/Contracts`.
///
/// Every wire member is here, in wire (ordinal) order. The three newer members (`InitiatingUserAgent`,
/// `InitiatingUserAzureActiveDirectoryObjectId`, `UserAzureActiveDirectoryObjectId`) are optional: `nil` means the
/// member is not on the wire, as in contexts from older platforms. Unknown members are kept in ``extensionData``.
///
/// ```swift
/// let context = try ContextCodec.decode(bytes, format: .json)
/// print(context.messageName, context.primaryEntityName)
/// let binary = try ContextCodec.encode(context, format: .binary)
/// ```
public struct RemoteExecutionContext: Hashable, Sendable {
    public var businessUnitId: Guid
    public var correlationId: Guid
    /// Call depth, 1 for an operation a user started.
    public var depth: Int32
    /// The client's user agent (newer platforms only).
    public var initiatingUserAgent: String?
    /// Entra object id of the initiating user (newer platforms only).
    public var initiatingUserAzureActiveDirectoryObjectId: Guid?
    public var initiatingUserId: Guid
    /// Request parameters, e.g. `Target`.
    public var inputParameters: ParameterCollection
    public var isExecutingOffline: Bool
    public var isInTransaction: Bool
    public var isOfflinePlayback: Bool
    /// 1 None, 2 Sandbox.
    public var isolationMode: Int32
    public var messageName: String?
    /// 0 synchronous, 1 asynchronous.
    public var mode: Int32
    /// For asynchronous steps, the system job's `createdon`.
    public var operationCreatedOn: DotNetDateTime
    /// For asynchronous steps, the system job's id.
    public var operationId: Guid
    public var organizationId: Guid
    /// The organization's unique name.
    public var organizationName: String?
    public var outputParameters: ParameterCollection
    /// The step (`sdkmessageprocessingstep`) or service endpoint that owns the post.
    public var owningExtension: EntityReference?
    /// The context of the core operation (stage 30) for a post-operation step.
    public var parentContext: Box?
    public var postEntityImages: EntityImageCollection
    public var preEntityImages: EntityImageCollection
    public var primaryEntityId: Guid
    public var primaryEntityName: String?
    public var requestId: Guid?
    /// `"none"` when there is no secondary table.
    public var secondaryEntityName: String?
    public var sharedVariables: ParameterCollection
    /// 10 PreValidation, 20 PreOperation, 30 MainOperation, 40 PostOperation.
    public var stage: Int32
    /// Entra object id of the user (newer platforms only).
    public var userAzureActiveDirectoryObjectId: Guid?
    public var userId: Guid
    /// Members this version does not know, kept for the round trip.
    public var extensionData: ExtensionData

    /// Holds a parent context (a struct cannot contain itself directly).
    public final class Box: Hashable, Sendable {
        /// The parent context.
        public let context: RemoteExecutionContext
        /// Wraps a context.
        public init(_ context: RemoteExecutionContext) { self.context = context }
        public static func == (lhs: Box, rhs: Box) -> Bool { lhs.context == rhs.context }
        public func hash(into hasher: inout Hasher) { hasher.combine(context) }
    }

    /// The parent context, unwrapped.
    public var parent: RemoteExecutionContext? {
        get { parentContext?.context }
        set { parentContext = newValue.map(Box.init) }
    }

    /// Creates a context with every member at its default (empty GUIDs, empty collections, depth 1, stage 40,
    /// asynchronous, `SecondaryEntityName` `"none"`).
    public init() {
        businessUnitId = .empty
        correlationId = .empty
        depth = 1
        initiatingUserAgent = nil
        initiatingUserAzureActiveDirectoryObjectId = nil
        initiatingUserId = .empty
        inputParameters = []
        isExecutingOffline = false
        isInTransaction = false
        isOfflinePlayback = false
        isolationMode = 1
        messageName = nil
        mode = 1
        operationCreatedOn = DotNetDateTime(ticks: DotNetDateTime.unixEpochTicks, kind: .utc)!
        operationId = .empty
        organizationId = .empty
        organizationName = nil
        outputParameters = []
        owningExtension = nil
        parentContext = nil
        postEntityImages = []
        preEntityImages = []
        primaryEntityId = .empty
        primaryEntityName = nil
        requestId = nil
        secondaryEntityName = "none"
        sharedVariables = []
        stage = 40
        userAzureActiveDirectoryObjectId = nil
        userId = .empty
        extensionData = ExtensionData()
    }
}

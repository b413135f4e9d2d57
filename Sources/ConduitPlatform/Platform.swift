import ConduitContext
import ConduitStore
import Foundation
import Logging
import SQLKit
import Synchronization
import Tracing

/// The data platform of one organization: its tables and rows on a `Store`, the organization service and the event
/// pipeline that runs registered steps around every operation.
///
/// ```swift
/// let platform = try await Platform.open(store: store, plugins: registry, logger: logger)
/// let service = platform.organizationService(userId: platform.administratorId)
/// let id = try await service.create(Entity(logicalName: "contact", attributes: [("firstname", .string("Ada"))]))
/// ```
public final class Platform: Sendable {
    public let store: Store
    public let metadata: MetadataCatalog
    public let plugins: PluginRegistry
    let logger: Logger
    let records: RecordStore
    let steps: StepCache
    /// Uploaded, sandboxed plug-in assemblies (WebAssembly).
    let sandbox = SandboxAssemblies()

    /// The budget of each sandboxed plug-in execution (fuel, memory cap).
    public var sandboxLimits: SandboxLimits {
        get { sandbox.limits }
        set { sandbox.limits = newValue }
    }
    let users = UserDirectory()
    /// Which members contexts carry: `.current` adds `InitiatingUserAgent` and the two Entra object ids, as
    /// Dataverse does since 2022–2024; `.classic` leaves them out, as the 2017 platform did.
    public let contextMembers: ContextMembers

    /// The member set of the contexts the pipeline builds.
    public enum ContextMembers: Sendable { case current, classic }
    /// Custom messages by name.
    let customMessages = Mutex<[String: CustomMessageHandler]>([:])
    /// The organization's identity.
    public let organization: OrganizationInfo
    /// A counter for `asyncoperation.sequence`, seeded from the database (SQLite; PostgreSQL uses a sequence, as
    /// several nodes write jobs).
    let jobSequence: Atomic<Int64>
    /// Wakes the asynchronous service when system jobs are committed.
    public let jobWake = JobWake()
    /// The tracer of the spans of a change's way: the Web API request, the pipeline, the system job, the post
    /// (``TraceSpans``). `NoOpTracer` unless one is given (`conduit serve --trace-log`).
    public let tracer: any Tracer
    /// Fires after system jobs of this node were written: created, claimed, finished, or changed by a person.
    public let jobChanges = JobWake()
    /// The custom workflow activities compiled into this server.
    public let workflowActivities = WorkflowActivityRegistry()
    /// The installed `IServiceEndpointNotificationService`.
    private let notifications = Mutex<any ServiceEndpointNotificationService>(UnavailableNotificationService())
    /// Counts committed changes to step registrations and service endpoints on this node.
    private let registrationCounter = Atomic<Int>(0)
    /// Checks run on a table's rows before Create and Update write them, by table.
    private let tableRules = Mutex<[String: [TableRule]]>([:])
    /// Whether the compiled-in plug-ins' `pluginassembly` row is known to exist.
    private let compiledAssemblyReady = Atomic<Bool>(false)

    /// A check (and completion) of a row before it is written: gets the columns the client sent (which it may
    /// change, for example to set derived columns), for Update the current row, and the operation's transaction
    /// (to read related rows). Throw a ``PlatformError`` to refuse the write; the message reaches the client.
    public typealias TableRule =
        @Sendable (_ target: inout Entity, _ current: Entity?, _ message: String, _ db: any SQLDatabase) async throws
        -> Void

    /// A handler for a custom message: gets the request and services, returns the response results.
    public typealias CustomMessageHandler =
        @Sendable (OrganizationRequest, PluginServices) async throws -> ParameterCollection

    /// Who this organization is.
    public struct OrganizationInfo: Sendable, Hashable {
        public var id: Guid
        public var name: String
        public var rootBusinessUnitId: Guid
        /// The `SYSTEM` user the platform acts as.
        public var systemUserId: Guid
        /// The first administrator.
        public var administratorId: Guid
    }

    /// The largest call depth; a call nested deeper fails as an infinite loop.
    public static let maximumDepth: Int32 = 8

    private init(
        store: Store,
        metadata: MetadataCatalog,
        plugins: PluginRegistry,
        organization: OrganizationInfo,
        jobSequence: Int64,
        contextMembers: ContextMembers,
        tracer: any Tracer,
        logger: Logger
    ) {
        self.tracer = tracer
        self.contextMembers = contextMembers
        self.store = store
        self.metadata = metadata
        self.plugins = plugins
        self.organization = organization
        self.logger = logger
        self.records = RecordStore(flavor: store.flavor)
        self.steps = StepCache()
        self.jobSequence = Atomic(jobSequence)
    }

    /// The administrator created on first start.
    public var administratorId: Guid { organization.administratorId }

    /// Opens the platform: applies migrations, loads the tables, and on first start creates the organization, its
    /// root business unit, the `SYSTEM` user, an administrator and the SDK messages and filters.
    public static func open(
        store: Store,
        plugins: PluginRegistry = PluginRegistry(),
        organizationName: String = "conduit",
        contextMembers: ContextMembers = .current,
        migrations: [Migration] = [],
        tracer: any Tracer = NoOpTracer(),
        logger: Logger
    ) async throws -> Platform {
        try await store.migrate(PlatformMigrations.all + migrations)
        let (tables, manyToMany) = try await store.withDatabase { db in
            (try await MetadataCatalog.load(db: db), try await ManyToManyRelationshipMetadata.load(db: db))
        }
        let catalog = MetadataCatalog(tables: tables, manyToMany: manyToMany)
        let organization = try await Bootstrap.ensureOrganization(
            store: store,
            catalog: catalog,
            name: organizationName
        )
        let sequence = try await store.withDatabase { db in
            try await db.raw("SELECT MAX(sequence) AS m FROM asyncoperation").all().first.flatMap {
                try? $0.decode(column: "m", as: Int64?.self)
            } ?? 0
        }
        let platform = Platform(
            store: store,
            metadata: catalog,
            plugins: plugins,
            organization: organization,
            jobSequence: sequence,
            contextMembers: contextMembers,
            tracer: tracer,
            logger: logger
        )
        platform.addRule(table: "pluginassembly") { target, current, _, db in
            try await PluginAssemblyRules.check(&target, current: current, db: db)
        }
        platform.addRule(table: "plugintype") { target, current, _, db in
            try await PluginAssemblyRules.checkType(target, current: current, db: db)
        }
        try await WorkflowActivation.install(on: platform)
        return platform
    }

    /// The organization service, running as `userId` (and initiated by `initiatingUserId`, by default the same).
    public func organizationService(userId: Guid, initiatingUserId: Guid? = nil) -> OrganizationService {
        OrganizationService(
            platform: self,
            caller: Caller(
                userId: userId,
                initiatingUserId: initiatingUserId ?? userId,
                depth: 1,
                correlationId: nil,
                transaction: nil,
                parent: nil
            )
        )
    }

    /// Installs the service that posts contexts to service endpoints (steps whose handler is a `serviceendpoint`,
    /// and plug-ins' ``PluginServices/notificationService``).
    public func install(notificationService: any ServiceEndpointNotificationService) {
        notifications.withLock { $0 = notificationService }
    }

    /// The installed notification service.
    public func notificationService() -> any ServiceEndpointNotificationService {
        notifications.withLock { $0 }
    }

    /// Changes after every committed write to steps, plug-in types or service endpoints on this node: caches of
    /// them compare it with the value they loaded at (and still reload every few seconds, for other nodes).
    public var registrationGeneration: Int { registrationCounter.load(ordering: .acquiring) }

    /// The plug-in a step's handler names: a sandboxed plug-in of an uploaded assembly, or a plug-in type compiled
    /// into this server; `nil` when it is neither.
    func plugin(for step: StepRegistration, db: (any SQLDatabase)?) async throws -> (any Plugin)? {
        guard let typeName = step.pluginTypeName else { return nil }
        if step.runsInSandbox, let assembly = step.pluginAssemblyId {
            return try await sandbox.plugin(
                assemblyId: assembly,
                typeName: typeName,
                configuration: step.configuration,
                platform: self,
                db: db
            )
        }
        return try plugins.factory(typeName).map { try $0(step.configuration, nil) }
    }

    func registrationsChanged() {
        registrationCounter.add(1, ordering: .releasing)
    }

    /// Reads a row with every column, secrets (`IsValidForRead = false`) included, for the platform's own services
    /// (the notification service reads a service endpoint's key). Never hand the result to a client.
    /// - Parameter transaction: The caller's open transaction, or `nil` to read through a reader connection.
    public func rowWithSecrets(
        _ reference: EntityReference,
        transaction: (any SQLDatabase)? = nil
    ) async throws -> Entity? {
        let table = try metadata.require(reference.logicalName ?? "")
        let records = self.records
        if let transaction {
            return try await records.fetch(id: reference.id, columns: nil, from: table, db: transaction)
        }
        return try await store.withDatabase { db in
            try await records.fetch(id: reference.id, columns: nil, from: table, db: db)
        }
    }

    /// Adds a rule that every Create and Update of `table` goes through, in the operation's transaction.
    public func addRule(table: String, _ rule: @escaping TableRule) {
        tableRules.withLock { $0[table, default: []].append(rule) }
    }

    /// Runs the rules of `table` on a row about to be written, in the operation's transaction `db`.
    func applyRules(
        table: String,
        target: inout Entity,
        current: Entity?,
        message: String,
        db: any SQLDatabase
    ) async throws {
        for rule in tableRules.withLock({ $0[table] ?? [] }) {
            try await rule(&target, current, message, db)
        }
    }

    /// Registers a custom message by name.
    public func registerMessage(_ name: String, handler: @escaping CustomMessageHandler) {
        customMessages.withLock { $0[name] = handler }
    }

    /// Whether a custom message with this name is registered.
    public func hasMessage(_ name: String) -> Bool {
        customMessages.withLock { $0[name] != nil }
    }

    /// Registers a custom workflow activity compiled into the server (its `plugintype` row has
    /// `isworkflowactivity` set); workflow definitions call it by `typeName`.
    @discardableResult
    public func registerWorkflowActivity<A: WorkflowActivity>(
        _ type: A.Type,
        typeName: String,
        friendlyName: String? = nil
    ) async throws -> Guid {
        workflowActivities.register(type, typeName: typeName)
        return try await ensurePluginTypeRow(typeName: typeName, friendlyName: friendlyName, isWorkflowActivity: true)
    }

    /// Registers a plug-in type compiled into the server and makes sure its `plugintype` row exists.
    /// Returns the row's id, for steps' `eventhandler`.
    @discardableResult
    public func registerPluginType<P: Plugin>(
        _ type: P.Type,
        typeName: String,
        friendlyName: String? = nil
    )
        async throws -> Guid
    {
        plugins.register(type, typeName: typeName)
        return try await ensurePluginTypeRow(typeName: typeName, friendlyName: friendlyName)
    }

    func ensurePluginTypeRow(
        typeName: String,
        friendlyName: String?,
        isWorkflowActivity: Bool = false
    ) async throws
        -> Guid
    {
        let id = NameBasedGuid.make("plugintype:" + typeName)
        let service = organizationService(userId: organization.systemUserId)
        let assembly = try await ensureCompiledAssemblyRow(service)
        if let row = try await service.retrieveIfExists(
            EntityReference(logicalName: "plugintype", id: id),
            columns: .columns(["pluginassemblyid"])
        ) {
            // A row made before compiled-in plug-ins had their assembly row.
            if case .entityReference? = row.attributes["pluginassemblyid"] {
            } else {
                try await service.update(
                    Entity(
                        logicalName: "plugintype",
                        id: id,
                        attributes: [("pluginassemblyid", .entityReference(assembly))]
                    )
                )
            }
        } else {
            try await Self.createOnce(
                service,
                Entity(
                    logicalName: "plugintype",
                    id: id,
                    attributes: [
                        ("name", .string(typeName)), ("typename", .string(typeName)),
                        ("friendlyname", .string(friendlyName ?? typeName)),
                        ("assemblyname", .string(PluginAssemblyRules.compiledAssemblyName)),
                        ("isworkflowactivity", .boolean(isWorkflowActivity)),
                        ("pluginassemblyid", .entityReference(assembly)),
                    ]
                )
            )
        }
        return id
    }

    /// Makes sure the `pluginassembly` row of the plug-ins compiled into the server exists (`isolationmode` 1, None:
    /// full trust, as Dataverse records its own plug-ins); returns a reference to it.
    private func ensureCompiledAssemblyRow(_ service: OrganizationService) async throws -> EntityReference {
        let reference = EntityReference(logicalName: "pluginassembly", id: PluginAssemblyRules.compiledAssemblyId)
        if compiledAssemblyReady.load(ordering: .acquiring) { return reference }
        if try await service.retrieveIfExists(reference, columns: .columns(["name"])) == nil {
            try await Self.createOnce(service, PluginAssemblyRules.compiledAssemblyRow)
        }
        compiledAssemblyReady.store(true, ordering: .releasing)
        return reference
    }

    /// Creates a row every organization has once, with a fixed id: another node that starts at the same time and
    /// made it first is no error.
    private static func createOnce(_ service: OrganizationService, _ entity: Entity) async throws {
        do {
            _ = try await service.create(entity)
        } catch let error as PlatformError where error.code == .duplicateRecord {}
    }

    /// Creates a custom table at run time, with its SQL table and its SDK message filters.
    public func createTable(_ entity: EntityMetadata) async throws {
        try MetadataCatalog.validateName(entity.logicalName, what: "table")
        try MetadataCatalog.validateName(entity.entitySetName, what: "collection")
        for attribute in entity.attributes { try MetadataCatalog.validateName(attribute.logicalName, what: "column") }
        let flavor = store.flavor
        let catalog = metadata
        try await store.transaction { db in
            try await catalog.createTable(entity, db: db, flavor: flavor)
            try await Bootstrap.insertFilters(for: entity.logicalName, db: db)
        }
        metadata.put(entity)
    }

    /// Creates a many-to-many relationship at run time, with its intersect table.
    public func createRelationship(_ relationship: ManyToManyRelationshipMetadata) async throws {
        try relationship.validate(in: metadata)
        try await store.transaction { db in
            for statement in relationship.createStatements() {
                try await db.raw(SQLQueryString(statement)).run()
            }
            try await relationship.save(db: db)
        }
        metadata.put(relationship)
    }

    /// Adds a custom column to a table at run time.
    public func addColumn(_ attribute: AttributeMetadata, to table: String) async throws {
        try MetadataCatalog.validateName(attribute.logicalName, what: "column")
        let flavor = store.flavor
        let catalog = metadata
        let updated = try await store.transaction { db in
            try await catalog.addColumn(attribute, to: table, db: db, flavor: flavor)
        }
        metadata.put(updated)
    }

    /// The id of the `sdkmessage` row of a message (`Create`, `Update`, …), for `sdkmessageprocessingstep.sdkmessageid`.
    public static func messageId(_ message: String) -> Guid { Bootstrap.messageId(message) }

    /// The id of the `sdkmessagefilter` row of a message on a table, for `sdkmessageprocessingstep.sdkmessagefilterid`.
    public static func messageFilterId(message: String, table: String) -> Guid {
        Bootstrap.filterId(message: message, entity: table)
    }

    /// The next `asyncoperation.sequence`.
    /// The next `asyncoperation.sequence`: in commit order for the jobs of one record (its row lock orders them).
    func nextJobSequence(db: any SQLDatabase) async throws -> Int64 {
        switch store.flavor {
        case .sqlite:
            return jobSequence.add(1, ordering: .relaxed).newValue
        case .postgres:
            let row = try await db.raw("SELECT nextval('asyncoperation_sequence') AS n").first()
            guard let value = try row?.decode(column: "n", as: Int64.self) else {
                throw PlatformError(.unexpected, "The database returned no system job sequence number.")
            }
            return value
        }
    }
}

/// Deterministic GUIDs for rows the platform seeds (messages, filters, plug-in types), so every node and every
/// restart agrees on them.
enum NameBasedGuid {
    static func make(_ name: String) -> Guid {
        // Two FNV-1a 64-bit hashes with different offsets, marked as a version-5-like name-based GUID.
        var a: UInt64 = 0xcbf2_9ce4_8422_2325
        var b: UInt64 = 0x8422_2325_cbf2_9ce4
        for byte in name.utf8 {
            a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            b = b &+ (a >> 17)
        }
        a = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_5000
        b = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return Guid(high: a, low: b)
    }
}

import ConduitContext
import ConduitPlatform
import ConduitStore
import ConduitTestSupport
import Logging

/// A platform on a fresh database, with the test plug-ins registered and helpers to register steps.
struct PlatformHarness: Sendable {
    let platform: Platform
    let service: OrganizationService
    let pluginTypes: [String: Guid]

    static func run<T: Sendable>(
        _ backend: TestBackend,
        contextMembers: Platform.ContextMembers = .current,
        _ body: @Sendable (PlatformHarness) async throws -> T
    ) async throws -> T {
        try await backend.withFreshStore { store in
            var logger = Logger(label: "conduit.test")
            logger.logLevel = .warning
            let platform = try await Platform.open(store: store, contextMembers: contextMembers, logger: logger)
            var types: [String: Guid] = [:]
            types["Recording"] = try await platform.registerPluginType(
                RecordingPlugin.self,
                typeName: "Tests.Recording"
            )
            types["Uppercase"] = try await platform.registerPluginType(
                UppercaseFirstNamePlugin.self,
                typeName: "Tests.Uppercase"
            )
            types["Failing"] = try await platform.registerPluginType(FailingPlugin.self, typeName: "Tests.Failing")
            types["Shared"] = try await platform.registerPluginType(SharedVariablePlugin.self, typeName: "Tests.Shared")
            types["Looping"] = try await platform.registerPluginType(LoopingPlugin.self, typeName: "Tests.Looping")
            types["CreateAccount"] = try await platform.registerPluginType(
                CreateAccountPlugin.self,
                typeName: "Tests.CreateAccount"
            )
            types["Flaky"] = try await platform.registerPluginType(FlakyPlugin.self, typeName: "Tests.Flaky")
            types["Order"] = try await platform.registerPluginType(OrderPlugin.self, typeName: "Tests.Order")
            let harness = PlatformHarness(
                platform: platform,
                service: platform.organizationService(userId: platform.administratorId),
                pluginTypes: types
            )
            return try await body(harness)
        }
    }

    /// Registers a step the way the Plug-in Registration Tool does: a `sdkmessageprocessingstep` row (and image rows).
    @discardableResult
    func registerStep(
        _ name: String,
        plugin: String,
        message: String,
        table: String,
        stage: Int32,
        mode: Int32 = 0,
        rank: Int32 = 1,
        configuration: String? = nil,
        filteringAttributes: String? = nil,
        images: [(type: Int32, alias: String, attributes: String?)] = []
    ) async throws -> Guid {
        let id = try await service.registerStep(
            name,
            message: message,
            table: table,
            stage: stage,
            mode: mode,
            rank: rank,
            pluginType: pluginTypes[plugin]!,
            configuration: configuration,
            filteringAttributes: filteringAttributes,
            images: images.map { StepImage(type: $0.type, alias: $0.alias, attributes: $0.attributes) }
        )
        return id
    }

    /// The system jobs, oldest first.
    func jobs() async throws -> EntityCollection {
        try await service.retrieveMultiple(
            QueryExpression(entityName: "asyncoperation", orders: [OrderExpression("sequence")])
        )
    }
}

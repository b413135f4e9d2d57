import AsyncHTTPClient
import ConduitBus
import ConduitContext
import ConduitEndpoints
import ConduitPlatform
import ConduitStore
import ConduitTestSupport
import Foundation
import Logging
import NIOSSL
import Tracing

/// A platform with the embedded bus and service endpoints on a fresh database, with helpers to register endpoints
/// and steps, run the asynchronous service and read queues.
struct EndpointHarness: Sendable {
    let platform: Platform
    let service: OrganizationService
    let bus: BusNamespace
    let root: AuthorizationRule
    let notifications: NotificationService

    static func run<T: Sendable>(
        _ backend: TestBackend,
        httpClient: HTTPClient = .shared,
        remoteTLS: TLSConfiguration? = nil,
        postTimeout: Duration = .seconds(60),
        plugins: PluginRegistry = PluginRegistry(),
        tracer: any Tracer = NoOpTracer(),
        _ body: @Sendable (EndpointHarness) async throws -> T
    ) async throws -> T {
        try await backend.withFreshStore { store in
            var logger = Logger(label: "conduit.test.endpoints")
            logger.logLevel = .warning
            let platform = try await Platform.open(
                store: store,
                plugins: plugins,
                migrations: BusNamespace.migrations,
                tracer: tracer,
                logger: logger
            )
            let bus = BusNamespace(store: store)
            let root = try await bus.ensureRootRule()
            let notifications = try ServiceEndpoints.install(
                on: platform,
                bus: bus,
                embedded: EmbeddedNamespace(name: "localhost", ports: [8080]),
                httpClient: httpClient,
                remoteTLS: remoteTLS,
                organizationURL: "http://conduit.test/",
                postTimeout: postTimeout,
                logger: logger
            )
            let harness = EndpointHarness(
                platform: platform,
                service: platform.organizationService(userId: platform.administratorId),
                bus: bus,
                root: root,
                notifications: notifications
            )
            do {
                let result = try await body(harness)
                await notifications.shutdown()
                return result
            } catch {
                await notifications.shutdown()
                throw error
            }
        }
    }

    static var now: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    func createQueue(_ name: String, duplicateDetection: Bool = true) async throws {
        try await bus.queues.createQueue(
            QueueDescription(name: name, duplicateDetectionWindowSeconds: duplicateDetection ? 600 : nil),
            now: Self.now
        )
    }

    /// A `serviceendpoint` row's columns for a queue on the embedded bus, signed with the root rule.
    func queueEndpoint(
        _ path: String,
        format: WireFormat = .json,
        contract: Int32 = 6
    ) -> [(String, ContextValue)] {
        [
            ("name", .string("\(path) endpoint")), ("contract", .optionSetValue(OptionSetValue(contract))),
            ("authtype", .optionSetValue(OptionSetValue(2))),
            ("messageformat", .optionSetValue(OptionSetValue(Int32(format.messageFormat)))),
            ("namespaceaddress", .string("sb://localhost/")), ("solutionnamespace", .string("localhost")),
            ("path", .string(path)), ("saskeyname", .string(root.keyName)), ("saskey", .string(root.primaryKey)),
            ("userclaim", .optionSetValue(OptionSetValue(1))), ("connectionmode", .optionSetValue(OptionSetValue(1))),
        ]
    }

    func createEndpoint(_ columns: [(String, ContextValue)]) async throws -> Guid {
        var row = Entity(logicalName: "serviceendpoint")
        row.attributes = KeyedCollection(columns.map { KeyValuePair(key: $0.0, value: $0.1) })
        return try await service.create(row)
    }

    /// Registers a step on `message` of `table` whose handler is the endpoint.
    @discardableResult
    func registerEndpointStep(
        _ endpoint: Guid,
        message: String = "Update",
        table: String = "contact",
        mode: Int32 = 1,
        stage: Int32 = 40,
        filteringAttributes: String? = nil,
        images: [StepImage] = []
    ) async throws -> Guid {
        try await service.registerStep(
            "Microsoft.Crm.ServiceBus.ServiceBusPlugin: \(message) of \(table)",
            message: message,
            table: table,
            stage: stage,
            mode: mode,
            handler: EntityReference(logicalName: "serviceendpoint", id: endpoint),
            filteringAttributes: filteringAttributes,
            images: images
        )
    }

    /// A retry policy that waits `delay` before every retry and gives up after a minute.
    static func retryEvery(_ delay: Duration) -> RetryPolicy {
        RetryPolicy(
            initialDelay: delay,
            multiplier: 1,
            maximumDelay: delay,
            minimumDelay: delay,
            giveUpAfter: .seconds(60)
        )
    }

    /// Runs `body` with the asynchronous service running.
    func withAsyncService<T: Sendable>(
        retryPolicy: RetryPolicy = .default,
        clock: (@Sendable () -> Int64)? = nil,
        _ body: @Sendable () async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "conduit.test.jobs")
        logger.logLevel = .warning
        let service = AsyncService(
            platform: platform,
            configuration: AsyncServiceConfiguration(
                workers: 2,
                pollInterval: .milliseconds(50),
                retryPolicy: retryPolicy
            ),
            logger: logger,
            clock: clock ?? { DotNetDateTime.now().ticks }
        )
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await service.run()
                return nil
            }
            let result = try await body()
            group.cancelAll()
            while try await group.next() != nil {}
            return result
        }
    }

    /// Waits up to `timeout` for a message on `queue` and takes it.
    func receive(_ queue: String, timeout: Duration = .seconds(30)) async throws -> ReceivedMessage? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let message = try await bus.queues.receiveAndDelete(queue, now: Self.now) { return message }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// The system jobs, oldest first.
    func jobs() async throws -> [Entity] {
        try await service.retrieveMultiple(
            QueryExpression(entityName: "asyncoperation", orders: [OrderExpression("sequence")])
        ).entities
    }

    /// Waits until every system job is completed (statecode 3); returns them.
    func completedJobs(timeout: Duration = .seconds(30)) async throws -> [Entity] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let jobs = try await jobs()
            if !jobs.isEmpty, jobs.allSatisfy({ $0.attributes["statecode"] == .optionSetValue(OptionSetValue(3)) }) {
                return jobs
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await jobs()
    }

    func createContact(_ first: String, _ last: String) async throws -> Guid {
        try await service.create(
            Entity(logicalName: "contact", attributes: [("firstname", .string(first)), ("lastname", .string(last))])
        )
    }

    func updateContact(_ id: Guid, _ columns: [(String, ContextValue)]) async throws {
        var row = Entity(logicalName: "contact", id: id)
        row.attributes = KeyedCollection(columns.map { KeyValuePair(key: $0.0, value: $0.1) })
        try await service.update(row)
    }
}

import ConduitAMQP
import ConduitBus
import ConduitContext
import ConduitEndpoints
import ConduitPlatform
import ConduitStore
import ConduitTestSupport
import Foundation
import Logging
import NIOSSL
import Testing

/// Posts to a remote namespace over AMQP: another Conduit's embedded bus, on its own AMQP port, stands in for Azure.
@Suite("remote namespaces over AMQP")
struct RemoteAMQPTests {
    /// Another namespace, with its AMQP server on a free loopback port (AMQPS when `tls` is given).
    struct Remote: Sendable {
        let bus: BusNamespace
        let root: AuthorizationRule
        let port: Int
    }

    static func withRemote(
        tls: NIOSSLContext? = nil,
        _ body: @Sendable (Remote) async throws -> Void
    ) async throws {
        try await TestBackend.sqliteMemory.withFreshStore { store in
            try await store.migrate(BusNamespace.migrations)
            let bus = BusNamespace(store: store)
            let root = try await bus.ensureRootRule()
            var logger = Logger(label: "conduit.test.remote")
            logger.logLevel = .warning
            let server = bus.amqpServer(port: 0, tls: tls, logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                let port = try #require(await server.waitUntilListening())
                do {
                    try await body(Remote(bus: bus, root: root, port: port))
                } catch {
                    group.cancelAll()
                    throw error
                }
                group.cancelAll()
            }
        }
    }

    static func endpoint(
        _ address: String,
        path: String = "inbox",
        format: WireFormat = .json,
        contract: Int32 = 6,
        keyName: String,
        key: String
    ) -> [(String, ContextValue)] {
        [
            ("name", .string("remote \(path)")), ("contract", .optionSetValue(OptionSetValue(contract))),
            ("authtype", .optionSetValue(OptionSetValue(2))),
            ("messageformat", .optionSetValue(OptionSetValue(Int32(format.messageFormat)))),
            ("namespaceaddress", .string(address)), ("path", .string(path)),
            ("saskeyname", .string(keyName)), ("saskey", .string(key)),
        ]
    }

    static func context(entity: Guid = Guid.random(), name: String = "Update") -> RemoteExecutionContext {
        var context = RemoteExecutionContext()
        context.messageName = name
        context.primaryEntityName = "contact"
        context.primaryEntityId = entity
        return context
    }

    static func post(
        _ h: EndpointHarness,
        _ endpoint: Guid,
        _ context: RemoteExecutionContext = context(),
        messageId: String = UUID().uuidString
    ) async throws {
        _ = try await h.notifications.execute(
            EntityReference(logicalName: "serviceendpoint", id: endpoint),
            context: context,
            transaction: nil,
            messageId: messageId,
            traceparent: nil
        )
    }

    static func take(_ remote: Remote, _ queue: String = "inbox") async throws -> ReceivedMessage? {
        try await remote.bus.queues.receiveAndDelete(queue, now: EndpointHarness.now)
    }

    @Test(
        "A context posted over AMQP arrives whole, in the endpoint's format (binary too), with its id and Claims",
        arguments: WireFormat.allCases
    )
    func postsOverAMQP(format: WireFormat) async throws {
        try await Self.withRemote { remote in
            try await remote.bus.queues.createQueue(QueueDescription(name: "inbox"), now: EndpointHarness.now)
            try await EndpointHarness.run(.sqliteMemory) { h in
                let endpoint = try await h.createEndpoint(
                    Self.endpoint(
                        "amqp://127.0.0.1:\(remote.port)/",
                        format: format,
                        keyName: remote.root.keyName,
                        key: remote.root.primaryKey
                    )
                )
                let contact = Guid.random()
                try await Self.post(h, endpoint, Self.context(entity: contact), messageId: "job-1")
                try await Self.post(h, endpoint, Self.context(entity: contact, name: "Delete"), messageId: "job-2")
                let first = try #require(try await Self.take(remote))
                let second = try #require(try await Self.take(remote))
                #expect(first.message.messageId == "job-1" && second.message.messageId == "job-2")
                #expect(first.message.contentType == format.contentType)
                let decoded = try ContextCodec.decode(Array(first.message.body), format: format)
                #expect(decoded.primaryEntityId == contact && decoded.messageName == "Update")
                #expect(try ContextCodec.decode(Array(second.message.body), format: format).messageName == "Delete")
                let claims = EndpointMessage.Claims.self
                #expect(first.message.userProperties[claims.entityLogicalName] == "contact")
                #expect(first.message.userProperties[claims.requestName] == "Update")
                #expect(first.message.userProperties[claims.organization] == "http://conduit.test/")
            }
        }
    }

    @Test("A connection string with UseDevelopmentEmulator=true posts to an sb:// address over plain AMQP")
    func emulatorConnectionString() async throws {
        try await Self.withRemote { remote in
            try await remote.bus.queues.createQueue(QueueDescription(name: "inbox"), now: EndpointHarness.now)
            try await EndpointHarness.run(.sqliteMemory) { h in
                let text =
                    "Endpoint=sb://127.0.0.1:\(remote.port);SharedAccessKeyName=\(remote.root.keyName);SharedAccessKey=\(remote.root.primaryKey);EntityPath=inbox;UseDevelopmentEmulator=true"
                let endpoint = try await h.createEndpoint([
                    ("name", .string("emulator")), ("contract", .optionSetValue(OptionSetValue(6))),
                    ("authtype", .optionSetValue(OptionSetValue(7))),
                    ("messageformat", .optionSetValue(OptionSetValue(1))), ("authvalue", .string(text)),
                ])
                try await Self.post(h, endpoint, messageId: "by-connection-string")
                #expect(try await Self.take(remote)?.message.messageId == "by-connection-string")
            }
        }
    }

    @Test("An event hub over AMQP: each row's contexts land on the partition of its id, in order")
    func eventHub() async throws {
        try await Self.withRemote { remote in
            try await remote.bus.eventHubs.createHub(
                EventHubDescription(name: "changes", partitionCount: 4),
                now: EndpointHarness.now
            )
            try await EndpointHarness.run(.sqliteMemory) { h in
                let endpoint = try await h.createEndpoint(
                    Self.endpoint(
                        "amqp://127.0.0.1:\(remote.port)/",
                        path: "changes",
                        contract: 7,
                        keyName: remote.root.keyName,
                        key: remote.root.primaryKey
                    )
                )
                let rows = (0..<3).map { _ in Guid.random() }
                for round in ["Create", "Update"] {
                    for row in rows { try await Self.post(h, endpoint, Self.context(entity: row, name: round)) }
                }
                for row in rows {
                    let partition = EventHubStore.partition(forKey: row.description, count: 4)
                    let events = try await remote.bus.eventHubs.read(
                        hub: "changes",
                        partition: partition,
                        from: 0,
                        limit: 100
                    )
                    let mine = try events.map { try ContextCodec.decode(Array($0.message.body), format: .json) }
                        .filter { $0.primaryEntityId == row }
                    #expect(mine.map(\.messageName) == ["Create", "Update"])
                }
            }
        }
    }

    @Test("Refusals say why: a wrong key, a missing queue, a namespace that is down; a later retry posts once")
    func refusals() async throws {
        try await Self.withRemote { remote in
            try await EndpointHarness.run(.sqliteMemory) { h in
                let address = "amqp://127.0.0.1:\(remote.port)/"
                let forged = try await h.createEndpoint(
                    Self.endpoint(address, keyName: remote.root.keyName, key: "bm90IHRoZSBrZXk=")
                )
                let error = await #expect(throws: ExternalServiceError.self) { try await Self.post(h, forged) }
                #expect(
                    error?.message.contains("refused the endpoint's credentials") == true,
                    "\(error?.message ?? "")"
                )

                let good = try await h.createEndpoint(
                    Self.endpoint(address, keyName: remote.root.keyName, key: remote.root.primaryKey)
                )
                let missing = await #expect(throws: ExternalServiceError.self) { try await Self.post(h, good) }
                #expect(missing?.message.contains("has no entity 'inbox'") == true, "\(missing?.message ?? "")")
                try await remote.bus.queues.createQueue(QueueDescription(name: "inbox"), now: EndpointHarness.now)
                try await Self.post(h, good, messageId: "after-create")
                #expect(try await Self.take(remote)?.message.messageId == "after-create")
                #expect(try await Self.take(remote) == nil, "nothing else was stored")

                let unused = try await h.createEndpoint(
                    Self.endpoint("amqp://127.0.0.1:1/", keyName: "k", key: "a2V5")
                )
                let down = await #expect(throws: ExternalServiceError.self) { try await Self.post(h, unused) }
                #expect(down?.message.contains("could not be reached over plain AMQP on port 1") == true)
            }
        }
    }

    @Test("sb:// is AMQP over TLS: with the remote's CA the post succeeds; with the system's trust store it is refused")
    func tls() async throws {
        let certificates = try await offPool { try TestCertificates.make() }
        defer { certificates.remove() }
        try await Self.withRemote(tls: try certificates.serverContext()) { remote in
            try await remote.bus.queues.createQueue(QueueDescription(name: "inbox"), now: EndpointHarness.now)
            let columns = Self.endpoint(
                "sb://127.0.0.1:\(remote.port)/",
                keyName: remote.root.keyName,
                key: remote.root.primaryKey
            )
            let trusting = try ServiceEndpoints.remoteTLS(remoteCAFile: certificates.caFile)
            try await EndpointHarness.run(.sqliteMemory, remoteTLS: trusting) { h in
                try await Self.post(h, try await h.createEndpoint(columns), messageId: "over-tls")
            }
            #expect(try await Self.take(remote)?.message.messageId == "over-tls")
            try await EndpointHarness.run(.sqliteMemory) { h in
                let endpoint = try await h.createEndpoint(columns)
                let error = await #expect(throws: ExternalServiceError.self) { try await Self.post(h, endpoint) }
                #expect(
                    error?.message.contains("presented a TLS certificate this server does not trust") == true,
                    "\(error?.message ?? "")"
                )
                #expect(error?.friendlyMessage?.contains("--remote-ca") == true)
            }
            #expect(try await Self.take(remote) == nil, "nothing arrived without a trusted certificate")
        }
    }
}

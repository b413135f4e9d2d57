import ConduitBus
import ConduitContext
import ConduitEndpoints
import ConduitPlatform
import ConduitTestSupport
import Foundation
import Synchronization
import Testing

/// The relay contracts (1 OneWay, 4 TwoWay, 3 REST) on the embedded relay, with a listener inside the test process
/// (``HubListener``): retries while no listener is online, give-up under an injected clock, the two-way answer
/// reaching a custom plug-in, and the REST listener's answer kept on the system job.
@Suite("relay contracts (one-way, two-way, REST)")
struct RelayContractTests {
    /// A relay endpoint's columns on the embedded namespace.
    static func relayEndpoint(
        _ h: EndpointHarness,
        _ path: String,
        contract: Int32,
        format: WireFormat = .json
    ) -> [(String, ContextValue)] {
        var columns = h.queueEndpoint(path, format: format, contract: contract)
        columns[0] = ("name", .string("\(path) relay"))
        return columns
    }

    static func status(_ job: Entity?) -> Int32? { job?.attributes["statuscode"]?.optionValue }

    /// Polls the first system job until `condition` holds (up to 20 s); returns it.
    static func firstJob(_ h: EndpointHarness, where condition: (Entity) -> Bool) async throws -> Entity? {
        for _ in 0..<1000 {
            if let job = try await h.jobs().first, condition(job) { return job }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await h.jobs().first
    }

    static func createRelay(_ h: EndpointHarness, _ name: String) async throws {
        try await h.bus.relays.createRelay(HybridConnection(name: name), now: EndpointHarness.now)
    }

    @Test("One-way: Waiting while no listener is online, then Succeeded once one connects; it gets the context")
    func oneWayWaitsForListener() async throws {
        try await EndpointHarness.run(.sqliteFile) { h in
            try await Self.createRelay(h, "orders")
            let endpoint = try await h.createEndpoint(Self.relayEndpoint(h, "orders", contract: 1))
            try await h.registerEndpointStep(endpoint)
            let contact = try await h.createContact("Ada", "Byron")
            try await h.withAsyncService(retryPolicy: EndpointHarness.retryEvery(.milliseconds(100))) {
                try await h.updateContact(contact, [("lastname", .string("Lovelace"))])
                let waiting = try await Self.firstJob(h) { Self.status($0) == 10 }
                #expect(Self.status(waiting) == 10)
                guard case .string(let reason)? = waiting?.attributes["message"] else {
                    Issue.record("The waiting job has no message")
                    return
                }
                #expect(reason.contains("No listener is connected to the hybrid connection 'orders'"))
                let listener = try HubListener(hub: h.bus.relays.hub, relay: "orders") { _, _ in (202, "ignored") }
                let done = try await h.completedJobs()
                await listener.stop()
                #expect(Self.status(done.first) == 30)
                // A one-way post keeps no answer.
                #expect(done.first?.attributes["conduit_response"] == nil)
                let request = try #require(listener.received.first)
                #expect(listener.received.count == 1)
                #expect(request.head.method == "POST" && request.head.requestTarget == "/orders")
                #expect(request.head.requestHeaders["Content-Type"] == "application/json")
                #expect(request.head.requestHeaders["x-conduit-contract"] == "OneWay")
                #expect(request.head.requestHeaders["x-ms-dynamics-entity-name"] == "contact")
                let context = try ContextCodec.decode(request.body, format: .json)
                #expect(context.messageName == "Update" && context.primaryEntityId == contact)
                #expect(request.head.requestHeaders["x-ms-correlation-request-id"] == context.correlationId.description)
            }
        }
    }

    @Test("One-way with no listener ever: Failed once the retry policy's give-up time passes (injected clock)")
    func oneWayGivesUp() async throws {
        try await EndpointHarness.run(.sqliteFile) { h in
            try await Self.createRelay(h, "nobody")
            let endpoint = try await h.createEndpoint(Self.relayEndpoint(h, "nobody", contract: 1))
            try await h.registerEndpointStep(endpoint)
            let contact = try await h.createContact("Ada", "Byron")
            let offset = Mutex<Int64>(0)
            var policy = EndpointHarness.retryEvery(.milliseconds(100))
            policy.giveUpAfter = .seconds(3600)
            try await h.withAsyncService(
                retryPolicy: policy,
                clock: { DotNetDateTime.now().ticks + offset.withLock { $0 } }
            ) {
                try await h.updateContact(contact, [("lastname", .string("Lovelace"))])
                let waiting = try await Self.firstJob(h) { Self.status($0) == 10 }
                #expect(Self.status(waiting) == 10)
                // Two hours later (by the service's clock) the next failure is past the give-up time.
                offset.withLock { $0 = 2 * 3600 * JobLifecycle.ticksPerSecond }
                let failed = try await h.completedJobs()
                #expect(Self.status(failed.first) == 31)
                guard case .string(let friendly)? = failed.first?.attributes["friendlymessage"] else {
                    Issue.record("The failed job has no friendly message")
                    return
                }
                #expect(friendly.contains("Gave up after"))
                #expect(friendly.contains("Start a listener on 'nobody'"))
            }
        }
    }

    @Test("Two-way: a custom plug-in in a synchronous step gets the listener's answer; with no listener it rolls back")
    func twoWayAnswerReachesPlugin() async throws {
        let plugins = PluginRegistry()
        try await EndpointHarness.run(.sqliteFile, plugins: plugins) { h in
            try await Self.createRelay(h, "approvals")
            let endpoint = try await h.createEndpoint(Self.relayEndpoint(h, "approvals", contract: 4, format: .xml))
            let type = try await h.platform.registerPluginType(
                AzureAwarePlugin.self,
                typeName: AzureAwarePlugin.typeName
            )
            // Pre-operation, synchronous: the answer is written into the contact's description as it is saved.
            try await h.service.registerStep(
                "Azure-aware: Update of contact",
                message: "Update",
                table: "contact",
                stage: 20,
                mode: 0,
                pluginType: type,
                configuration: "\(endpoint);description"
            )
            let contact = try await h.createContact("Ada", "Byron")
            // No listener: the update fails with the post's error and nothing is saved.
            await #expect(throws: (any Error).self) {
                try await h.updateContact(contact, [("lastname", .string("Lovelace"))])
            }
            let unchanged = try await h.service.retrieve(
                EntityReference(logicalName: "contact", id: contact),
                columns: .columns(["lastname"])
            )
            #expect(unchanged.attributes["lastname"] == .string("Byron"))
            let listener = try HubListener(hub: h.bus.relays.hub, relay: "approvals") { head, body in
                let context = try? ContextCodec.decode(body, format: .xml)
                return (
                    200,
                    "approved \(context?.primaryEntityName ?? "?") by \(head.requestHeaders["x-conduit-contract"] ?? "?")"
                )
            }
            try await h.updateContact(contact, [("lastname", .string("Lovelace"))])
            await listener.stop()
            let saved = try await h.service.retrieve(
                EntityReference(logicalName: "contact", id: contact),
                columns: .columns(["lastname", "description"])
            )
            #expect(saved.attributes["lastname"] == .string("Lovelace"))
            #expect(saved.attributes["description"] == .string("approved contact by TwoWay"))
            #expect(listener.received.first?.head.requestHeaders["Content-Type"] == "application/xml")
        }
    }

    @Test("Two-way from the sandbox: a WebAssembly plug-in's conduit.post returns the listener's answer to the guest")
    func twoWayAnswerReachesSandboxedPlugin() async throws {
        try await EndpointHarness.run(.sqliteFile) { h in
            try await Self.createRelay(h, "approvals")
            let endpoint = try await h.createEndpoint(Self.relayEndpoint(h, "approvals", contract: 4, format: .json))
            // Posts to the endpoint named by its configuration, then fails with the answer as its message.
            let wat = SandboxBenchmark.module(
                imports: """
                    (import "conduit" "post" (func $post (param i32 i32) (result i32)))
                    (import "conduit" "answer" (func $answer (param i32)))
                    (import "conduit" "fail" (func $fail (param i32 i32)))
                    """,
                run: """
                    (local $n i32)
                    (local.set $n (call $post (local.get 2) (local.get 3)))
                    (call $answer (i32.const 8192))
                    (call $fail (i32.const 8192) (local.get $n))
                    (i32.const 1)
                    """
            )
            let assembly = try await h.service.create(
                Entity(
                    logicalName: "pluginassembly",
                    attributes: [
                        ("name", .string("Asker")), ("content", .string(Data(wat.utf8).base64EncodedString())),
                    ]
                )
            )
            let type = try await h.service.create(
                Entity(
                    logicalName: "plugintype",
                    attributes: [
                        ("name", .string("Asker.run")), ("typename", .string("run")),
                        (
                            "pluginassemblyid",
                            .entityReference(EntityReference(logicalName: "pluginassembly", id: assembly))
                        ),
                    ]
                )
            )
            try await h.service.registerStep(
                "Sandboxed: ask before an update",
                message: "Update",
                table: "contact",
                stage: 20,
                mode: 0,
                handler: EntityReference(logicalName: "plugintype", id: type),
                configuration: endpoint.description
            )
            let contact = try await h.createContact("Ada", "Byron")
            let listener = try HubListener(hub: h.bus.relays.hub, relay: "approvals") { head, body in
                let context = try? ContextCodec.decode(body, format: .json)
                return (200, "answered \(context?.messageName ?? "?") of \(context?.primaryEntityName ?? "?")")
            }
            let error = await #expect(throws: PlatformError.self) {
                try await h.updateContact(contact, [("lastname", .string("Lovelace"))])
            }
            await listener.stop()
            #expect(error?.message == "answered Update of contact", "\(String(describing: error))")
            #expect(listener.received.count == 1)
        }
    }

    @Test("An asynchronous custom plug-in whose post failed runs again, whole, on the job's retry")
    func asyncPluginRetryRerunsPlugin() async throws {
        let plugins = PluginRegistry()
        try await EndpointHarness.run(.sqliteFile, plugins: plugins) { h in
            try await Self.createRelay(h, "flaky")
            let endpoint = try await h.createEndpoint(Self.relayEndpoint(h, "flaky", contract: 4))
            let type = try await h.platform.registerPluginType(
                AzureAwarePlugin.self,
                typeName: AzureAwarePlugin.typeName
            )
            try await h.service.registerStep(
                "Azure-aware async: Update of contact",
                message: "Update",
                table: "contact",
                stage: 40,
                mode: 1,
                pluginType: type,
                configuration: endpoint.description
            )
            let calls = Mutex(0)
            // The listener fails the first post (503: the job retries) and answers the second.
            let listener = try HubListener(hub: h.bus.relays.hub, relay: "flaky") { _, _ in
                calls.withLock {
                    $0 += 1; return $0
                } == 1 ? (503, "busy") : (200, "done")
            }
            let contact = try await h.createContact("Ada", "Byron")
            try await h.withAsyncService(retryPolicy: EndpointHarness.retryEvery(.milliseconds(100))) {
                try await h.updateContact(contact, [("lastname", .string("Lovelace"))])
                let jobs = try await h.completedJobs()
                #expect(Self.status(jobs.first) == 30)
                #expect(jobs.first?.attributes["retrycount"] == .int(1))
            }
            await listener.stop()
            #expect(calls.withLock { $0 } == 2)
        }
    }

    @Test("REST: the listener's reply is kept on the system job (conduit_response)")
    func restReplyRecordedOnJob() async throws {
        try await EndpointHarness.run(.sqliteFile) { h in
            try await Self.createRelay(h, "rest-listener")
            let endpoint = try await h.createEndpoint(Self.relayEndpoint(h, "rest-listener", contract: 3, format: .xml))
            try await h.registerEndpointStep(endpoint)
            let listener = try HubListener(hub: h.bus.relays.hub, relay: "rest-listener") { head, _ in
                (
                    200,
                    "<string xmlns=\"http://schemas.microsoft.com/2003/10/Serialization/\">accepted \(head.requestHeaders["x-conduit-contract"] ?? "?")</string>"
                )
            }
            let contact = try await h.createContact("Ada", "Byron")
            try await h.withAsyncService {
                try await h.updateContact(contact, [("lastname", .string("Lovelace"))])
                let jobs = try await h.completedJobs()
                #expect(Self.status(jobs.first) == 30)
                #expect(
                    jobs.first?.attributes["conduit_response"]
                        == .string(
                            "<string xmlns=\"http://schemas.microsoft.com/2003/10/Serialization/\">accepted Rest</string>"
                        )
                )
            }
            await listener.stop()
        }
    }

    @Test("A relay endpoint whose hybrid connection does not exist waits with a message that says to create it")
    func missingRelay() async throws {
        try await EndpointHarness.run(.sqliteFile) { h in
            let endpoint = try await h.createEndpoint(Self.relayEndpoint(h, "ghost", contract: 4))
            do {
                _ = try await h.notifications.execute(
                    EntityReference(logicalName: "serviceendpoint", id: endpoint),
                    context: RemoteExecutionContext(),
                    transaction: nil,
                    messageId: nil,
                    traceparent: nil
                )
                Issue.record("The post to a missing hybrid connection succeeded")
            } catch let error as ExternalServiceError {
                #expect(error.message.contains("There is no hybrid connection 'ghost'"))
                #expect(error.friendlyMessage?.contains("Create 'ghost'") == true)
            }
        }
    }
}

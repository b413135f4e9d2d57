import ConduitBus
import ConduitContext
import ConduitEndpoints
import ConduitPlatform
import ConduitTestSupport
import Foundation
import Synchronization
import Testing
import Tracing

/// Puts a large shared variable in the context (stage 20, synchronous), for the size rule.
struct BigSharedVariablePlugin: Plugin {
    init(configuration: String?, secureConfiguration: String?) throws {}
    func execute(_ context: inout RemoteExecutionContext, services: PluginServices) async throws {
        context.sharedVariables["ballast"] = .string(String(repeating: "x", count: 200_000))
    }
}

@Suite("Posting contexts to the embedded bus")
struct NotificationTests {
    static let claims = EndpointMessage.Claims.self

    @Test(
        "An async Update step posts the context in the endpoint's format, with the Claims properties and the job's id",
        arguments: WireFormat.allCases
    )
    func asyncUpdateStep(format: WireFormat) async throws {
        try await EndpointHarness.run(.sqliteFile) { h in
            try await h.createQueue("contacts")
            let endpoint = try await h.createEndpoint(h.queueEndpoint("contacts", format: format))
            try await h.registerEndpointStep(
                endpoint,
                filteringAttributes: "lastname",
                images: [
                    StepImage(type: 0, alias: "before", attributes: "lastname"), StepImage(type: 1, alias: "after"),
                ]
            )
            let contact = try await h.createContact("Ada", "Byron")
            try await h.withAsyncService {
                try await h.updateContact(contact, [("firstname", .string("Augusta"))])  // not a filtering column
                try await h.updateContact(contact, [("lastname", .string("Lovelace"))])
                let received = try #require(try await h.receive("contacts"))
                let jobs = try await h.completedJobs()
                #expect(jobs.count == 1)
                #expect(jobs.first?.attributes["statuscode"] == .optionSetValue(OptionSetValue(30)))
                #expect(received.message.contentType == format.contentType)
                #expect(received.message.messageId == jobs.first?.id.description)
                let properties = received.message.userProperties
                #expect(properties[Self.claims.entityLogicalName] == "contact")
                #expect(properties[Self.claims.requestName] == "Update")
                #expect(properties[Self.claims.user] == .string(h.platform.administratorId.description))
                #expect(properties[Self.claims.initiatingUser] == .string(h.platform.administratorId.description))
                #expect(properties[Self.claims.organization] == "http://conduit.test/")
                #expect(properties[EndpointMessage.maxSizeExceeded] == nil)
                let context = try ContextCodec.decode(received.message.body, format: format)
                #expect(context.messageName == "Update")
                #expect(context.primaryEntityName == "contact")
                #expect(context.primaryEntityId == contact)
                #expect(context.stage == 40)
                #expect(context.mode == 1)
                #expect(context.operationId == jobs.first?.id)
                guard case .entity(let target)? = context.inputParameters["Target"] else {
                    Issue.record("The context has no Target entity")
                    return
                }
                #expect(target.attributes["lastname"] == .string("Lovelace"))
                #expect(context.preEntityImages["before"]?.attributes["lastname"] == .string("Byron"))
                #expect(context.preEntityImages["before"]?.attributes["firstname"] == nil)
                #expect(context.postEntityImages["after"]?.attributes["lastname"] == .string("Lovelace"))
                #expect(context.postEntityImages["after"]?.attributes["firstname"] == .string("Augusta"))
                #expect(try await h.receive("contacts", timeout: .milliseconds(200)) == nil)
            }
        }
    }

    @Test(
        "A topic endpoint: subscription rules route the contexts by the Claims properties",
        arguments: WireFormat.allCases
    )
    func topicRouting(format: WireFormat) async throws {
        try await EndpointHarness.run(.sqliteFile) { h in
            let claim = Self.claims.entityLogicalName
            try await h.bus.topics.createTopic(TopicDescription(name: "changes"), now: EndpointHarness.now)
            for table in ["contact", "account"] {
                try await h.bus.topics.createSubscription(
                    SubscriptionDescription(topic: "changes", name: table + "s"),
                    rule: SubscriptionRule(name: table, filter: .sql(try SQLFilter("\"\(claim)\" = '\(table)'"))),
                    now: EndpointHarness.now
                )
            }
            try await h.bus.topics.createSubscription(
                SubscriptionDescription(topic: "changes", name: "creates"),
                rule: SubscriptionRule(
                    name: "creates",
                    filter: .correlation(CorrelationFilter(properties: [Self.claims.requestName: .string("Create")]))
                ),
                now: EndpointHarness.now
            )
            let endpoint = try await h.createEndpoint(h.queueEndpoint("changes", format: format, contract: 5))
            try await h.registerEndpointStep(endpoint, message: "Update", table: "contact")
            try await h.registerEndpointStep(endpoint, message: "Update", table: "account")
            let contact = try await h.createContact("Route", "Me")
            let account = try await h.service.create(
                Entity(logicalName: "account", attributes: [("name", .string("Contoso"))])
            )
            try await h.withAsyncService {
                try await h.updateContact(contact, [("lastname", .string("Routed"))])
                var change = Entity(logicalName: "account", id: account)
                change.attributes["name"] = .string("Contoso Ltd")
                try await h.service.update(change)
                let toContacts = try #require(try await h.receive("changes/subscriptions/contacts"))
                let toAccounts = try #require(try await h.receive("changes/subscriptions/accounts"))
                #expect(try ContextCodec.decode(toContacts.message.body, format: format).primaryEntityId == contact)
                #expect(try ContextCodec.decode(toAccounts.message.body, format: format).primaryEntityId == account)
                #expect(toContacts.message.contentType == format.contentType)
                #expect(try await h.receive("changes/subscriptions/contacts", timeout: .milliseconds(200)) == nil)
                #expect(try await h.receive("changes/subscriptions/creates", timeout: .milliseconds(100)) == nil)
            }
        }
    }

    @Test(
        "An event hub endpoint: the context lands on the partition of the row's id",
        arguments: [WireFormat.json, .xml]
    )
    func eventHub(format: WireFormat) async throws {
        try await EndpointHarness.run(.sqliteFile) { h in
            try await h.bus.eventHubs.createHub(
                EventHubDescription(name: "changes", partitionCount: 4),
                now: EndpointHarness.now
            )
            let endpoint = try await h.createEndpoint(h.queueEndpoint("changes", format: format, contract: 7))
            try await h.registerEndpointStep(endpoint)
            let contact = try await h.createContact("Hub", "Bub")
            try await h.withAsyncService {
                try await h.updateContact(contact, [("lastname", .string("Hubbed"))])
                try await h.updateContact(contact, [("lastname", .string("Hubbed again"))])
                _ = try await h.completedJobs()
                let partition = EventHubStore.partition(forKey: contact.description, count: 4)
                var events: [StoredEvent] = []
                for _ in 0..<200 where events.count < 2 {
                    events = try await h.bus.eventHubs.read(hub: "changes", partition: partition, from: 0, limit: 10)
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(events.count == 2)
                let contexts = try events.map { try ContextCodec.decode($0.message.body, format: format) }
                let names = contexts.compactMap { context -> String? in
                    if case .entity(let target)? = context.inputParameters["Target"],
                        case .string(let name)? = target.attributes["lastname"]
                    {
                        return name
                    }
                    return nil
                }
                #expect(names == ["Hubbed", "Hubbed again"], "in order on one partition")
                #expect(events.first?.message.contentType == format.contentType)
                #expect(events.first?.message.userProperties[Self.claims.entityLogicalName] == "contact")
            }
        }
    }

    @Test("The request's traceparent goes with its system job into the message (Diagnostic-Id), sync and async")
    func traceContext() async throws {
        try await EndpointHarness.run(.sqliteFile) { h in
            try await h.createQueue("traced")
            let endpoint = try await h.createEndpoint(h.queueEndpoint("traced"))
            try await h.registerEndpointStep(endpoint, message: "Create", mode: 1)
            try await h.registerEndpointStep(endpoint, message: "Create", mode: 0)
            let trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            try await h.withAsyncService {
                _ = try await h.service.withTraceparent(trace).create(
                    Entity(logicalName: "contact", attributes: [("lastname", .string("Traced"))])
                )
                _ = try await h.service.withTraceparent("garbage").create(
                    Entity(logicalName: "contact", attributes: [("lastname", .string("Untraced"))])
                )
                var traced: [PropertyValue?] = []
                for _ in 0..<4 {
                    let received = try #require(try await h.receive("traced"))
                    traced.append(received.message.userProperties["Diagnostic-Id"])
                    if received.message.userProperties["Diagnostic-Id"] != nil {
                        #expect(received.message.userProperties["traceparent"] == .string(trace))
                    }
                }
                #expect(
                    traced.filter { $0 == .string(trace) }.count == 2,
                    "the sync and the async post of the traced create"
                )
                #expect(traced.filter { $0 == nil }.count == 2, "an invalid traceparent is ignored")
            }
        }
    }

    @Test(
        "With a tracer: the pipeline, the job and the post are spans of the caller's trace; the message continues the post's"
    )
    func traceSpans() async throws {
        let spans = Mutex<[FinishedSpan]>([])
        let tracer = ConduitTracer { span in spans.withLock { $0.append(span) } }
        try await EndpointHarness.run(.sqliteFile, tracer: tracer) { h in
            try await h.createQueue("traced")
            let endpoint = try await h.createEndpoint(h.queueEndpoint("traced"))
            try await h.registerEndpointStep(endpoint, message: "Create", mode: 1)
            let trace = "4bf92f3577b34da6a3ce929d0e0e4736"
            try await h.withAsyncService {
                _ = try await h.service.withTraceparent("00-\(trace)-00f067aa0ba902b7-01").create(
                    Entity(logicalName: "contact", attributes: [("lastname", .string("Traced"))])
                )
                let received = try #require(try await h.receive("traced"))
                guard case .string(let text)? = received.message.userProperties["traceparent"] else {
                    Issue.record("the message has no traceparent")
                    return
                }
                let carried = try #require(W3CTraceContext(traceparent: text))
                #expect(received.message.userProperties["Diagnostic-Id"] == .string(text))
                // The post's and the job's spans end after the message is sent: wait for them.
                for _ in 0..<500 {
                    let ended = spans.withLock { spans in
                        spans.contains { $0.spanID == carried.spanID }
                            && spans.contains { $0.name.hasPrefix("system job") }
                    }
                    if ended { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                let all = spans.withLock { $0 }
                let pipeline = try #require(all.first { $0.name == "Create contact" })
                #expect(pipeline.parentSpanID == "00f067aa0ba902b7")
                let job = try #require(all.first { $0.name.hasPrefix("system job") })
                #expect(job.parentSpanID == pipeline.spanID)
                #expect(job.kind == "consumer" && job.status == "ok")
                let post = try #require(all.first { $0.spanID == carried.spanID }, "the message's span")
                #expect(post.name == "post to traced endpoint" && post.kind == "producer")
                #expect(post.parentSpanID == job.spanID)
                #expect(Set([pipeline, job, post].map(\.traceID)) == [trace])
                #expect(post.attributes["conduit.endpoint.id"] == endpoint.description)
            }
        }
    }

    @Test("W3C traceparent: valid ones are read back as written; malformed ones are refused")
    func traceparentParsing() {
        let text = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        #expect(W3CTraceContext(traceparent: text)?.traceparent == text)
        #expect(
            W3CTraceContext(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")?.sampled == false
        )
        for bad in [
            "garbage", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "00-4bf92f-00f067aa0ba902b7-01",
        ] {
            #expect(W3CTraceContext(traceparent: bad) == nil, "\(bad)")
        }
    }

    @Test("A synchronous step posts inside the transaction; a failed post rolls the operation back")
    func synchronousStep() async throws {
        try await EndpointHarness.run(.sqliteFile) { h in
            try await h.createQueue("sync")
            let good = try await h.createEndpoint(h.queueEndpoint("sync"))
            let step = try await h.registerEndpointStep(good, message: "Create", mode: 0)
            let id = try await h.createContact("Grace", "Hopper")
            let received = try #require(try await h.receive("sync", timeout: .zero + .milliseconds(1)))
            let context = try ContextCodec.decode(received.message.body, format: .json)
            #expect(context.primaryEntityId == id)
            #expect(context.mode == 0)
            #expect(context.isInTransaction)

            try await h.service.delete(EntityReference(logicalName: "sdkmessageprocessingstep", id: step))
            let missing = try await h.createEndpoint(h.queueEndpoint("nowhere"))
            try await h.registerEndpointStep(missing, message: "Create", mode: 0)
            let error = await #expect(throws: PlatformError.self) { _ = try await h.createContact("Alan", "Turing") }
            #expect(error?.message.contains("The queue 'nowhere' does not exist in the embedded namespace") == true)
            let contacts = try await h.service.retrieveMultiple(QueryExpression(entityName: "contact"))
            #expect(contacts.entities.count == 1, "the failed Create was rolled back")
        }
    }

    @Test("Size rule: a context above 192 KB is sent without its parameters and images, marked MessageMaxSizeExceeded")
    func truncatedMessage() async throws {
        try await EndpointHarness.run(.sqliteFile) { h in
            try await h.platform.addColumn(AttributeMetadata("new_notes", .memo, maxLength: 1_000_000), to: "contact")
            try await h.createQueue("big")
            let endpoint = try await h.createEndpoint(h.queueEndpoint("big", format: .xml))
            try await h.registerEndpointStep(endpoint, images: [StepImage(type: 1, alias: "after")])
            let contact = try await h.createContact("Big", "Notes")
            try await h.withAsyncService {
                try await h.updateContact(contact, [("new_notes", .string(String(repeating: "n", count: 200_000)))])
                let received = try #require(try await h.receive("big"))
                #expect(received.message.userProperties[EndpointMessage.maxSizeExceeded] != nil)
                #expect(received.message.body.count <= 192 * 1024)
                let context = try ContextCodec.decode(received.message.body, format: .xml)
                #expect(context.inputParameters.isEmpty)
                #expect(context.postEntityImages.isEmpty)
                #expect(context.primaryEntityId == contact)
                #expect(
                    try await h.completedJobs().first?.attributes["statuscode"] == .optionSetValue(OptionSetValue(30))
                )
            }
        }
    }

    @Test("Size rule: a context too big even after truncation fails its job and puts nothing on the bus")
    func tooLargeMessage() async throws {
        try await EndpointHarness.run(.sqliteFile) { h in
            let ballast = try await h.platform.registerPluginType(
                BigSharedVariablePlugin.self,
                typeName: "Tests.Ballast"
            )
            try await h.service.registerStep(
                "ballast",
                message: "Update",
                table: "contact",
                stage: 20,
                mode: 0,
                pluginType: ballast
            )
            try await h.createQueue("big")
            let endpoint = try await h.createEndpoint(h.queueEndpoint("big", format: .json))
            try await h.registerEndpointStep(endpoint)
            let contact = try await h.createContact("Too", "Big")
            try await h.withAsyncService {
                try await h.updateContact(contact, [("lastname", .string("Bigger"))])
                let jobs = try await h.completedJobs()
                #expect(jobs.first?.attributes["statuscode"] == .optionSetValue(OptionSetValue(31)))
                guard case .string(let message)? = jobs.first?.attributes["message"] else {
                    Issue.record("The failed job has no message")
                    return
                }
                #expect(message.contains("was not sent"))
                #expect(message.contains("196608-byte (192 KB) limit"))
                #expect(try await h.receive("big", timeout: .milliseconds(200)) == nil)
            }
        }
    }

    @Test("A missing queue leaves the job waiting; once the queue exists the retry posts exactly one message")
    func retryUntilQueueExists() async throws {
        try await EndpointHarness.run(.sqliteFile) { h in
            let endpoint = try await h.createEndpoint(h.queueEndpoint("later"))
            try await h.registerEndpointStep(endpoint, message: "Create")
            try await h.withAsyncService(retryPolicy: EndpointHarness.retryEvery(.milliseconds(100))) {
                _ = try await h.createContact("Wait", "ForIt")
                var waiting: Entity?
                for _ in 0..<200 {
                    waiting = try await h.jobs().first
                    if waiting?.attributes["statuscode"] == .optionSetValue(OptionSetValue(10)) { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(waiting?.attributes["statuscode"] == .optionSetValue(OptionSetValue(10)))
                guard case .string(let reason)? = waiting?.attributes["message"] else {
                    Issue.record("The waiting job has no message")
                    return
                }
                #expect(reason.contains("The queue 'later' does not exist"))
                try await h.createQueue("later")
                let received = try #require(try await h.receive("later"))
                #expect(received.message.messageId == waiting?.id.description)
                #expect(
                    try await h.completedJobs().first?.attributes["statuscode"] == .optionSetValue(OptionSetValue(30))
                )
                #expect(try await h.receive("later", timeout: .milliseconds(300)) == nil)
            }
        }
    }

    @Test("A wrong SAS key is refused by the embedded bus as by a remote one")
    func wrongKey() async throws {
        try await EndpointHarness.run(.sqliteMemory) { h in
            try await h.createQueue("guarded")
            var columns = h.queueEndpoint("guarded")
            columns.removeAll { $0.0 == "saskey" }
            columns.append(("saskey", .string("bm90IHRoZSBrZXk=")))
            let endpoint = try await h.createEndpoint(columns)
            try await h.registerEndpointStep(endpoint, message: "Create", mode: 0)
            let error = await #expect(throws: PlatformError.self) { _ = try await h.createContact("No", "Key") }
            #expect(error?.message.contains("refused the endpoint's credentials (401)") == true)
        }
    }

    @Test("A plug-in posts any context to any endpoint through the notification service")
    func pluginNotification() async throws {
        try await EndpointHarness.run(.sqliteMemory) { h in
            try await h.createQueue("custom")
            let endpoint = try await h.createEndpoint(h.queueEndpoint("custom", format: .xml))
            var context = RemoteExecutionContext()
            context.messageName = "Custom"
            context.primaryEntityName = "account"
            _ = try await h.notifications.execute(
                EntityReference(logicalName: "serviceendpoint", id: endpoint),
                context: context,
                transaction: nil,
                messageId: "fixed-id",
                traceparent: nil
            )
            let received = try #require(try await h.receive("custom"))
            #expect(received.message.messageId == "fixed-id")
            #expect(received.message.userProperties[Self.claims.entityLogicalName] == "account")
            let missing = await #expect(throws: PlatformError.self) {
                _ = try await h.notifications.execute(
                    EntityReference(logicalName: "serviceendpoint", id: Guid.random()),
                    context: context,
                    transaction: nil,
                    messageId: nil,
                    traceparent: nil
                )
            }
            #expect(missing?.message.contains("does not exist") == true)
        }
    }
}

import ConduitBus
import ConduitContext
import ConduitEndpoints
import ConduitPlatform
import ConduitTestSupport
import Foundation
import Synchronization
import Testing

/// A custom activity for the tests: greets, and counts its runs.
struct CountingGreeting: WorkflowActivity {
    static let typeName = "Tests.CountingGreeting"
    static let inputs = [WorkflowArgument("name", .string), WorkflowArgument("times", .integer, required: false)]
    static let outputs = [WorkflowArgument("greeting", .string), WorkflowArgument("length", .integer)]
    static let runs = Mutex(0)

    func execute(
        _ inputs: [String: ContextValue],
        context: WorkflowActivityContext
    ) async throws
        -> [String: ContextValue]
    {
        Self.runs.withLock { $0 += 1 }
        guard case .string(let name)? = inputs["name"] else { return ["greeting": .null] }
        var times = 1
        if case .int(let count)? = inputs["times"] { times = Int(count) }
        let greeting = Array(repeating: "Hello, \(name)", count: times).joined(separator: " ")
        return ["greeting": .string(greeting), "length": .int(Int32(greeting.count))]
    }
}

/// Background workflows: definitions checked when saved and activated, activation registering steps, runs as
/// system jobs (operationtype 10) with a condition, a custom activity, an update and a service endpoint post, and a
/// retry that resumes after what was done.
@Suite("workflows", .serialized)
struct WorkflowTests {
    static func definition(endpoint: Guid) -> String {
        """
        {"activities": [
          {"type": "condition", "if": {"attribute": "lastname", "operator": "eq", "value": "Lovelace"},
           "then": [
             {"type": "custom", "activity": "Tests.CountingGreeting",
              "inputs": {"name": {"attribute": "firstname"}, "times": {"value": 2}},
              "outputs": {"greeting": "greeting"}},
             {"type": "update", "attributes": {"description": {"variable": "greeting"}}},
             {"type": "post", "serviceendpointid": "\(endpoint)"}
           ],
           "else": [{"type": "stop", "status": "succeeded"}]}
        ]}
        """
    }

    /// Creates and activates a workflow on Update of contact's lastname; returns its id.
    static func activate(_ h: EndpointHarness, definition: String, scope: Int32 = 4) async throws -> Guid {
        let id = try await h.service.create(
            Entity(
                logicalName: "workflow",
                attributes: [
                    ("name", .string("Greet the Lovelaces")), ("primaryentity", .string("contact")),
                    ("triggeronupdateattributelist", .string("lastname")),
                    ("scope", .optionSetValue(OptionSetValue(scope))),
                    ("clientdata", .string(definition)),
                ]
            )
        )
        var activation = Entity(logicalName: "workflow", id: id)
        activation.attributes = [("statecode", .optionSetValue(OptionSetValue(1)))]
        try await h.service.update(activation)
        return id
    }

    static func status(_ job: Entity?) -> Int32? { job?.attributes["statuscode"]?.optionValue }

    @Test("A workflow with a condition, a custom activity, an update and a post runs end to end as a system job")
    func endToEnd() async throws {
        try await EndpointHarness.run(.sqliteFile) { h in
            try await h.platform.registerWorkflowActivity(CountingGreeting.self, typeName: CountingGreeting.typeName)
            try await h.createQueue("workflow-posts")
            let endpoint = try await h.createEndpoint(h.queueEndpoint("workflow-posts", format: .json))
            let workflow = try await Self.activate(h, definition: Self.definition(endpoint: endpoint))
            let steps = try await h.service.retrieveMultiple(
                QueryExpression(
                    entityName: "sdkmessageprocessingstep",
                    criteria: FilterExpression(conditions: [
                        ConditionExpression("configuration", .equal, [.string(workflow.description)])
                    ])
                )
            ).entities
            #expect(steps.count == 1)
            #expect(steps.first?.attributes["filteringattributes"] == .string("lastname"))
            let ada = try await h.createContact("Ada", "Byron")
            let other = try await h.createContact("Grace", "Hopper")
            CountingGreeting.runs.withLock { $0 = 0 }
            try await h.withAsyncService {
                try await h.updateContact(ada, [("lastname", .string("Lovelace"))])
                try await h.updateContact(other, [("lastname", .string("Murray"))])
                let jobs = try await h.completedJobs()
                #expect(jobs.count == 2)
                for job in jobs {
                    #expect(Self.status(job) == 30, "\(job.attributes["message"] ?? .null)")
                    #expect(job.attributes["operationtype"]?.optionValue == 10)
                    #expect(job.attributes["name"] == .string("Greet the Lovelaces"))
                    guard case .entityReference(let reference)? = job.attributes["workflowactivationid"] else {
                        Issue.record("The job has no workflowactivationid")
                        continue
                    }
                    #expect(reference.id == workflow)
                }
                let message = try #require(try await h.receive("workflow-posts"))
                let context = try ContextCodec.decode(Array(message.message.body), format: .json)
                #expect(context.primaryEntityId == ada && context.messageName == "Update")
                #expect(try await h.receive("workflow-posts", timeout: .milliseconds(300)) == nil)
            }
            #expect(CountingGreeting.runs.withLock { $0 } == 1)
            let greeted = try await h.service.retrieve(
                EntityReference(logicalName: "contact", id: ada),
                columns: .columns(["description"])
            )
            #expect(greeted.attributes["description"] == .string("Hello, Ada Hello, Ada"))
            let untouched = try await h.service.retrieve(
                EntityReference(logicalName: "contact", id: other),
                columns: .columns(["description"])
            )
            #expect(untouched.attributes["description"] == nil || untouched.attributes["description"] == .null)

            // Deactivated: its steps go, and updates start nothing.
            var draft = Entity(logicalName: "workflow", id: workflow)
            draft.attributes = [("statecode", .optionSetValue(OptionSetValue(0)))]
            try await h.service.update(draft)
            let remaining = try await h.service.retrieveMultiple(
                QueryExpression(
                    entityName: "sdkmessageprocessingstep",
                    criteria: FilterExpression(conditions: [
                        ConditionExpression("configuration", .equal, [.string(workflow.description)])
                    ])
                )
            ).entities
            #expect(remaining.isEmpty)
        }
    }

    @Test(
        "A failed post leaves the workflow job waiting; its retry resumes at the post without running the activity again"
    )
    func retryResumes() async throws {
        try await EndpointHarness.run(.sqliteFile) { h in
            try await h.platform.registerWorkflowActivity(CountingGreeting.self, typeName: CountingGreeting.typeName)
            let endpoint = try await h.createEndpoint(h.queueEndpoint("later", format: .json))
            _ = try await Self.activate(h, definition: Self.definition(endpoint: endpoint))
            let ada = try await h.createContact("Ada", "Byron")
            CountingGreeting.runs.withLock { $0 = 0 }
            try await h.withAsyncService(retryPolicy: EndpointHarness.retryEvery(.milliseconds(100))) {
                try await h.updateContact(ada, [("lastname", .string("Lovelace"))])
                var waiting: Entity?
                for _ in 0..<400 {
                    waiting = try await h.jobs().first
                    if Self.status(waiting) == 10 { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
                #expect(Self.status(waiting) == 10)
                try await Task.sleep(for: .milliseconds(300))
                try await h.createQueue("later")
                let message = try #require(try await h.receive("later"))
                #expect(try ContextCodec.decode(Array(message.message.body), format: .json).primaryEntityId == ada)
                let done = try await h.completedJobs()
                #expect(Self.status(done.first) == 30)
                #expect((done.first?.attributes["retrycount"]).map { $0 != .int(0) } == true)
            }
            // Several attempts, one greeting.
            #expect(CountingGreeting.runs.withLock { $0 } == 1)
        }
    }

    @Test(
        "Definitions are checked when saved and activated, with the place and the reason",
        arguments: [
            (#"{"activities": [{"type": "custom", "activity": "Nope"}]}"#, "activities[0]: no custom activity 'Nope'"),
            (
                #"{"activities": [{"type": "custom", "activity": "Tests.CountingGreeting", "inputs": {"name": {"value": 3}}}]}"#,
                "activities[0].inputs.name: 3 is not a string"
            ),
            (
                #"{"activities": [{"type": "custom", "activity": "Tests.CountingGreeting", "inputs": {}}]}"#,
                "the required input 'name' (string) is missing"
            ),
            (
                #"{"activities": [{"type": "update", "attributes": {"description": {"variable": "x"}}}]}"#,
                "no activity before this one sets the variable 'x'"
            ),
            (
                #"{"activities": [{"type": "update", "attributes": {"numberofchildren": {"attribute": "firstname"}}}]}"#,
                "a string cannot go where a integer is expected"
            ),
            (
                #"{"activities": [{"type": "condition", "if": {"attribute": "nope", "operator": "eq", "value": 1}}]}"#,
                "activities[0].if: 'contact' has no column 'nope'"
            ),
            (#"{"activities": [{"type": "jump"}]}"#, "the activity type \"jump\" is not one of"),
            ("not json", "is not JSON"),
        ]
    )
    func refusals(definition: String, expected: String) async throws {
        try await EndpointHarness.run(.sqliteMemory) { h in
            try await h.platform.registerWorkflowActivity(CountingGreeting.self, typeName: CountingGreeting.typeName)
            let error = await #expect(throws: PlatformError.self) {
                _ = try await Self.activate(h, definition: definition)
            }
            #expect(error?.message.contains(expected) == true, "\(error?.message ?? "no error")")
        }
    }

    @Test("A workflow without a trigger or a definition is not activated; real-time and other categories are refused")
    func activationRules() async throws {
        try await EndpointHarness.run(.sqliteMemory) { h in
            let id = try await h.service.create(
                Entity(
                    logicalName: "workflow",
                    attributes: [("name", .string("Idle")), ("primaryentity", .string("contact"))]
                )
            )
            var activation = Entity(logicalName: "workflow", id: id)
            activation.attributes = [("statecode", .optionSetValue(OptionSetValue(1)))]
            let noDefinition = await #expect(throws: PlatformError.self) { try await h.service.update(activation) }
            #expect(noDefinition?.message.contains("without a definition") == true)
            var defined = Entity(logicalName: "workflow", id: id)
            defined.attributes = [("clientdata", .string(#"{"activities": []}"#))]
            try await h.service.update(defined)
            let noTrigger = await #expect(throws: PlatformError.self) { try await h.service.update(activation) }
            #expect(noTrigger?.message.contains("without a trigger") == true)
            let realTime = await #expect(throws: PlatformError.self) {
                _ = try await h.service.create(
                    Entity(
                        logicalName: "workflow",
                        attributes: [
                            ("name", .string("Now")), ("primaryentity", .string("contact")),
                            ("mode", .optionSetValue(OptionSetValue(1))),
                        ]
                    )
                )
            }
            #expect(realTime?.message.contains("Real-time") == true)
        }
    }
}

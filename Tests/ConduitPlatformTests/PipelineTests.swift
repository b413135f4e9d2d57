import ConduitContext
import ConduitPlatform
import ConduitTestSupport
import Foundation
import Testing

@Suite("event pipeline")
struct PipelineTests {
    static func key() -> String { UUID().uuidString }

    @Test("steps run by stage, then rank; stage 20 can change the target", arguments: TestBackend.available)
    func order(backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            let key = Self.key()
            try await h.registerStep(
                "post 2",
                plugin: "Recording",
                message: "Create",
                table: "contact",
                stage: 40,
                rank: 2,
                configuration: "\(key)|post2"
            )
            try await h.registerStep(
                "post 1",
                plugin: "Recording",
                message: "Create",
                table: "contact",
                stage: 40,
                rank: 1,
                configuration: "\(key)|post1"
            )
            try await h.registerStep(
                "pre",
                plugin: "Recording",
                message: "Create",
                table: "contact",
                stage: 20,
                configuration: "\(key)|pre"
            )
            try await h.registerStep(
                "validate",
                plugin: "Recording",
                message: "Create",
                table: "contact",
                stage: 10,
                configuration: "\(key)|validate"
            )
            try await h.registerStep(
                "upper",
                plugin: "Uppercase",
                message: "Create",
                table: "contact",
                stage: 20,
                rank: 0
            )
            try await h.registerStep(
                "other table",
                plugin: "Recording",
                message: "Create",
                table: "account",
                stage: 40,
                configuration: "\(key)|account"
            )
            let id = try await h.service.create(
                Entity(logicalName: "contact", attributes: [("firstname", .string("ada"))])
            )
            #expect(PluginLog.lines(key) == ["validate 10", "pre 20", "post1 40", "post2 40"])
            let contexts = PluginLog.contexts(key)
            #expect(contexts.map(\.isInTransaction) == [false, true, true, true])
            #expect(contexts[2].outputParameters["id"] == .guid(id))
            #expect(contexts[2].parent?.stage == 30)
            #expect(contexts[2].owningExtension?.logicalName == "sdkmessageprocessingstep")
            #expect(Set(contexts.map(\.correlationId)).count == 1)
            let row = try await h.service.retrieve(EntityReference(logicalName: "contact", id: id))
            #expect(row.attributes["firstname"] == .string("ADA"))
            if case .entity(let target)? = contexts[2].inputParameters["Target"] {
                #expect(target.attributes["firstname"] == .string("ADA"))
                #expect(target.attributes["contactid"] == .guid(id))
            } else {
                Issue.record("stage 40 has no Target")
            }
        }
    }

    @Test("pre- and post-images hold the registered columns before and after", arguments: TestBackend.available)
    func images(backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            let key = Self.key()
            let id = try await h.service.create(
                Entity(
                    logicalName: "contact",
                    attributes: [
                        ("firstname", .string("Ada")), ("jobtitle", .string("Analyst")), ("telephone1", .string("1")),
                    ]
                )
            )
            try await h.registerStep(
                "images",
                plugin: "Recording",
                message: "Update",
                table: "contact",
                stage: 40,
                configuration: "\(key)|img",
                images: [(0, "pre", "firstname,jobtitle"), (1, "post", nil), (2, "both", "jobtitle")]
            )
            try await h.service.update(
                Entity(logicalName: "contact", id: id, attributes: [("jobtitle", .string("Engineer"))])
            )
            let context = try #require(PluginLog.contexts(key).first)
            #expect(context.preEntityImages.keys == ["pre", "both"])
            #expect(context.postEntityImages.keys == ["post", "both"])
            #expect(context.preEntityImages["pre"]?.attributes.keys.sorted() == ["firstname", "jobtitle"])
            #expect(context.preEntityImages["pre"]?.attributes["jobtitle"] == .string("Analyst"))
            #expect(context.postEntityImages["post"]?.attributes["jobtitle"] == .string("Engineer"))
            #expect(context.postEntityImages["post"]?.attributes["telephone1"] == .string("1"))
            #expect(context.postEntityImages["both"]?.attributes.keys == ["jobtitle"])
        }
    }

    @Test("filtering attributes skip updates of other columns", arguments: TestBackend.available)
    func filtering(backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            let key = Self.key()
            let id = try await h.service.create(
                Entity(logicalName: "contact", attributes: [("firstname", .string("Ada"))])
            )
            try await h.registerStep(
                "names only",
                plugin: "Recording",
                message: "Update",
                table: "contact",
                stage: 40,
                configuration: "\(key)|f",
                filteringAttributes: "firstname, lastname"
            )
            try await h.service.update(Entity(logicalName: "contact", id: id, attributes: [("jobtitle", .string("x"))]))
            #expect(PluginLog.lines(key).isEmpty)
            try await h.service.update(Entity(logicalName: "contact", id: id, attributes: [("lastname", .string("L"))]))
            #expect(PluginLog.lines(key) == ["f 40"])
        }
    }

    @Test(
        "a failing synchronous step rolls back the change, nested changes and the jobs",
        arguments: TestBackend.available
    )
    func rollback(backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            try await h.registerStep(
                "async",
                plugin: "Recording",
                message: "Create",
                table: "contact",
                stage: 40,
                mode: 1,
                configuration: "x|async"
            )
            try await h.registerStep(
                "nested",
                plugin: "CreateAccount",
                message: "Create",
                table: "contact",
                stage: 40,
                rank: 1
            )
            try await h.registerStep(
                "fail",
                plugin: "Failing",
                message: "Create",
                table: "contact",
                stage: 40,
                rank: 2,
                configuration: "No contacts today."
            )
            let error = await #expect(throws: PlatformError.self) {
                try await h.service.create(Entity(logicalName: "contact", attributes: [("firstname", .string("Ada"))]))
            }
            #expect(error?.code == .pluginFailed)
            #expect(error?.message == "No contacts today.")
            #expect(try await h.service.retrieveMultiple(QueryExpression(entityName: "contact")).entities.isEmpty)
            #expect(try await h.service.retrieveMultiple(QueryExpression(entityName: "account")).entities.isEmpty)
            #expect(try await h.jobs().entities.isEmpty)
        }
    }

    @Test("shared variables flow from stage 20 to stage 40 and into async contexts", arguments: TestBackend.available)
    func sharedVariables(backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            let key = Self.key()
            try await h.registerStep(
                "pre",
                plugin: "Shared",
                message: "Create",
                table: "account",
                stage: 20,
                configuration: key
            )
            try await h.registerStep(
                "post",
                plugin: "Shared",
                message: "Create",
                table: "account",
                stage: 40,
                configuration: key
            )
            try await h.registerStep(
                "async",
                plugin: "Recording",
                message: "Create",
                table: "account",
                stage: 40,
                mode: 1,
                configuration: "a|b"
            )
            _ = try await h.service.create(Entity(logicalName: "account", attributes: [("name", .string("A"))]))
            #expect(PluginLog.lines(key) == ["20 saw hello", "40 saw hello"])
            let job = try #require(try await h.jobs().entities.first)
            guard case .string(let data)? = job.attributes["data"] else {
                Issue.record("the job has no data")
                return
            }
            let context = try ContextCodec.decode(Array(data.utf8), format: .json)
            #expect(context.sharedVariables["fromPreOperation"] == .string("hello"))
        }
    }

    @Test("calls nested past depth 8 fail with a loop error and roll back", arguments: TestBackend.available)
    func depthLimit(backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            let key = Self.key()
            let id = try await h.service.create(
                Entity(logicalName: "contact", attributes: [("firstname", .string("Ada"))])
            )
            try await h.registerStep(
                "loop",
                plugin: "Looping",
                message: "Update",
                table: "contact",
                stage: 40,
                configuration: key
            )
            let error = await #expect(throws: PlatformError.self) {
                try await h.service.update(
                    Entity(logicalName: "contact", id: id, attributes: [("jobtitle", .string("start"))])
                )
            }
            #expect(error?.code == .infiniteLoop)
            #expect(error?.message.contains("the limit is 8") == true)
            #expect(PluginLog.lines(key) == (1...8).map { "depth \($0)" })
            let row = try await h.service.retrieve(EntityReference(logicalName: "contact", id: id))
            #expect(row.attributes["jobtitle"] == nil)
        }
    }

    @Test("an async step's job is written with the change, and only with it", arguments: TestBackend.available)
    func asyncJobs(backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            let step = try await h.registerStep(
                "async on update",
                plugin: "Recording",
                message: "Update",
                table: "contact",
                stage: 40,
                mode: 1,
                configuration: "k|async"
            )
            let id = try await h.service.create(
                Entity(logicalName: "contact", attributes: [("firstname", .string("Ada"))])
            )
            #expect(try await h.jobs().entities.isEmpty)
            try await h.service.update(
                Entity(logicalName: "contact", id: id, attributes: [("firstname", .string("James"))])
            )
            let jobs = try await h.jobs().entities
            #expect(jobs.count == 1)
            let job = try #require(jobs.first)
            #expect(job.attributes["statecode"] == .optionSetValue(OptionSetValue(0)))
            #expect(job.attributes["statuscode"] == .optionSetValue(OptionSetValue(0)))
            #expect(job.attributes["operationtype"] == .optionSetValue(OptionSetValue(1)))
            #expect(
                job.attributes["owningextensionid"]
                    == .entityReference(EntityReference(logicalName: "sdkmessageprocessingstep", id: step))
            )
            #expect(
                job.attributes["regardingobjectid"] == .entityReference(EntityReference(logicalName: "contact", id: id))
            )
            #expect(job.attributes["messagename"] == .string("Update"))
            guard case .string(let data)? = job.attributes["data"] else {
                Issue.record("no data")
                return
            }
            let context = try ContextCodec.decode(Array(data.utf8), format: .json)
            #expect(context.operationId == job.id)
            #expect(context.mode == 1)
            #expect(context.isInTransaction == false)
            #expect(context.postEntityImages.keys == ["AsynchronousStepPrimaryName"])
            #expect(
                context.postEntityImages["AsynchronousStepPrimaryName"]?.attributes.keys == ["fullname", "contactid"]
            )
            #expect(context.parent?.operationId == job.id)
        }
    }
}

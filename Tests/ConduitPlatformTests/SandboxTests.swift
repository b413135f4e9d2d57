import ConduitContext
import ConduitPlatform
import ConduitStore
import ConduitTestSupport
import Foundation
import SQLKit
import Testing

/// Sandboxed plug-ins: WebAssembly modules uploaded as `pluginassembly` rows (isolationmode 2) and run by WasmKit in
/// steps, without a restart, under a fuel budget and a memory cap; whatever a guest does fails its own run only.
@Suite("sandboxed plug-ins (WasmKit)")
struct SandboxTests {
    /// A module with the ABI's `memory` and bump `alloc`, the host functions it imports, data at fixed offsets and
    /// the export `run(context, context_length, configuration, configuration_length) -> i32` with `body`.
    static func module(imports: String = "", data: [(offset: Int, text: String)] = [], body: String) -> String {
        SandboxBenchmark.module(imports: imports, data: data, run: body)
    }

    /// Uploads `wat` as a sandboxed assembly with a plug-in type `run`, and registers a step on Create of contact.
    @discardableResult
    static func register(
        _ h: PlatformHarness,
        _ wat: String,
        name: String,
        stage: Int32 = 20,
        mode: Int32 = 0,
        configuration: String? = nil
    ) async throws -> Guid {
        let assembly = try await h.service.create(
            Entity(
                logicalName: "pluginassembly",
                attributes: [
                    ("name", .string(name)), ("isolationmode", .optionSetValue(OptionSetValue(2))),
                    ("sourcetype", .optionSetValue(OptionSetValue(0))),
                    ("content", .string(Data(wat.utf8).base64EncodedString())),
                ]
            )
        )
        let type = try await h.service.create(
            Entity(
                logicalName: "plugintype",
                attributes: [
                    ("name", .string("\(name).run")), ("typename", .string("run")),
                    (
                        "pluginassemblyid",
                        .entityReference(EntityReference(logicalName: "pluginassembly", id: assembly))
                    ),
                ]
            )
        )
        return try await h.service.registerStep(
            name,
            message: "Create",
            table: "contact",
            stage: stage,
            mode: mode,
            handler: EntityReference(logicalName: "plugintype", id: type),
            configuration: configuration
        )
    }

    static func createContact(_ h: PlatformHarness, _ name: String) async throws -> Guid {
        try await h.service.create(Entity(logicalName: "contact", attributes: [("lastname", .string(name))]))
    }

    static func count(_ h: PlatformHarness, _ table: String) async throws -> Int {
        try await h.service.retrieveMultiple(QueryExpression(entityName: table)).entities.count
    }

    /// The repository's root (for docs/sandbox).
    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    /// Builds `docs/sandbox/check-name.c` for wasm32 with clang and lld (`.ci/run` makes sure a clang that targets
    /// wasm32 is there).
    static func buildCPlugin() throws -> [UInt8] {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("check-name-\(UUID()).wasm").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "clang", "--target=wasm32", "-O2", "-nostdlib", "-Wl,--no-entry", "-Wl,--export-memory", "-o", output,
            repositoryRoot.appendingPathComponent("docs/sandbox/check-name.c").path,
        ]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw SandboxBuildFailure(text: "clang for wasm32 failed: \(String(decoding: message, as: UTF8.self))")
        }
        return Array(try Data(contentsOf: URL(fileURLWithPath: output)))
    }

    struct SandboxBuildFailure: Error, CustomStringConvertible {
        var text: String
        var description: String { text }
    }

    @Test("a plug-in written in C, built with clang for wasm32 and uploaded as a .wasm, refuses a create synchronously")
    func pluginInC() async throws {
        let wasm = try await offPool { try Self.buildCPlugin() }
        #expect(wasm.starts(with: [0x00, 0x61, 0x73, 0x6D]))
        try await PlatformHarness.run(.sqliteMemory) { h in
            let assembly = try await h.service.create(
                Entity(
                    logicalName: "pluginassembly",
                    attributes: [
                        ("name", .string("CheckName")), ("isolationmode", .optionSetValue(OptionSetValue(2))),
                        ("content", .string(Data(wasm).base64EncodedString())),
                    ]
                )
            )
            let type = try await h.service.create(
                Entity(
                    logicalName: "plugintype",
                    attributes: [
                        ("name", .string("CheckName.check_name")), ("typename", .string("check_name")),
                        (
                            "pluginassemblyid",
                            .entityReference(EntityReference(logicalName: "pluginassembly", id: assembly))
                        ),
                    ]
                )
            )
            _ = try await h.service.registerStep(
                "C check",
                message: "Create",
                table: "contact",
                stage: 20,
                mode: 0,
                handler: EntityReference(logicalName: "plugintype", id: type)
            )
            let error = await #expect(throws: PlatformError.self) { try await Self.createContact(h, "Refused") }
            #expect(error?.message == "Contacts may not be called Refused (said a plug-in written in C).")
            _ = try await Self.createContact(h, "Welcome")
            #expect(try await Self.count(h, "contact") == 1)
        }
    }

    @Test("an uploaded WAT plug-in runs in a step at once: it creates a record as the step's user and traces")
    func createsThroughTheOrganizationService() async throws {
        try await PlatformHarness.run(.sqliteMemory) { h in
            let request =
                #"{"message":"Create","target":{"logicalname":"account","attributes":{"name":"from the sandbox"}}}"#
            let wat = Self.module(
                imports: """
                    (import "conduit" "execute" (func $execute (param i32 i32) (result i32)))
                    (import "conduit" "set_shared_variable" (func $share (param i32 i32 i32 i32)))
                    """,
                data: [(0, request), (1024, "sandbox"), (1100, "yes")],
                body: """
                    (drop (call $execute (i32.const 0) (i32.const \(request.utf8.count))))
                    (call $share (i32.const 1024) (i32.const 7) (i32.const 1100) (i32.const 3))
                    (i32.const 0)
                    """
            )
            try await Self.register(h, wat, name: "Creator")
            _ = try await Self.createContact(h, "Ada")
            let accounts = try await h.service.retrieveMultiple(QueryExpression(entityName: "account")).entities
            #expect(accounts.map { $0.attributes["name"] } == [.string("from the sandbox")])
        }
    }

    /// A guest that runs `requests` through `execute` in turn, then fails with the last response as its message (or,
    /// with `succeed`, returns success).
    static func executor(_ requests: [String], succeed: Bool = false) -> String {
        var data: [(offset: Int, text: String)] = []
        var calls: [String] = []
        for (index, request) in requests.enumerated() {
            data.append((index * 2048, request))
            calls.append("(local.set $n (call $execute (i32.const \(index * 2048)) (i32.const \(request.utf8.count))))")
        }
        return Self.module(
            imports: """
                (import "conduit" "execute" (func $execute (param i32 i32) (result i32)))
                (import "conduit" "answer" (func $answer (param i32)))
                (import "conduit" "fail" (func $fail (param i32 i32)))
                """,
            data: data,
            body: """
                (local $n i32)
                \(calls.joined(separator: "\n"))
                (call $answer (i32.const 8192))
                \(succeed ? "(i32.const 0)" : "(call $fail (i32.const 8192) (local.get $n)) (i32.const 1)")
                """
        )
    }

    @Test(
        "execute: SetState, Assign and Associate as the step's user, committed with the change; a request missing a member is refused with what it needs"
    )
    func organizationServiceMessages() async throws {
        try await PlatformHarness.run(.sqliteMemory) { h in
            let account = try await h.service.create(
                Entity(logicalName: "account", attributes: [("name", .string("Contoso"))])
            )
            let lee = try await Self.createContact(h, "Lee")
            let system = h.platform.organization.systemUserId
            let requests = [
                #"{"message":"SetState","logicalname":"account","id":"\#(account)","state":1,"status":2}"#,
                #"{"message":"Assign","logicalname":"account","id":"\#(account)","assignee":"\#(system)"}"#,
                #"{"message":"Associate","logicalname":"account","id":"\#(account)","relationship":"contact_customer_accounts","related":[{"logicalname":"contact","id":"\#(lee)"}]}"#,
            ]
            try await Self.register(h, Self.executor(requests, succeed: true), name: "Organizer", stage: 40)
            _ = try await Self.createContact(h, "Ada")
            let row = try await h.service.retrieve(EntityReference(logicalName: "account", id: account))
            #expect(row.attributes["statecode"]?.optionValue == 1)
            #expect(row.attributes["statuscode"]?.optionValue == 2)
            #expect(
                row.attributes["ownerid"] == .entityReference(EntityReference(logicalName: "systemuser", id: system))
            )
            let contact = try await h.service.retrieve(EntityReference(logicalName: "contact", id: lee))
            #expect(
                contact.attributes["parentcustomerid"]
                    == .entityReference(EntityReference(logicalName: "account", id: account))
            )
        }
        try await PlatformHarness.run(.sqliteMemory) { h in
            let bad = #"{"message":"SetState","logicalname":"account","id":"\#(Guid.random())","state":1}"#
            try await Self.register(h, Self.executor([bad]), name: "Half a request")
            let error = await #expect(throws: PlatformError.self) { try await Self.createContact(h, "Ada") }
            #expect(
                error?.message.contains("execute: SetState needs \"state\" and \"status\"") == true,
                "\(String(describing: error))"
            )
        }
    }

    @Test("execute: Create with a lookup, a choice and an amount, then RetrieveMultiple with conditions, order and top")
    func organizationServiceQueries() async throws {
        try await PlatformHarness.run(.sqliteMemory) { h in
            let parent = try await h.service.create(
                Entity(logicalName: "account", attributes: [("name", .string("Parent"))])
            )
            let create = """
                {"message":"Create","target":{"logicalname":"account","attributes":{"name":"Child",\
                "parentaccountid":{"logicalname":"account","id":"\(parent)"},"industrycode":{"value":7},\
                "revenue":{"money":"1234.50"},"numberofemployees":12}}}
                """
            let query = """
                {"message":"RetrieveMultiple","logicalname":"account",\
                "columns":["name","parentaccountid","industrycode","revenue","numberofemployees"],\
                "conditions":[{"attribute":"name","operator":"BeginsWith","values":["Chi"]},\
                {"attribute":"numberofemployees","operator":"GreaterThan","values":[10]}],\
                "orders":[{"attribute":"name","descending":true}],"top":5}
                """
            try await Self.register(h, Self.executor([create, query]), name: "Querier")
            let error = await #expect(throws: PlatformError.self) { try await Self.createContact(h, "Ada") }
            let response = try #require(error?.message)
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(response.utf8)) as? [String: Any],
                "\(response)"
            )
            let entities = try #require(object["entities"] as? [[String: Any]], "\(response)")
            #expect(entities.count == 1, "\(response)")
            let attributes = try #require(entities.first?["attributes"] as? [String: Any], "\(response)")
            #expect(attributes["name"] as? String == "Child")
            #expect(attributes["numberofemployees"] as? Int == 12)
            #expect(attributes["industrycode"] as? [String: Int] == ["value": 7])
            let lookup = attributes["parentaccountid"] as? [String: String]
            #expect(lookup == ["logicalname": "account", "id": parent.description], "\(response)")
            let revenue = (attributes["revenue"] as? [String: String])?["money"]
            #expect(revenue.flatMap { Decimal(string: $0) } == Decimal(string: "1234.5"), "\(response)")
        }
        try await PlatformHarness.run(.sqliteMemory) { h in
            let bad =
                #"{"message":"RetrieveMultiple","logicalname":"account","conditions":[{"attribute":"name","operator":"Like","values":["x"]}]}"#
            try await Self.register(h, Self.executor([bad]), name: "Bad query")
            let error = await #expect(throws: PlatformError.self) { try await Self.createContact(h, "Ada") }
            #expect(
                error?.message.contains("failed: execute: 'Like' is not a condition operator the sandbox runs") == true,
                "\(String(describing: error))"
            )
        }
    }

    /// Runs `requests` in a sandboxed step on a fresh platform with accounts A1…A5 (numberofemployees 1…5) and
    /// returns the last response, parsed.
    static func lastResponse(_ requests: [String]) async throws -> [String: Any] {
        let response = try await PlatformHarness.run(.sqliteMemory) { h in
            for n in 1...5 {
                try await h.service.create(
                    Entity(
                        logicalName: "account",
                        attributes: [("name", .string("A\(n)")), ("numberofemployees", .int(Int32(n)))]
                    )
                )
            }
            try await Self.register(h, Self.executor(requests), name: "Querier")
            let error = await #expect(throws: PlatformError.self) { try await Self.createContact(h, "Ada") }
            return try #require(error?.message)
        }
        return try #require(
            try JSONSerialization.jsonObject(with: Data(response.utf8)) as? [String: Any],
            "\(response)"
        )
    }

    static func names(_ response: [String: Any]) -> [String] {
        ((response["entities"] as? [[String: Any]]) ?? []).compactMap {
            ($0["attributes"] as? [String: Any])?["name"] as? String
        }
    }

    @Test(
        "execute: Upsert creates then updates; RetrieveMultiple with an or-filter of groups, and pages with moreRecords"
    )
    func organizationServiceUpsertFiltersPaging() async throws {
        let id = Guid.random()
        let upsert = { (name: String) in
            #"{"message":"Upsert","target":{"logicalname":"account","id":"\#(id)","attributes":{"name":"\#(name)","numberofemployees":100}}}"#
        }
        var response = try await Self.lastResponse([upsert("U1")])
        #expect(response["created"] as? Bool == true && response["id"] as? String == id.description, "\(response)")
        let read = #"{"message":"Retrieve","logicalname":"account","id":"\#(id)","columns":["name"]}"#
        response = try await Self.lastResponse([upsert("U1"), upsert("U2")])
        #expect(response["created"] as? Bool == false, "\(response)")
        response = try await Self.lastResponse([upsert("U1"), upsert("U2"), read])
        #expect((response["attributes"] as? [String: Any])?["name"] as? String == "U2", "\(response)")

        // numberofemployees ≥ 2 and (name = A2, or (name begins with A and numberofemployees ≥ 4)): A2, A4, A5.
        let filtered = """
            {"message":"RetrieveMultiple","logicalname":"account","columns":["name"],\
            "conditions":[{"attribute":"numberofemployees","operator":"GreaterEqual","values":[2]}],\
            "filter":{"type":"or","conditions":[{"attribute":"name","operator":"Equal","values":["A2"]}],\
            "filters":[{"conditions":[{"attribute":"name","operator":"BeginsWith","values":["A"]},\
            {"attribute":"numberofemployees","operator":"GreaterEqual","values":[4]}]}]},\
            "orders":[{"attribute":"name"}]
            """
        response = try await Self.lastResponse([filtered + "}"])
        #expect(Self.names(response) == ["A2", "A4", "A5"], "\(response)")
        #expect(response["moreRecords"] as? Bool == false, "\(response)")
        response = try await Self.lastResponse([filtered + #","count":2,"page":1}"#])
        #expect(Self.names(response) == ["A2", "A4"] && response["moreRecords"] as? Bool == true, "\(response)")
        response = try await Self.lastResponse([filtered + #","count":2,"page":2}"#])
        #expect(Self.names(response) == ["A5"] && response["moreRecords"] as? Bool == false, "\(response)")

        for (bad, expected) in [
            (filtered + #","count":2,"top":3}"#, "give \"top\" or \"count\" and \"page\", not both"),
            (
                #"{"message":"RetrieveMultiple","logicalname":"account","filter":{"type":"xor"}}"#,
                #"a filter's "type" is "and" or "or", not "xor""#
            ),
            (#"{"message":"Upsert","target":{"logicalname":"account"}}"#, #"Upsert needs the target's "id""#),
        ] {
            try await PlatformHarness.run(.sqliteMemory) { h in
                try await Self.register(h, Self.executor([bad]), name: "Bad")
                let error = await #expect(throws: PlatformError.self) { try await Self.createContact(h, "Ada") }
                #expect(error?.message.contains("failed: execute: \(expected)") == true, "\(String(describing: error))")
            }
        }
    }

    @Test("a synchronous sandboxed plug-in that fails rolls the change back, with its message")
    func failureRollsBack() async throws {
        try await PlatformHarness.run(.sqliteMemory) { h in
            let message = "Contacts need a first name here."
            let wat = Self.module(
                imports: #"(import "conduit" "fail" (func $fail (param i32 i32)))"#,
                data: [(0, message)],
                body: "(call $fail (i32.const 0) (i32.const \(message.utf8.count))) (i32.const 1)"
            )
            try await Self.register(h, wat, name: "Refuser")
            let error = await #expect(throws: PlatformError.self) { try await Self.createContact(h, "Ada") }
            #expect(error?.message == message, "\(String(describing: error))")
            #expect(try await Self.count(h, "contact") == 0)
        }
    }

    @Test(
        "guests that loop forever, trap, grow memory without bound or import what the sandbox lacks fail their run with a clear error; the platform goes on",
        arguments: [
            ("loop", "(loop $forever (br $forever)) (i32.const 0)", "", "whole execution budget"),
            ("trap", "unreachable", "", "trapped"),
            (
                "memory",
                "(loop $grow (br_if $grow (i32.ne (memory.grow (i32.const 1)) (i32.const -1)))) unreachable",
                "", "beyond the sandbox's cap of 16 MB"
            ),
            (
                "import", "(call $open (i32.const 0)) (i32.const 0)",
                #"(import "env" "open" (func $open (param i32)))"#,
                "imports env.open, which the sandbox does not provide"
            ),
        ]
    )
    func limits(_ kind: String, _ body: String, _ imports: String, _ expected: String) async throws {
        try await PlatformHarness.run(.sqliteMemory) { h in
            h.platform.sandboxLimits = SandboxLimits(fuel: 5_000_000, memoryBytes: 16 << 20)
            let wat = Self.module(imports: imports, body: body)
            if kind == "import" {
                // Refused at upload, with the reason…
                let refusal = await #expect(throws: PlatformError.self) {
                    try await Self.register(h, wat, name: "Bad \(kind)")
                }
                #expect(
                    refusal?.message.contains("cannot be saved") == true && refusal?.message.contains(expected) == true,
                    "\(String(describing: refusal))"
                )
                // …and a module that reached the table another way (an older row) fails its run with it.
                try await Self.register(h, Self.module(body: "(i32.const 0)"), name: "Bad \(kind)")
                try await h.platform.store.transaction { db in
                    try await db.raw(
                        "UPDATE pluginassembly SET content = \(bind: Data(wat.utf8).base64EncodedString()) WHERE name = 'Bad import'"
                    ).run()
                }
            } else {
                try await Self.register(h, wat, name: "Bad \(kind)")
            }
            let error = await #expect(throws: PlatformError.self) { try await Self.createContact(h, "Ada") }
            #expect(error?.message.contains(expected) == true, "\(String(describing: error))")
            #expect(try await Self.count(h, "contact") == 0)
            // The platform goes on: a change without that step commits.
            let account = try await h.service.create(
                Entity(logicalName: "account", attributes: [("name", .string("ok"))])
            )
            #expect(account != .empty)
        }
    }

    @Test("a guest that keeps calling host functions past its deadline is stopped at the next call, fuel or not")
    func deadline() async throws {
        try await PlatformHarness.run(.sqliteMemory) { h in
            h.platform.sandboxLimits = SandboxLimits(deadline: .milliseconds(300))
            let wat = Self.module(
                imports: #"(import "conduit" "trace" (func $trace (param i32 i32)))"#,
                body: "(loop $again (call $trace (i32.const 0) (i32.const 0)) (br $again)) (i32.const 0)"
            )
            try await Self.register(h, wat, name: "Chatty")
            let started = ContinuousClock.now
            let error = await #expect(throws: PlatformError.self) { try await Self.createContact(h, "Ada") }
            #expect(
                error?.message.contains("ran past its deadline of 300 ms (stopped when it called conduit.trace)")
                    == true,
                "\(String(describing: error))"
            )
            #expect(ContinuousClock.now - started < .seconds(30))
            #expect(try await Self.count(h, "contact") == 0)
        }
    }

    @Test(
        "shared variables are refused beyond 1 MB in all; a failed asynchronous run's job message ends with its trace, cut at 10 KB"
    )
    func quotas() async throws {
        try await PlatformHarness.run(.sqliteMemory) { h in
            let share = Self.module(
                imports: #"(import "conduit" "set_shared_variable" (func $share (param i32 i32 i32 i32)))"#,
                data: [(0, "abcdefgh")],
                body: """
                    (local $i i32)
                    (block $done (loop $next
                      (call $share (local.get $i) (i32.const 1) (i32.const 0) (i32.const 200000))
                      (local.set $i (i32.add (local.get $i) (i32.const 1)))
                      (br_if $next (i32.lt_u (local.get $i) (i32.const 8)))))
                    (i32.const 0)
                    """
            )
            try await Self.register(h, share, name: "Hoarder")
            let error = await #expect(throws: PlatformError.self) { try await Self.createContact(h, "Ada") }
            #expect(
                error?.message.contains(
                    "the shared variables of one execution may hold 1 MB in all; 'f' would bring them to"
                )
                    == true,
                "\(String(describing: error))"
            )
        }
        try await PlatformHarness.run(.sqliteMemory) { h in
            let line = String(repeating: "x", count: 1000)
            let failure = "failed after tracing"
            let tracer = Self.module(
                imports: """
                    (import "conduit" "trace" (func $trace (param i32 i32)))
                    (import "conduit" "fail" (func $fail (param i32 i32)))
                    """,
                data: [(0, line), (2000, failure)],
                body: """
                    (local $i i32)
                    (block $done (loop $next
                      (call $trace (i32.const 0) (i32.const 1000))
                      (local.set $i (i32.add (local.get $i) (i32.const 1)))
                      (br_if $next (i32.lt_u (local.get $i) (i32.const 20)))))
                    (call $fail (i32.const 2000) (i32.const \(failure.utf8.count)))
                    (i32.const 1)
                    """
            )
            try await Self.register(h, tracer, name: "Tracer", stage: 40, mode: 1)
            try await AsyncServiceTests.withService(h) { _ in
                _ = try await Self.createContact(h, "Ada")
                let jobs = try await AsyncServiceTests.waitForJobs(h)
                let job = try await AsyncServiceTests.job(h, try #require(jobs.first).id)
                #expect(AsyncServiceTests.status(job) == 31)
                guard case .string(let message)? = job.attributes["message"] else {
                    Issue.record("no message: \(job.attributes)")
                    return
                }
                let expectedTrace =
                    Array(repeating: line, count: 10).joined(separator: "\n") + "\n"
                    + String(repeating: "x", count: 240) + "\n" + TracingService.cut
                #expect(message == "\(failure)\n\nPlug-in trace:\n" + expectedTrace)
            }
        }
    }

    @Test("the step's configuration reaches the guest; a new upload of the assembly is used without a restart")
    func configurationAndReload() async throws {
        try await PlatformHarness.run(.sqliteMemory) { h in
            // Fails with the configuration as its message.
            let wat = Self.module(
                imports: #"(import "conduit" "fail" (func $fail (param i32 i32)))"#,
                body: "(call $fail (local.get 2) (local.get 3)) (i32.const 1)"
            )
            try await Self.register(h, wat, name: "Echo", configuration: "configured text")
            let error = await #expect(throws: PlatformError.self) { try await Self.createContact(h, "Ada") }
            #expect(error?.message == "configured text")
            // Upload a version that succeeds: the next create uses it.
            let assembly = try #require(
                try await h.service.retrieveMultiple(QueryExpression(entityName: "pluginassembly")).entities.first {
                    $0.attributes["name"] == .string("Echo")
                }
            )
            var update = Entity(logicalName: "pluginassembly", id: assembly.id)
            update.attributes.append(
                key: "content",
                value: .string(Data(Self.module(body: "(i32.const 0)").utf8).base64EncodedString())
            )
            try await h.service.update(update)
            _ = try await Self.createContact(h, "Ada")
            #expect(try await Self.count(h, "contact") == 1)
        }
    }
}

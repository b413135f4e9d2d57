import ConduitContext
import ConduitPlatform
import ConduitStore
import ConduitTestSupport
import Foundation
import SQLKit
import Testing

/// `pluginassembly` rows: the compiled-in plug-ins' (isolation mode 1, None) and uploaded ones (2, Sandbox), checked
/// when they are written.
@Suite("plug-in assemblies")
struct PluginAssemblyTests {
    static func assemblies(_ h: PlatformHarness) async throws -> [Entity] {
        try await h.service.retrieveMultiple(QueryExpression(entityName: "pluginassembly")).entities
    }

    @Test(
        "compiled-in plug-in types belong to the assembly 'Conduit', isolation mode 1 (None), and still run",
        arguments: TestBackend.all
    )
    func compiledAssembly(_ backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            let conduit = try #require(
                try await Self.assemblies(h).first { $0.attributes["name"] == .string("Conduit") }
            )
            #expect(conduit.attributes["isolationmode"]?.optionValue == 1)
            #expect(conduit.attributes["sourcetype"]?.optionValue == 2)
            for typeId in h.pluginTypes.values {
                let type = try await h.service.retrieve(EntityReference(logicalName: "plugintype", id: typeId))
                guard case .entityReference(let assembly)? = type.attributes["pluginassemblyid"] else {
                    Issue.record("plug-in type \(typeId) has no pluginassemblyid: \(type.attributes)")
                    continue
                }
                #expect(assembly.id == conduit.id)
                #expect(type.attributes["assemblyname"] == .string("Conduit"))
            }
            // A compiled-in plug-in of that assembly runs in full trust: the failing one refuses a create.
            try await h.registerStep("refuse", plugin: "Failing", message: "Create", table: "contact", stage: 20)
            await #expect(throws: PlatformError.self) {
                try await h.service.create(Entity(logicalName: "contact", attributes: [("lastname", .string("Ada"))]))
            }
            // A plug-in type row made before compiled-in plug-ins had an assembly row gets it at the next start.
            let recording = try #require(h.pluginTypes["Recording"])
            try await h.platform.store.transaction { db in
                try await db.raw(
                    "UPDATE plugintype SET pluginassemblyid = NULL WHERE plugintypeid = \(bind: recording.description)"
                ).run()
            }
            try await h.platform.registerPluginType(RecordingPlugin.self, typeName: "Tests.Recording")
            let type = try await h.service.retrieve(EntityReference(logicalName: "plugintype", id: recording))
            #expect(
                type.attributes["pluginassemblyid"]
                    == .entityReference(EntityReference(logicalName: "pluginassembly", id: conduit.id))
            )
            // Nobody changes it.
            var change = Entity(logicalName: "pluginassembly", id: conduit.id)
            change.attributes["description"] = .string("mine now")
            let refusal = await #expect(throws: PlatformError.self) { try await h.service.update(change) }
            #expect(refusal?.message.contains("holds the plug-ins compiled into the server") == true)
        }
    }

    @Test(
        "a compiled-in plug-in type registered by several callers at once (nodes starting together) is made once, without an error",
        arguments: TestBackend.all
    )
    func concurrentRegistration(_ backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            let ids = try await withThrowingTaskGroup(of: Guid.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await h.platform.registerPluginType(RecordingPlugin.self, typeName: "Tests.Concurrent")
                    }
                }
                return try await group.reduce(into: Set<Guid>()) { $0.insert($1) }
            }
            #expect(ids.count == 1)
            let rows = try await h.service.retrieveMultiple(
                QueryExpression(
                    entityName: "plugintype",
                    criteria: FilterExpression(conditions: [
                        ConditionExpression("typename", .equal, [.string("Tests.Concurrent")])
                    ])
                )
            ).entities
            #expect(rows.count == 1)
        }
    }

    @Test(
        "an upload is refused at once, with what is wrong: full trust, External, no content, a module that does not parse, imports what the sandbox lacks or lacks the ABI's exports",
        arguments: [
            (
                Int32?(1), SandboxTests.module(body: "(i32.const 0)"),
                "isolationmode 1 (None, full trust) is for the plug-ins compiled into Conduit"
            ),
            (Int32?(3), SandboxTests.module(body: "(i32.const 0)"), "isolationmode 3 is not supported"),
            (Int32?(2), "", "it needs its content, the WebAssembly module"),
            (Int32?(2), "(module (func", "as WebAssembly text it does not parse"),
            (
                nil,
                SandboxTests.module(
                    imports:
                        #"(import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))"#,
                    body: "(i32.const 0)"
                ),
                "imports wasi_snapshot_preview1.fd_write, which the sandbox does not provide"
            ),
            (
                nil,
                #"(module (memory (export "memory") 1) (func (export "run") (param i32 i32 i32 i32) (result i32) (i32.const 0)))"#,
                "exports no function 'alloc' (alloc(size: i32) -> i32), which the sandbox's ABI needs"
            ),
            (
                nil,
                #"(module (func (export "alloc") (param i32) (result i32) (i32.const 0)))"#,
                "exports no memory named 'memory', which the sandbox's ABI needs"
            ),
        ]
    )
    func refusals(_ isolation: Int32?, _ content: String, _ expected: String) async throws {
        try await PlatformHarness.run(.sqliteMemory) { h in
            var row = Entity(logicalName: "pluginassembly", attributes: [("name", .string("Upload"))])
            if let isolation { row.attributes["isolationmode"] = .optionSetValue(OptionSetValue(isolation)) }
            if !content.isEmpty { row.attributes["content"] = .string(Data(content.utf8).base64EncodedString()) }
            let refusal = await #expect(throws: PlatformError.self) { try await h.service.create(row) }
            #expect(
                refusal?.message.hasPrefix("The plug-in assembly 'Upload' cannot be saved: ") == true,
                "\(String(describing: refusal))"
            )
            #expect(refusal?.message.contains(expected) == true, "\(String(describing: refusal))")
            let remaining = try await Self.assemblies(h)
            #expect(remaining.count == 1)  // the compiled-in one only
        }
    }

    @Test(
        "an upload without isolationmode runs in the sandbox (2), source type Database (0); a bad new content is refused and the old one kept"
    )
    func defaultsAndUpdates() async throws {
        try await PlatformHarness.run(.sqliteMemory) { h in
            let good = Data(SandboxTests.module(body: "(i32.const 0)").utf8).base64EncodedString()
            let id = try await h.service.create(
                Entity(
                    logicalName: "pluginassembly",
                    attributes: [("name", .string("Upload")), ("content", .string(good))]
                )
            )
            let row = try await h.service.retrieve(EntityReference(logicalName: "pluginassembly", id: id))
            #expect(row.attributes["isolationmode"]?.optionValue == 2)
            #expect(row.attributes["sourcetype"]?.optionValue == 0)
            var change = Entity(logicalName: "pluginassembly", id: id)
            change.attributes["content"] = .string(Data("not a module".utf8).base64EncodedString())
            let refusal = await #expect(throws: PlatformError.self) { try await h.service.update(change) }
            #expect(refusal?.message.contains("does not parse") == true, "\(String(describing: refusal))")
            let kept = try await h.service.retrieve(EntityReference(logicalName: "pluginassembly", id: id))
            #expect(kept.attributes["content"] == .string(good))
            // A change that leaves the content alone needs none.
            var rename = Entity(logicalName: "pluginassembly", id: id)
            rename.attributes["description"] = .string("renamed")
            try await h.service.update(rename)
        }
    }

    @Test(
        "deletes: the compiled-in assembly and its types cannot be deleted, nor an assembly or type steps use; an unused assembly takes its types with it",
        arguments: TestBackend.all
    )
    func deletes(_ backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            let compiled = EntityReference(
                logicalName: "pluginassembly",
                id: try #require(
                    try await Self.assemblies(h).first { $0.attributes["name"] == .string("Conduit") }?.id
                )
            )
            var refusal = await #expect(throws: PlatformError.self) { try await h.service.delete(compiled) }
            #expect(
                refusal?.message
                    == "The plug-in assembly 'Conduit' cannot be deleted: it is compiled into the server (assembly 'Conduit', isolationmode 1).",
                "\(String(describing: refusal))"
            )
            let recording = EntityReference(logicalName: "plugintype", id: try #require(h.pluginTypes["Recording"]))
            refusal = await #expect(throws: PlatformError.self) { try await h.service.delete(recording) }
            #expect(refusal?.message.contains("cannot be deleted: it is compiled into the server") == true)

            let step = try await SandboxTests.register(h, SandboxTests.module(body: "(i32.const 0)"), name: "Used")
            let stepRow = try await h.service.retrieve(
                EntityReference(logicalName: "sdkmessageprocessingstep", id: step)
            )
            guard case .entityReference(let type)? = stepRow.attributes["eventhandler"] else {
                Issue.record("the step has no event handler: \(stepRow.attributes)")
                return
            }
            let typeRow = try await h.service.retrieve(type)
            guard case .entityReference(let assembly)? = typeRow.attributes["pluginassemblyid"] else {
                Issue.record("the type has no assembly: \(typeRow.attributes)")
                return
            }
            refusal = await #expect(throws: PlatformError.self) { try await h.service.delete(assembly) }
            #expect(
                refusal?.message
                    == "The plug-in assembly 'Used' cannot be deleted: a step uses its plug-in types ('Used'). Delete those steps first (conduit step remove).",
                "\(String(describing: refusal))"
            )
            refusal = await #expect(throws: PlatformError.self) { try await h.service.delete(type) }
            #expect(
                refusal?.message.hasPrefix("The plug-in type 'run' cannot be deleted: a step uses it ('Used').") == true
            )
            // Nothing was deleted by the refusals; the step still runs.
            _ = try await h.service.retrieve(assembly)
            _ = try await h.service.retrieve(type)
            _ = try await SandboxTests.createContact(h, "Still runs")

            // Without its step, the assembly goes, and its type with it.
            try await h.service.delete(EntityReference(logicalName: "sdkmessageprocessingstep", id: step))
            try await h.service.delete(assembly)
            await #expect(throws: PlatformError.self) { try await h.service.retrieve(type) }
            #expect(try await Self.assemblies(h).map(\.id) == [compiled.id])
        }
    }

    @Test(
        "a sandboxed plug-in type names a function its module exports: a type naming another is refused, and so is new content that drops a function a type names",
        arguments: TestBackend.all
    )
    func typesNameExports(_ backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            let content = { (exports: [String]) in
                Data(
                    SandboxBenchmark.module(run: "(i32.const 0)").replacingOccurrences(
                        of: #"(export "run")"#,
                        with: exports.map { #"(export "\#($0)")"# }.joined(separator: " ")
                    ).utf8
                ).base64EncodedString()
            }
            let assembly = try await h.service.create(
                Entity(
                    logicalName: "pluginassembly",
                    attributes: [("name", .string("Two")), ("content", .string(content(["first", "second"])))]
                )
            )
            let type = { (typeName: String) in
                Entity(
                    logicalName: "plugintype",
                    attributes: [
                        ("name", .string("Two.\(typeName)")), ("typename", .string(typeName)),
                        (
                            "pluginassemblyid",
                            .entityReference(EntityReference(logicalName: "pluginassembly", id: assembly))
                        ),
                    ]
                )
            }
            let second = try await h.service.create(type("second"))
            let refusal = await #expect(throws: PlatformError.self) { try await h.service.create(type("third")) }
            #expect(
                refusal?.message
                    == "The plug-in type 'third' cannot be saved: the plug-in assembly 'Two' exports no function 'third' (it exports 'first', 'second'); a sandboxed plug-in type's typename is the function it runs.",
                "\(String(describing: refusal))"
            )
            var rename = Entity(logicalName: "plugintype", id: second)
            rename.attributes["typename"] = .string("alloc")
            await #expect(throws: PlatformError.self) { try await h.service.update(rename) }

            var change = Entity(logicalName: "pluginassembly", id: assembly)
            change.attributes["content"] = .string(content(["first"]))
            let dropped = await #expect(throws: PlatformError.self) { try await h.service.update(change) }
            #expect(
                dropped?.message
                    == "The plug-in assembly 'Two' cannot be saved: its plug-in types 'second' name functions the new content does not export (it exports 'first'). Export them, or delete those types first.",
                "\(String(describing: dropped))"
            )
            change.attributes["content"] = .string(content(["second", "third"]))
            try await h.service.update(change)
            _ = try await h.service.create(type("third"))
        }
    }
}

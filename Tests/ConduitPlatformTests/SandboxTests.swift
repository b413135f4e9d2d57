import ConduitContext
import ConduitPlatform
import ConduitTestSupport
import Foundation
import Testing

/// Sandboxed plug-ins: WebAssembly modules uploaded as `pluginassembly` rows (isolationmode 2) and run by WasmKit in
/// steps, without a restart, under a fuel budget and a memory cap; whatever a guest does fails its own run only.
@Suite("sandboxed plug-ins (WasmKit)")
struct SandboxTests {
    /// A module with the ABI's `memory` and bump `alloc`, the host functions it imports, data at fixed offsets and
    /// the export `run(context, context_length, configuration, configuration_length) -> i32` with `body`.
    static func module(imports: String = "", data: [(offset: Int, text: String)] = [], body: String) -> String {
        let segments = data.map { segment in
            let escaped = segment.text.replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "\"", with: "\\\"")
            return "(data (i32.const \(segment.offset)) \"\(escaped)\")"
        }
        return """
            (module
              \(imports)
              (memory (export "memory") 4)
              (global $next (mut i32) (i32.const 16384))
              (func (export "alloc") (param $size i32) (result i32)
                (local $p i32)
                (local.set $p (global.get $next))
                (global.set $next (i32.add (global.get $next) (local.get $size)))
                (local.get $p))
              \(segments.joined(separator: "\n  "))
              (func (export "run") (param i32 i32 i32 i32) (result i32)
                \(body))
            )
            """
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
        let wasm = try Self.buildCPlugin()
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
            try await Self.register(h, Self.module(imports: imports, body: body), name: "Bad \(kind)")
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
                try await h.service.retrieveMultiple(QueryExpression(entityName: "pluginassembly")).entities.first
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

import ConduitBus
import ConduitContext
import ConduitPlatform
import Foundation
import NIOHTTP1
import Testing

/// A sandboxed plug-in uploaded to a running `conduit serve` through the Web API, used by a step at once.
@Suite("sandboxed plug-ins on conduit serve")
struct SandboxServeTests {
    /// The documented example (docs/sandbox/post-context.wat): posts the context to the service endpoint whose id
    /// is the step's configuration (`conduit.post`).
    static var poster: String {
        get throws {
            try String(
                contentsOf: AzureSDKConformanceTests.repositoryRoot.appendingPathComponent(
                    "docs/sandbox/post-context.wat"
                ),
                encoding: .utf8
            )
        }
    }

    @Test(
        "a WAT plug-in uploaded through the Web API (pluginassemblies, plugintypes) posts the context of a change to a queue from an asynchronous step"
    )
    func uploadedPluginPostsToQueue() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-sandbox-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try await CrashSafetyTests.Server(dataDirectory: directory)
        defer { server.stop() }
        let bus = ["--connection-string", server.busConnectionString]
        _ = try await EndpointEndToEndTests.cli(["bus", "queue", "create", "sandboxed"] + bus)
        let endpoint = try await CrashSafetyTests.addNamespaceQueueEndpoint(
            server,
            keyFile: directory + "/admin.key",
            queue: "sandboxed"
        )
        try await CrashSafetyTests.withClient { client in
            let content = Data(try Self.poster.utf8).base64EncodedString()
            let assembly = try await CrashSafetyTests.send(
                client,
                server,
                .POST,
                "pluginassemblies?$select=pluginassemblyid",
                #"{"name":"Poster","isolationmode":2,"sourcetype":0,"version":"1.0.0.0","content":"\#(content)"}"#
            )
            #expect(assembly.status == 204 || assembly.status == 201, "\(assembly.body)")
            let assemblyId = try #require(
                try await CrashSafetyTests.send(
                    client,
                    server,
                    .GET,
                    "pluginassemblies?$select=pluginassemblyid,isolationmode&$filter=name%20eq%20'Poster'"
                ).body.firstId
            )
            let type = try await CrashSafetyTests.send(
                client,
                server,
                .POST,
                "plugintypes",
                #"{"name":"Poster.post_context","typename":"post_context","pluginassemblyid@odata.bind":"/pluginassemblies(\#(assemblyId))"}"#
            )
            #expect(type.status == 204, "\(type.body)")
            let typeId = try #require(
                try await CrashSafetyTests.send(
                    client,
                    server,
                    .GET,
                    "plugintypes?$select=plugintypeid&$filter=typename%20eq%20'post_context'"
                ).body.firstId
            )
            let filter = Platform.messageFilterId(message: "Create", table: "contact")
            let step = try await CrashSafetyTests.send(
                client,
                server,
                .POST,
                "sdkmessageprocessingsteps",
                #"{"name":"Sandboxed poster","stage":40,"mode":1,"rank":1,"configuration":"\#(endpoint)","sdkmessageid@odata.bind":"/sdkmessages(\#(Platform.messageId("Create")))","sdkmessagefilterid@odata.bind":"/sdkmessagefilters(\#(filter))","eventhandler_plugintype@odata.bind":"/plugintypes(\#(typeId))"}"#
            )
            #expect(step.status == 204, "\(step.body)")
            let contact = try await EndpointEndToEndTests.createContact(client, server, "Sandboxed")
            let received = try await EndpointEndToEndTests.cli(
                [
                    "listen", "--transport", "rest", "--queue", "sandboxed", "--max-messages", "1", "--wait", "30",
                    "--output", "json",
                ] + bus
            )
            let context = try ContextCodec.decode(Array(received.utf8), format: .json)
            #expect(context.primaryEntityId.description == contact)
            #expect(context.messageName == "Create" && context.primaryEntityName == "contact")
        }
    }

    @Test(
        "conduit plugin upload/list/remove and conduit step add/list/disable/enable/remove: the documented example, registered from the command line, posts each create while its step is enabled; an assembly in use or compiled in is not removed"
    )
    func commandLine() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-plugin-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try await CrashSafetyTests.Server(dataDirectory: directory)
        defer { server.stop() }
        let bus = ["--connection-string", server.busConnectionString]
        let api = ["--url", server.url, "--key-file", directory + "/admin.key"]
        _ = try await EndpointEndToEndTests.cli(["bus", "queue", "create", "from-cli"] + bus)
        let endpoint = try await CrashSafetyTests.addNamespaceQueueEndpoint(
            server,
            keyFile: directory + "/admin.key",
            queue: "from-cli"
        )
        let example = AzureSDKConformanceTests.repositoryRoot.appendingPathComponent("docs/sandbox/post-context.wat")
            .path
        let uploaded = try await EndpointEndToEndTests.cli(
            ["plugin", "upload", "--name", "Poster", "--file", example, "--type", "post_context"] + api
        ).split(separator: "\n")
        #expect(uploaded.count == 2 && uploaded.last?.hasSuffix(" post_context") == true, "\(uploaded)")
        // Uploading again replaces the content and keeps the type.
        let again = try await EndpointEndToEndTests.cli(
            ["plugin", "upload", "--name", "Poster", "--file", example, "--type", "post_context"] + api
        ).split(separator: "\n")
        #expect(again == uploaded)
        // A file that is not a module is refused with the server's reason.
        let bad = directory + "/bad.wat"
        try "(module (func".write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try await CLITests.run(["plugin", "upload", "--name", "Bad", "--file", bad] + api)
        #expect(refused.status != 0 && refused.stderr.contains("does not parse"), "\(refused.stderr)")
        let types = try await EndpointEndToEndTests.cli(["plugin", "list"] + api)
        #expect(types.contains("post_context") && types.contains("sandbox"), "\(types)")
        #expect(types.contains("Conduit") && types.contains("none (compiled in)"), "\(types)")

        let step = try await EndpointEndToEndTests.cli(
            [
                "step", "add", "--message", "Create", "--table", "contact", "--plugin-type", "post_context",
                "--configuration", endpoint, "--name", "Poster from the CLI",
            ] + api
        ).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(UUID(uuidString: step) != nil, "\(step)")
        let listed = try await EndpointEndToEndTests.cli(["step", "list"] + api)
        #expect(
            listed.contains(step) && listed.contains("Poster from the CLI") && listed.contains("Create"),
            "\(listed)"
        )
        let listen = ["listen", "--transport", "rest", "--queue", "from-cli", "--output", "json"] + bus
        try await CrashSafetyTests.withClient { client in
            let first = try await EndpointEndToEndTests.createContact(client, server, "Enabled")
            let received = try await EndpointEndToEndTests.cli(
                listen + ["--max-messages", "1", "--wait", "30", "--until-idle"]
            )
            #expect(try ContextCodec.decode(Array(received.utf8), format: .json).primaryEntityId.description == first)
            #expect(
                try await EndpointEndToEndTests.cli(["step", "disable", "Poster from the CLI"] + api).contains(
                    "Disabled"
                )
            )
            _ = try await EndpointEndToEndTests.createContact(client, server, "Disabled")
            #expect(try await EndpointEndToEndTests.cli(listen + ["--wait", "3", "--until-idle"]).isEmpty)
            #expect(try await EndpointEndToEndTests.cli(["step", "enable", step] + api).contains("Enabled"))
            let third = try await EndpointEndToEndTests.createContact(client, server, "Again")
            let later = try await EndpointEndToEndTests.cli(
                listen + ["--max-messages", "1", "--wait", "30", "--until-idle"]
            )
            #expect(try ContextCodec.decode(Array(later.utf8), format: .json).primaryEntityId.description == third)
        }
        // The assembly cannot go while its step is there; the server names the step.
        let inUse = try await CLITests.run(["plugin", "remove", "Poster"] + api)
        #expect(
            inUse.status != 0 && inUse.stderr.contains("a step uses its plug-in types ('Poster from the CLI')"),
            "\(inUse.stderr)"
        )
        #expect(try await EndpointEndToEndTests.cli(["step", "remove", step] + api).contains("Deleted step"))
        #expect(!(try await EndpointEndToEndTests.cli(["step", "list"] + api)).contains(step))
        #expect(try await EndpointEndToEndTests.cli(["plugin", "remove", "Poster"] + api).contains("Deleted"))
        #expect(!(try await EndpointEndToEndTests.cli(["plugin", "list"] + api)).contains("post_context"))
        let compiled = try await CLITests.run(["plugin", "remove", "Conduit"] + api)
        #expect(compiled.status != 0 && compiled.stderr.contains("compiled into the server"), "\(compiled.stderr)")
        // Bad arguments are named.
        let both = try await CLITests.run(
            ["step", "add", "--message", "Create", "--table", "contact", "--endpoint", endpoint, "--plugin-type", "x"]
                + api
        )
        #expect(both.status != 0 && both.stderr.contains("Give one handler"), "\(both.stderr)")
        let early = try await CLITests.run(
            ["step", "add", "--message", "Create", "--table", "contact", "--endpoint", endpoint, "--stage", "20"] + api
        )
        #expect(early.status != 0 && early.stderr.contains("use --stage 40"), "\(early.stderr)")
    }

    @Test(
        "on conduit serve, guests that loop forever, trap or grow memory without bound fail their own request with the reason, one importing what the sandbox lacks is refused at upload, and the server goes on serving"
    )
    func hostileGuests() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-hostile-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try await CrashSafetyTests.Server(
            dataDirectory: directory,
            environment: ["CONDUIT_SANDBOX_FUEL": "5000000", "CONDUIT_SANDBOX_MEMORY_MB": "16"]
        )
        defer { server.stop() }
        let api = ["--url", server.url, "--key-file", directory + "/admin.key"]
        let guests = [
            ("loop", "(loop $forever (br $forever)) (i32.const 0)", "whole execution budget (5000000 fuel"),
            ("trap", "unreachable", "trapped"),
            (
                "memory", "(loop $grow (br_if $grow (i32.ne (memory.grow (i32.const 1)) (i32.const -1)))) unreachable",
                "beyond the sandbox's cap of 16 MB"
            ),
        ]
        try await CrashSafetyTests.withClient { client in
            for (name, body, expected) in guests {
                let file = directory + "/\(name).wat"
                try SandboxBenchmark.module(run: body).write(toFile: file, atomically: true, encoding: .utf8)
                let uploaded = try await EndpointEndToEndTests.cli(
                    ["plugin", "upload", "--name", name, "--file", file, "--type", "run"] + api
                ).split(separator: "\n")
                let type = try #require(uploaded.last?.split(separator: " ").first.map(String.init), "\(uploaded)")
                let step = try await EndpointEndToEndTests.cli(
                    [
                        "step", "add", "--message", "Create", "--table", "contact", "--plugin-type", type, "--stage",
                        "20",
                        "--mode", "sync",
                    ] + api
                ).trimmingCharacters(in: .whitespacesAndNewlines)
                let refused = try await CrashSafetyTests.send(
                    client,
                    server,
                    .POST,
                    "contacts",
                    #"{"lastname":"\#(name)"}"#
                )
                #expect(refused.status == 400, "\(name): \(refused.body)")
                #expect(refused.body.contains(expected), "\(name): \(refused.body)")
                _ = try await EndpointEndToEndTests.cli(["step", "remove", step] + api)
            }
            let foreign = directory + "/foreign.wat"
            try SandboxBenchmark.module(
                imports: #"(import "env" "open" (func $open (param i32)))"#,
                run: "(i32.const 0)"
            ).write(toFile: foreign, atomically: true, encoding: .utf8)
            let refused = try await CLITests.run(["plugin", "upload", "--name", "foreign", "--file", foreign] + api)
            #expect(
                refused.status != 0 && refused.stderr.contains("imports env.open, which the sandbox does not provide")
            )
            // The server goes on: a create commits, the health check answers.
            let created = try await CrashSafetyTests.send(client, server, .POST, "contacts", #"{"lastname":"Fine"}"#)
            #expect(created.status == 204, "\(created.body)")
            let base = server.url.replacingOccurrences(of: "/api/data/v9.2/", with: "")
            #expect(try await ObservabilityTests.get(client, base + "/health").body == "ok")
        }
    }
}

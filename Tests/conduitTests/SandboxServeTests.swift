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
        let server = try CrashSafetyTests.Server(dataDirectory: directory)
        defer { server.stop() }
        let bus = ["--connection-string", server.busConnectionString]
        _ = try EndpointEndToEndTests.cli(["bus", "queue", "create", "sandboxed"] + bus)
        let endpoint = try CrashSafetyTests.addNamespaceQueueEndpoint(
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
            let received = try EndpointEndToEndTests.cli(
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
}

import AsyncHTTPClient
import ConduitPlatform
import Foundation
import NIOHTTP1
import NIOSSL

extension CrashSafetyTests {
    /// Runs `body` with an HTTP client, shut down afterwards whatever happens; over HTTPS it trusts the certificate
    /// authorities of `caFile` (PEM).
    static func withClient<T>(caFile: String? = nil, _ body: (HTTPClient) async throws -> T) async throws -> T {
        var configuration = HTTPClient.Configuration()
        if let caFile {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            configuration.tlsConfiguration = tls
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let value = try await body(client)
            try await client.shutdown()
            return value
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Registers, through the Web API, a plug-in type and an asynchronous step on Create of contact handled by it.
    /// Returns the step's HTTP status (204 when registered).
    static func registerAsyncStep(
        _ client: HTTPClient,
        _ server: Server,
        typeName: String,
        name: String,
        configuration: String? = nil
    ) async throws -> UInt {
        _ = try await send(client, server, .POST, "plugintypes", #"{"name":"\#(typeName)","typename":"\#(typeName)"}"#)
        let types = try await send(
            client,
            server,
            .GET,
            "plugintypes?$filter=typename%20eq%20'\(typeName)'&$select=plugintypeid"
        )
        let typeId =
            ((try JSONSerialization.jsonObject(with: Data(types.body.utf8)) as? [String: Any])?["value"]
            as? [[String: Any]])?.first?["plugintypeid"] as? String ?? ""
        let filter = Platform.messageFilterId(message: "Create", table: "contact")
        let configured = configuration.map { #","configuration":"\#($0)""# } ?? ""
        return try await send(
            client,
            server,
            .POST,
            "sdkmessageprocessingsteps",
            #"{"name":"\#(name)","stage":40,"mode":1,"rank":1\#(configured),"sdkmessageid@odata.bind":"/sdkmessages(\#(Platform.messageId("Create")))","sdkmessagefilterid@odata.bind":"/sdkmessagefilters(\#(filter))","eventhandler_plugintype@odata.bind":"/plugintypes(\#(typeId))"}"#
        ).status
    }

    /// The Waiting system jobs (`statuscode` 10) with their messages, as the Web API lists them, once one of them
    /// says `text` (polled for up to 30 s; then the last list, for the test to report).
    static func waitingJobs(_ client: HTTPClient, _ server: Server, saying text: String) async throws -> String {
        var waiting = ""
        for _ in 0..<300 {
            waiting = try await send(
                client,
                server,
                .GET,
                "asyncoperations?$select=statuscode,message&$filter=statuscode%20eq%2010"
            ).body
            if waiting.contains(text) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return waiting
    }

    /// Registers a queue endpoint addressed by the embedded namespace's name (`sb://localhost/`, no port), with the
    /// root rule's key: any node on the same data posts to it, whatever its port (a restarted server, a second node).
    /// Returns the endpoint's id.
    static func addNamespaceQueueEndpoint(_ server: Server, keyFile: String, queue: String) async throws -> String {
        let keyPart = server.busConnectionString.split(separator: ";").first { $0.hasPrefix("SharedAccessKey=") }
        let key = keyPart.map { String($0.dropFirst("SharedAccessKey=".count)) } ?? ""
        return try await EndpointEndToEndTests.cli([
            "endpoint", "add", "--name", queue, "--contract", "queue", "--format", "json", "--path", queue,
            "--namespace-address", "sb://localhost/", "--sas-key-name", "RootManageSharedAccessKey", "--sas-key", key,
            "--url", server.url, "--key-file", keyFile,
        ]).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

extension String {
    /// The first GUID in this text (a Web API answer), lower case as the Web API writes them; `nil` when none.
    var firstId: String? {
        firstMatch(of: /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/).map { String($0.output) }
    }
}

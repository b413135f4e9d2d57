import AsyncHTTPClient
import ConduitContext
import ConduitEndpoints
import ConduitPlatform
import ConduitTestSupport
import Foundation
import NIOHTTP1
import Testing

/// Posts to a remote namespace over HTTPS verify its certificate: against the CA given with `--remote-ca`, or
/// the system's trust store, and never fall back to plain text.
@Suite("remote namespaces over TLS", .serialized)
struct RemoteTLSTests {
    static func endpoint(port: Int) -> [(String, ContextValue)] {
        [
            ("name", .string("remote over TLS")), ("contract", .optionSetValue(OptionSetValue(6))),
            ("authtype", .optionSetValue(OptionSetValue(2))), ("messageformat", .optionSetValue(OptionSetValue(2))),
            ("namespaceaddress", .string("https://127.0.0.1:\(port)/")), ("path", .string("inbox")),
            ("saskeyname", .string("send")), ("saskey", .string("c2VjcmV0")),
        ]
    }

    static func post(_ h: EndpointHarness, _ endpoint: Guid) async throws {
        var context = RemoteExecutionContext()
        context.messageName = "Update"
        context.primaryEntityName = "contact"
        _ = try await h.notifications.execute(
            EntityReference(logicalName: "serviceendpoint", id: endpoint),
            context: context,
            transaction: nil,
            messageId: "tls-test",
            traceparent: nil
        )
    }

    @Test("With the remote's CA the post succeeds over TLS; with the system's trust store it is refused, with a reason")
    func certificateVerification() async throws {
        let certificates = try await offPool { try TestCertificates.make() }
        defer { certificates.remove() }
        let server = try await TestHTTPServer(certificates: certificates)
        let trusting = try ServiceEndpoints.makeHTTPClient(remoteCAFile: certificates.caFile)
        let untrusting = try ServiceEndpoints.makeHTTPClient()
        do {
            try await EndpointHarness.run(.sqliteMemory, httpClient: trusting) { h in
                let endpoint = try await h.createEndpoint(Self.endpoint(port: server.port))
                try await Self.post(h, endpoint)
            }
            let head = try #require(server.requests.first)
            #expect(head.method == .POST && head.uri.hasPrefix("/inbox/messages"))
            #expect(head.headers.first(name: "Content-Type") == "application/vnd.microsoft.servicebus.json")
            #expect(head.headers.first(name: "Authorization")?.hasPrefix("SharedAccessSignature ") == true)

            try await EndpointHarness.run(.sqliteMemory, httpClient: untrusting) { h in
                let endpoint = try await h.createEndpoint(Self.endpoint(port: server.port))
                let error = await #expect(throws: ExternalServiceError.self) { try await Self.post(h, endpoint) }
                #expect(
                    error?.message.contains("presented a TLS certificate this server does not trust") == true,
                    "\(error?.message ?? "")"
                )
                #expect(error?.friendlyMessage?.contains("--remote-ca") == true)
            }
            #expect(server.requests.count == 1, "nothing reached the server without a trusted certificate")
            let unreadable = #expect(throws: PlatformError.self) {
                _ = try ServiceEndpoints.makeHTTPClient(remoteCAFile: certificates.keyFile + ".missing")
            }
            #expect(unreadable?.message.contains("cannot be read as PEM certificates") == true)
        } catch {
            try? await trusting.shutdown()
            try? await untrusting.shutdown()
            await server.stop()
            throw error
        }
        try await trusting.shutdown()
        try await untrusting.shutdown()
        await server.stop()
    }
}

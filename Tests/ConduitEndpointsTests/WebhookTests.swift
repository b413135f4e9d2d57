import ConduitContext
import ConduitEndpoints
import ConduitPlatform
import ConduitTestSupport
import Foundation
import NIOHTTP1
import Testing

/// Webhooks (contract 8) against a local HTTP server: the request Dataverse sends (headers, JSON context, the three
/// authorizations), which answers count, how synchronous and asynchronous steps handle failures, and the 256 KB rule.
@Suite("Webhooks (contract 8)")
struct WebhookTests {
    /// A webhook endpoint's columns for `server`.
    static func webhook(
        _ server: TestHTTPServer,
        path: String = "/api/hook?tenant=contoso",
        authType: Int32 = 4,
        authValue: String = "k3y/+=&"
    ) -> [(String, ContextValue)] {
        [
            ("name", .string("hook")), ("contract", .optionSetValue(OptionSetValue(8))),
            ("authtype", .optionSetValue(OptionSetValue(authType))),
            ("url", .string("http://127.0.0.1:\(server.port)\(path)")), ("authvalue", .string(authValue)),
            ("userclaim", .optionSetValue(OptionSetValue(1))), ("connectionmode", .optionSetValue(OptionSetValue(1))),
        ]
    }

    /// Runs `body` with a webhook server answering as `answer` says, stopped afterwards.
    static func withServer<T: Sendable>(
        answer: @escaping TestHTTPServer.Answering = { _, _ in .init(status: .ok) },
        _ body: @Sendable (TestHTTPServer) async throws -> T
    ) async throws -> T {
        let server = try await TestHTTPServer(answer: answer)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    static func status(_ job: Entity?) -> Int32? { job?.attributes["statuscode"]?.optionValue }

    @Test(
        "An async step POSTs the JSON context with Dataverse's headers and the endpoint's authorization",
        arguments: [Int32(4), 5, 6]
    )
    func asyncPost(authType: Int32) async throws {
        let authValue =
            authType == 4
            ? "k3y/+=&"
            : "<settings><setting name='x-api-key' value='s3cret'/><setting name='x-b' value='two words'/></settings>"
        try await Self.withServer { server in
            try await EndpointHarness.run(.sqliteFile) { h in
                let endpoint = try await h.createEndpoint(
                    Self.webhook(server, authType: authType, authValue: authValue)
                )
                try await h.registerEndpointStep(endpoint, images: [StepImage(type: 0, alias: "before")])
                let contact = try await h.createContact("Ada", "Byron")
                try await h.withAsyncService {
                    try await h.updateContact(contact, [("lastname", .string("Lovelace"))])
                    let jobs = try await h.completedJobs()
                    #expect(Self.status(jobs.first) == 30)
                }
                let request = try #require(server.received.first)
                #expect(server.received.count == 1)
                let head = request.head
                #expect(head.method == .POST)
                let headers = head.headers
                #expect(headers.first(name: "Content-Type") == "application/json")
                #expect(headers.first(name: "x-ms-dynamics-organization") == "conduit.test")
                #expect(headers.first(name: "x-ms-dynamics-entity-name") == "contact")
                #expect(headers.first(name: "x-ms-dynamics-request-name") == "Update")
                #expect(headers.first(name: "x-ms-dynamics-msg-size-exceeded") == nil)
                let context = try ContextCodec.decode(request.body, format: .json)
                #expect(headers.first(name: "x-ms-correlation-request-id") == context.correlationId.description)
                #expect(context.messageName == "Update" && context.primaryEntityId == contact)
                #expect(context.preEntityImages["before"]?.attributes["lastname"] == .string("Byron"))
                switch authType {
                case 4:
                    #expect(head.uri == "/api/hook?tenant=contoso&code=k3y%2F%2B%3D%26")
                case 5:
                    #expect(head.uri == "/api/hook?tenant=contoso")
                    #expect(headers.first(name: "x-api-key") == "s3cret" && headers.first(name: "x-b") == "two words")
                default:
                    #expect(head.uri == "/api/hook?tenant=contoso&x-api-key=s3cret&x-b=two%20words")
                    #expect(headers.first(name: "x-api-key") == nil)
                }
            }
        }
    }

    @Test("An async step's job waits after a 4xx, a 5xx or no answer in time, and succeeds once a 2xx comes")
    func asyncFailuresRetry() async throws {
        // 404, then 500, then too slow (the post timeout is 1 s; the answer would come after 20), then 202.
        try await Self.withServer(answer: { index, _ in
            switch index {
            case 0: .init(status: .notFound, body: "no such function")
            case 1: .init(status: .internalServerError)
            case 2: .init(status: .ok, delay: .seconds(20))
            default: .init(status: .accepted)
            }
        }) { server in
            try await EndpointHarness.run(.sqliteFile, postTimeout: .seconds(1)) { h in
                let endpoint = try await h.createEndpoint(Self.webhook(server))
                try await h.registerEndpointStep(endpoint, message: "Create")
                // Each Waiting state lasts 500 ms, long enough to be seen on a loaded machine.
                try await h.withAsyncService(retryPolicy: EndpointHarness.retryEvery(.milliseconds(500))) {
                    _ = try await h.createContact("Wait", "ForIt")
                    var messages: Set<String> = []
                    var job: Entity?
                    for _ in 0..<400 {
                        job = try await h.jobs().first
                        if case .string(let message)? = job?.attributes["message"] { messages.insert(message) }
                        if Self.status(job) == 30 { break }
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    #expect(Self.status(job) == 30, "succeeded after the 2xx")
                    #expect(
                        messages.contains { $0.contains("answered 404 Not Found: no such function") },
                        "\(messages)"
                    )
                    #expect(messages.contains { $0.contains("answered 500") }, "\(messages)")
                    #expect(messages.contains { $0.contains("did not answer within 1 s") }, "\(messages)")
                    #expect(!messages.contains { $0.contains("k3y") }, "the key never shows in a job's message")
                }
                #expect(server.received.count == 4)
            }
        }
    }

    @Test("A sync step tries a 502/503/504 once more; any other failure, or a second one, rolls the change back")
    func syncFailures() async throws {
        // Per request, in order: 503 then 200 (succeeds); 504 then 502 (fails); 500 (fails at once).
        let answers: [HTTPResponseStatus] = [
            .serviceUnavailable, .ok, .gatewayTimeout, .badGateway, .internalServerError,
        ]
        try await Self.withServer(answer: { index, _ in .init(status: answers[min(index, answers.count - 1)]) }) {
            server in
            try await EndpointHarness.run(.sqliteFile) { h in
                let endpoint = try await h.createEndpoint(Self.webhook(server))
                try await h.registerEndpointStep(endpoint, mode: 0)
                let contact = try await h.createContact("Ada", "Byron")
                try await h.updateContact(contact, [("lastname", .string("Lovelace"))])
                #expect(server.received.count == 2, "the 503 was tried once more")

                let gateway = await #expect(throws: PlatformError.self) {
                    try await h.updateContact(contact, [("lastname", .string("King"))])
                }
                #expect(gateway?.message.contains("answered 502") == true, "\(gateway?.message ?? "")")
                #expect(server.received.count == 4)

                let failed = await #expect(throws: PlatformError.self) {
                    try await h.updateContact(contact, [("lastname", .string("Noel"))])
                }
                #expect(failed?.message.contains("answered 500") == true, "\(failed?.message ?? "")")
                #expect(server.received.count == 5, "a 500 is not tried again")
                let row = try await h.service.retrieve(EntityReference(logicalName: "contact", id: contact))
                #expect(row.attributes["lastname"] == .string("Lovelace"), "both failed updates were rolled back")
            }
        }
    }

    @Test(
        "Above 256 KB the context loses its parameters and images, and the request says so; still above, nothing is sent"
    )
    func sizeRule() async throws {
        try await Self.withServer { server in
            try await EndpointHarness.run(.sqliteMemory) { h in
                let endpoint = EntityReference(
                    logicalName: "serviceendpoint",
                    id: try await h.createEndpoint(Self.webhook(server))
                )
                let post: @Sendable (RemoteExecutionContext) async throws -> Void = { context in
                    _ = try await h.notifications.execute(
                        endpoint,
                        context: context,
                        transaction: nil,
                        messageId: nil,
                        traceparent: nil
                    )
                }
                var context = RemoteExecutionContext()
                context.messageName = "Custom"
                context.primaryEntityName = "contact"
                context.inputParameters["Big"] = .string(String(repeating: "x", count: 300_000))
                try await post(context)
                let request = try #require(server.received.first)
                #expect(request.head.headers.first(name: "x-ms-dynamics-msg-size-exceeded") == "true")
                #expect(request.body.count <= 256 * 1024)
                let sent = try ContextCodec.decode(request.body, format: .json)
                #expect(sent.inputParameters.isEmpty && sent.messageName == "Custom")

                // Shared variables stay: a context still too big is not sent.
                context.inputParameters = ParameterCollection()
                context.sharedVariables["Big"] = .string(String(repeating: "y", count: 300_000))
                let tooBig = context
                let error = await #expect(throws: PlatformError.self) { try await post(tooBig) }
                #expect(error?.message.contains("was not sent") == true, "\(error?.message ?? "")")
                #expect(server.received.count == 1)
            }
        }
    }

    @Test("Registration refuses bad URLs, other authtypes and malformed settings, saying why")
    func registrationRefusals() async throws {
        try await Self.withServer { server in
            try await EndpointHarness.run(.sqliteMemory) { h in
                func refusal(_ change: (inout [(String, ContextValue)]) -> Void) async -> String {
                    var columns = Self.webhook(server)
                    change(&columns)
                    let error = await #expect(throws: PlatformError.self) { _ = try await h.createEndpoint(columns) }
                    return error?.message ?? ""
                }
                func set(_ name: String, _ value: ContextValue) -> (inout [(String, ContextValue)]) -> Void {
                    { columns in
                        columns.removeAll { $0.0 == name }
                        columns.append((name, value))
                    }
                }
                #expect(
                    await refusal(set("url", .string("ftp://127.0.0.1/hook"))).contains("is not http:// or https://")
                )
                #expect(await refusal(set("url", .string("http:///hook"))).contains("has no host"))
                #expect(await refusal(set("url", .string("not a url"))).contains("not"))
                #expect(await refusal { $0.removeAll { $0.0 == "url" } }.contains("a webhook needs a url"))
                #expect(
                    await refusal(set("authtype", .optionSetValue(OptionSetValue(2)))).contains("is not for webhooks")
                )
                #expect(
                    await refusal { $0.removeAll { $0.0 == "authvalue" } }.contains(
                        "authtype 4 (WebhookKey) needs the key"
                    )
                )
                let header: (inout [(String, ContextValue)]) -> Void = { columns in
                    set("authtype", .optionSetValue(OptionSetValue(5)))(&columns)
                    set("authvalue", .string("x-api-key: s3cret"))(&columns)
                }
                #expect(await refusal(header).contains("'settings' node is expected for authValue"))
                let empty: (inout [(String, ContextValue)]) -> Void = { columns in
                    set("authtype", .optionSetValue(OptionSetValue(6)))(&columns)
                    set("authvalue", .string("<settings></settings>"))(&columns)
                }
                #expect(await refusal(empty).contains("Atleast one 'setting' node is expected"))
                let invalid: (inout [(String, ContextValue)]) -> Void = { columns in
                    set("authtype", .optionSetValue(OptionSetValue(5)))(&columns)
                    set("authvalue", .string("<settings><setting name='a'/></settings>"))(&columns)
                }
                #expect(await refusal(invalid).contains("Invalid 'setting' node found in authValue"))
                #expect(server.received.isEmpty)
            }
        }
    }
}

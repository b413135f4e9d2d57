import AsyncHTTPClient
import ConduitBus
import ConduitContext
import ConduitPlatform
import ConduitTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// Service endpoints end to end, as a user runs them: `conduit serve`, `conduit bus`, `conduit endpoint`, a step
/// registered through the Web API, an Update through the Web API, and `conduit listen` or raw REST calls receiving.
@Suite("service endpoints end to end", .serialized)
struct EndpointEndToEndTests {
    static let entityClaim = "http://schemas.microsoft.com/xrm/2011/Claims/EntityLogicalName"

    /// A SAS token of the connection string's rule for an entity of the embedded bus.
    static func token(_ connection: ConnectionString, _ entity: String) -> String {
        SASToken.make(
            resource: "sb://127.0.0.1/\(entity)",
            keyName: connection.keyName ?? "",
            key: connection.key ?? "",
            expiry: Int64(Date().timeIntervalSince1970) + 600
        ).headerValue
    }

    static func cli(_ arguments: [String]) async throws -> String {
        let run = try await CLITests.run(arguments)
        if run.status != 0 {
            Issue.record("conduit \(arguments.prefix(3).joined(separator: " ")) failed: \(run.stderr)")
        }
        return String(decoding: run.stdout, as: UTF8.self)
    }

    /// Registers an asynchronous step on `message` of contact whose handler is the endpoint, with a pre-image.
    static func registerStep(
        _ client: HTTPClient,
        _ server: CrashSafetyTests.Server,
        endpoint: String,
        message: String = "Update",
        filtering: String? = "lastname"
    ) async throws {
        let filter = Platform.messageFilterId(message: message, table: "contact")
        let filtering = filtering.map { #","filteringattributes":"\#($0)""# } ?? ""
        let step = try await CrashSafetyTests.send(
            client,
            server,
            .POST,
            "sdkmessageprocessingsteps",
            #"{"name":"ServiceBusPlugin \#(endpoint)","stage":40,"mode":1,"rank":1\#(filtering),"sdkmessageid@odata.bind":"/sdkmessages(\#(Platform.messageId(message)))","sdkmessagefilterid@odata.bind":"/sdkmessagefilters(\#(filter))","eventhandler_serviceendpoint@odata.bind":"/serviceendpoints(\#(endpoint))"}"#
        )
        #expect(step.status == 204, "\(step.body)")
        guard message == "Update" else { return }
        let id = try #require(
            try await CrashSafetyTests.send(
                client,
                server,
                .GET,
                "sdkmessageprocessingsteps?$select=sdkmessageprocessingstepid&$filter=name%20eq%20'ServiceBusPlugin%20\(endpoint)'"
            )
            .body.firstId
        )
        let image = try await CrashSafetyTests.send(
            client,
            server,
            .POST,
            "sdkmessageprocessingstepimages",
            #"{"name":"before","entityalias":"before","imagetype":0,"messagepropertyname":"Target","attributes":"lastname","sdkmessageprocessingstepid@odata.bind":"/sdkmessageprocessingsteps(\#(id))"}"#
        )
        #expect(image.status == 204, "\(image.body)")
    }

    /// Registers on `server` a queue endpoint `remote-inbox` for the queue `inbox` of the namespace at `address`
    /// (its root rule's `key`), and an asynchronous step posting each Create of contact to it.
    static func postCreatesToRemoteInbox(
        _ client: HTTPClient,
        _ server: CrashSafetyTests.Server,
        address: String,
        key: String,
        api: [String]
    ) async throws {
        let endpoint = try await cli(
            [
                "endpoint", "add", "--name", "remote-inbox", "--contract", "queue", "--format", "json",
                "--namespace-address", address, "--path", "inbox", "--sas-key-name", "RootManageSharedAccessKey",
                "--sas-key", key,
            ] + api
        ).trimmingCharacters(in: .whitespacesAndNewlines)
        try await registerStep(client, server, endpoint: endpoint, message: "Create", filtering: nil)
    }

    static func createContact(
        _ client: HTTPClient,
        _ server: CrashSafetyTests.Server,
        _ last: String
    ) async throws
        -> String
    {
        let created = try await CrashSafetyTests.send(
            client,
            server,
            .POST,
            "contacts?$select=contactid",
            #"{"firstname":"Ada","lastname":"\#(last)"}"#
        )
        #expect(created.status == 204)
        let listed = try await CrashSafetyTests.send(
            client,
            server,
            .GET,
            "contacts?$select=contactid&$filter=lastname%20eq%20'\(last)'"
        )
        return try #require(
            listed.body.firstId
        )
    }

    /// Sets a contact's last name through the Web API (an Update).
    static func renameContact(
        _ client: HTTPClient,
        _ server: CrashSafetyTests.Server,
        _ contact: String,
        to last: String
    ) async throws {
        let updated = try await CrashSafetyTests.send(
            client,
            server,
            .PATCH,
            "contacts(\(contact))",
            #"{"lastname":"\#(last)"}"#
        )
        #expect(updated.status == 204, "\(updated.body)")
    }

    @Test(
        "queue (binary, JSON, XML) and topic endpoints on the embedded bus, received with conduit listen and raw REST"
    )
    func embedded() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-e2e-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try await CrashSafetyTests.Server(dataDirectory: directory)
        defer { server.stop() }
        let api = ["--url", server.url, "--key-file", directory + "/admin.key"]
        let bus = ["--connection-string", server.busConnectionString]
        // conduit listen goes over AMQP by default, with the AMQP port's connection string.
        let amqp = ["--connection-string", server.amqpConnectionString]
        try await CrashSafetyTests.withClient { client in
            var endpoints: [String: String] = [:]
            for format in ["binary", "json", "xml"] {
                _ = try await Self.cli(
                    ["bus", "queue", "create", "contacts-\(format)", "--duplicate-detection", "600"] + bus
                )
                let id = try await Self.cli(
                    [
                        "endpoint", "add", "--name", "contacts-\(format)", "--contract", "queue", "--format", format,
                        "--path", "contacts-\(format)",
                    ]
                        + bus + api
                ).trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(UUID(uuidString: id) != nil, "endpoint add printed '\(id)'")
                endpoints[format] = id
                try await Self.registerStep(client, server, endpoint: id)
            }
            _ = try await Self.cli(["bus", "topic", "create", "changes"] + bus)
            for table in ["contact", "account"] {
                _ = try await Self.cli(
                    [
                        "bus", "subscription", "create", "changes", table + "s", "--sql",
                        "\"\(Self.entityClaim)\" = '\(table)'",
                    ]
                        + bus
                )
            }
            let topicEndpoint = try await Self.cli(
                [
                    "endpoint", "add", "--name", "changes", "--contract", "topic", "--format", "json", "--path",
                    "changes",
                ] + bus
                    + api
            ).trimmingCharacters(in: .whitespacesAndNewlines)
            try await Self.registerStep(client, server, endpoint: topicEndpoint)
            _ = try await Self.cli(["bus", "eventhub", "create", "changes-hub", "--partitions", "2"] + bus)
            let hubEndpoint = try await Self.cli(
                [
                    "endpoint", "add", "--name", "changes-hub", "--contract", "eventhub", "--format", "xml", "--path",
                    "changes-hub",
                ]
                    + bus + api
            ).trimmingCharacters(in: .whitespacesAndNewlines)
            try await Self.registerStep(client, server, endpoint: hubEndpoint)
            // The other contract × format pairs: topics in binary and XML, an event hub in JSON.
            var others: [(listen: [String], format: String)] = []
            for format in ["binary", "xml"] {
                _ = try await Self.cli(["bus", "topic", "create", "topic-\(format)"] + bus)
                _ = try await Self.cli(
                    [
                        "bus", "subscription", "create", "topic-\(format)", "contacts", "--sql",
                        "\"\(Self.entityClaim)\" = 'contact'",
                    ]
                        + bus
                )
                others.append((["--topic", "topic-\(format)", "--subscription", "contacts"], format))
            }
            _ = try await Self.cli(["bus", "eventhub", "create", "hub-json", "--partitions", "3"] + bus)
            others.append((["--eventhub", "hub-json"], "json"))
            for (index, other) in others.enumerated() {
                let contract = other.listen.first == "--eventhub" ? "eventhub" : "topic"
                let path = other.listen[1]
                let id = try await Self.cli(
                    [
                        "endpoint", "add", "--name", "other-\(index)", "--contract", contract, "--format", other.format,
                        "--path", path,
                    ]
                        + bus + api
                ).trimmingCharacters(in: .whitespacesAndNewlines)
                try await Self.registerStep(client, server, endpoint: id)
            }

            let contact = try await Self.createContact(client, server, "Byron")
            try await Self.renameContact(client, server, contact, to: "Lovelace")

            // conduit listen, each format, each output.
            let json = try await Self.cli(
                ["listen", "--queue", "contacts-json", "--max-messages", "1", "--output", "json"] + amqp
            )
            let context = try ContextCodec.decode(Array(json.utf8), format: .json)
            #expect(context.messageName == "Update" && context.primaryEntityName == "contact")
            #expect(context.primaryEntityId.description == contact)
            guard case .entity(let target)? = context.inputParameters["Target"] else {
                Issue.record("no Target in \(json.prefix(200))")
                return
            }
            #expect(target.attributes["lastname"] == .string("Lovelace"))
            #expect(context.preEntityImages["before"]?.attributes["lastname"] == .string("Byron"))
            let xml = try await Self.cli(
                ["listen", "--queue", "contacts-xml", "--max-messages", "1", "--output", "xml"] + amqp
            )
            #expect(try ContextCodec.decode(Array(xml.utf8), format: .xml).primaryEntityId.description == contact)
            let summary = try await Self.cli(["listen", "--queue", "contacts-binary", "--max-messages", "1"] + amqp)
            #expect(summary.contains("Update contact \(contact)") && summary.contains("[binary,"))
            let idle = try await Self.cli(["listen", "--queue", "contacts-json", "--wait", "1", "--until-idle"] + amqp)
            #expect(idle.isEmpty, "exactly one message per update: \(idle)")
            // The HTTP port's connection string given to an AMQP listen: the error says what to use.
            let wrongPort = try await CLITests.run(["listen", "--queue", "contacts-json", "--wait", "1"] + bus)
            #expect(wrongPort.status != 0 && wrongPort.stderr.contains("is it the HTTP port?"), "\(wrongPort.stderr)")

            // Raw REST on the topic's subscriptions: the Claims properties routed it.
            let connection = try ConnectionString(parsing: server.busConnectionString)
            func receive(_ entity: String) async throws -> (status: UInt, body: String, type: String?) {
                var request = HTTPClientRequest(
                    url: "http://127.0.0.1:\(server.port)/\(entity)/messages/head?timeout=5"
                )
                request.method = .DELETE
                request.headers.add(
                    name: "Authorization",
                    value: Self.token(connection, entity)
                )
                let response = try await client.execute(request, timeout: .seconds(30))
                let body = try await response.body.collect(upTo: 1 << 20)
                return (response.status.code, String(buffer: body), response.headers.first(name: "Content-Type"))
            }
            let routed = try await receive("changes/subscriptions/contacts")
            #expect(routed.status == 200 && routed.type == "application/json")
            #expect(
                try ContextCodec.decode(Array(routed.body.utf8), format: .json).primaryEntityId.description == contact
            )
            let notRouted = try await receive("changes/subscriptions/accounts")
            #expect(notRouted.status == 204)

            for other in others {
                let printed = try await Self.cli(
                    ["listen"] + other.listen + ["--max-messages", "1", "--output", "json"] + amqp
                )
                let received = try ContextCodec.decode(Array(printed.utf8), format: .json)
                #expect(received.primaryEntityId.description == contact, "\(other.listen) \(other.format)")
                guard case .entity(let changed)? = received.inputParameters["Target"] else {
                    Issue.record("no Target from \(other.listen)")
                    continue
                }
                #expect(changed.attributes["lastname"] == .string("Lovelace"))
                #expect(received.preEntityImages["before"]?.attributes["lastname"] == .string("Byron"))
            }

            // The event hub: conduit listen reads its partitions (over AMQP and over REST: events stay in the hub);
            // raw REST reads the partition of the row's id.
            for transport in [amqp, ["--transport", "rest"] + bus] {
                let hubXML = try await Self.cli(
                    ["listen", "--eventhub", "changes-hub", "--max-messages", "1", "--output", "xml"] + transport
                )
                let decoded = try ContextCodec.decode(Array(hubXML.utf8), format: .xml)
                #expect(decoded.primaryEntityId.description == contact, "\(transport)")
            }
            let partition = EventHubStore.partition(forKey: contact, count: 2)
            var read = HTTPClientRequest(
                url:
                    "http://127.0.0.1:\(server.port)/changes-hub/consumergroups/$Default/partitions/\(partition)/messages?from=0"
            )
            read.headers.add(
                name: "Authorization",
                value: Self.token(connection, "changes-hub")
            )
            let events = try await client.execute(read, timeout: .seconds(30))
            let eventBody = String(buffer: try await events.body.collect(upTo: 1 << 20))
            let items = (try? JSONSerialization.jsonObject(with: Data(eventBody.utf8))) as? [[String: Any]] ?? []
            #expect(events.status.code == 200 && items.count == 1, "\(eventBody.prefix(300))")
            #expect(items.first?["ContentType"] as? String == "application/xml")
            #expect(items.first?["PartitionKey"] as? String == contact)

            // The endpoint commands.
            let listed = try await Self.cli(["endpoint", "list"] + api)
            #expect(listed.contains("contacts-xml") && listed.contains("topic"))
            let shown = try await Self.cli(["endpoint", "show", "contacts-json"] + api)
            #expect(shown.contains("\"issaskeyset\" : true") && !shown.contains("\"saskey\""))
            _ = try await Self.cli(["endpoint", "test", "contacts-json"] + api)
            let test = try await Self.cli(
                ["listen", "--transport", "rest", "--queue", "contacts-json", "--max-messages", "1"] + bus
            )
            #expect(test.contains("TriggerServiceEndpointCheck serviceendpoint \(endpoints["json"] ?? "")"))
            let bad = try await CLITests.run(
                ["endpoint", "add", "--name", "x", "--contract", "eventhub", "--format", "binary", "--path", "h"] + bus
                    + api
            )
            #expect(bad.status == 2 && bad.stderr.contains("an Event Hub takes messageformat 2 (Json) or 3 (Text XML)"))
            let removed = try await Self.cli(["endpoint", "remove", "contacts-binary"] + api)
            #expect(removed.contains("Deleted"))
            let list = try await Self.cli(["bus", "list"] + bus)
            #expect(list.contains("contacts-json") && list.contains("changes/subscriptions/accounts"))
        }
    }

    @Test(
        "a remote namespace (a second conduit serve) over REST: a post while it is down waits and arrives once it is back"
    )
    func remote() async throws {
        let remoteDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-remote-\(UUID())")
            .path
        let localDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-local-\(UUID())")
            .path
        defer {
            try? FileManager.default.removeItem(atPath: remoteDirectory)
            try? FileManager.default.removeItem(atPath: localDirectory)
        }
        var remote = try await CrashSafetyTests.Server(
            dataDirectory: remoteDirectory,
            arguments: ["--namespace", "remote"]
        )
        let remotePort = remote.port
        let remoteBus = ["--connection-string", remote.busConnectionString]
        let restListen = ["listen", "--transport", "rest"]
        let remoteKey = try #require(try ConnectionString(parsing: remote.busConnectionString).key)
        _ = try await Self.cli(["bus", "queue", "create", "inbox", "--duplicate-detection", "600"] + remoteBus)
        let local = try await CrashSafetyTests.Server(dataDirectory: localDirectory)
        defer {
            local.stop()
            remote.stop()
        }
        let api = ["--url", local.url, "--key-file", localDirectory + "/admin.key"]
        try await CrashSafetyTests.withClient { client in
            try await Self.postCreatesToRemoteInbox(
                client,
                local,
                address: "http://127.0.0.1:\(remotePort)/",
                key: remoteKey,
                api: api
            )
            let first = try await Self.createContact(client, local, "First")
            let received = try await Self.cli(
                restListen + ["--queue", "inbox", "--max-messages", "1", "--output", "json"] + remoteBus
            )
            #expect(try ContextCodec.decode(Array(received.utf8), format: .json).primaryEntityId.description == first)

            // The remote namespace goes away: the next post waits with backoff and says why.
            remote.stop()
            let second = try await Self.createContact(client, local, "Second")
            let waiting = try await CrashSafetyTests.waitingJobs(client, local, saying: "could not be reached")
            if !waiting.contains("could not be reached") {
                let all = try await CrashSafetyTests.send(
                    client,
                    local,
                    .GET,
                    "asyncoperations?$select=statuscode,message,retrycount"
                )
                Issue.record("No waiting job says the namespace could not be reached: \(all.body)")
            }

            // It comes back on the same port: the job posts, once.
            remote = try await CrashSafetyTests.Server(
                dataDirectory: remoteDirectory,
                port: remotePort,
                arguments: ["--namespace", "remote"]
            )
            let later = try await Self.cli(
                restListen + ["--queue", "inbox", "--max-messages", "1", "--wait", "60", "--output", "json"] + remoteBus
            )
            #expect(try ContextCodec.decode(Array(later.utf8), format: .json).primaryEntityId.description == second)
            let nothingMore = try await Self.cli(
                restListen + ["--queue", "inbox", "--wait", "2", "--until-idle"] + remoteBus
            )
            #expect(nothingMore.isEmpty)
            let succeeded = try await CrashSafetyTests.send(
                client,
                local,
                .GET,
                "asyncoperations?$select=statuscode&$filter=statuscode%20eq%2030"
            )
            #expect(succeeded.body.components(separatedBy: "\"statuscode\"").count - 1 == 2)
        }
    }

    @Test("conduit endpoint add --contract webhook: a Web API update is POSTed to the webhook with its header")
    func webhook() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-hook-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let hook = try await TestHTTPServer { _, _ in TestHTTPServer.Answer(status: .noContent) }
        let server = try await CrashSafetyTests.Server(dataDirectory: directory)
        defer { server.stop() }
        let api = ["--url", server.url, "--key-file", directory + "/admin.key"]
        do {
            try await CrashSafetyTests.withClient { client in
                let id = try await Self.cli(
                    [
                        "endpoint", "add", "--name", "crm-hook", "--contract", "webhook", "--webhook-url",
                        "http://127.0.0.1:\(hook.port)/crm", "--header", "x-api-key=s3cret",
                    ] + api
                ).trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(UUID(uuidString: id) != nil, "endpoint add printed '\(id)'")
                let shown = try await Self.cli(["endpoint", "show", id] + api)
                #expect(shown.contains("http://127.0.0.1:\(hook.port)/crm") && !shown.contains("s3cret"), "\(shown)")
                try await Self.registerStep(client, server, endpoint: id)
                let contact = try await Self.createContact(client, server, "Byron")
                try await Self.renameContact(client, server, contact, to: "Lovelace")
                for _ in 0..<300 where hook.received.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
                let request = try #require(hook.received.first)
                #expect(request.head.uri == "/crm" && request.head.headers.first(name: "x-api-key") == "s3cret")
                #expect(request.head.headers.first(name: "x-ms-dynamics-request-name") == "Update")
                let context = try ContextCodec.decode(request.body, format: .json)
                #expect(context.primaryEntityId.description == contact)
                #expect(context.preEntityImages["before"]?.attributes["lastname"] == .string("Byron"))
            }
            let refused = try await CLITests.run(
                [
                    "endpoint", "add", "--name", "x", "--contract", "webhook", "--webhook-url", "http://h/", "--header",
                    "bad",
                ] + api
            )
            #expect(refused.status != 0 && refused.stderr.contains("--header takes NAME=VALUE, not 'bad'"))
            // A test message to a webhook nobody answers: the post's error, as a bad gateway with its message.
            _ = try await Self.cli(
                [
                    "endpoint", "add", "--name", "down-hook", "--contract", "webhook", "--webhook-url",
                    "http://127.0.0.1:9/", "--webhook-key", "k",
                ]
                    + api
            )
            let down = try await CLITests.run(["endpoint", "test", "down-hook"] + api)
            #expect(down.status != 0 && down.stderr.contains("502"), "\(down.stderr)")
            #expect(down.stderr.contains("127.0.0.1:9"), "\(down.stderr)")
        } catch {
            await hook.stop()
            throw error
        }
        await hook.stop()
    }

    @Test("a two-way relay: conduit bus relay create, conduit listen --relay --reply, the answer kept on the job")
    func twoWayRelay() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-relay-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try await CrashSafetyTests.Server(dataDirectory: directory)
        defer { server.stop() }
        let api = ["--url", server.url, "--key-file", directory + "/admin.key"]
        let bus = ["--connection-string", server.busConnectionString]
        #expect(
            try await Self.cli(["bus", "relay", "create", "approvals"] + bus).contains("Created hybrid connection")
        )
        let id = try await Self.cli(
            [
                "endpoint", "add", "--name", "approvals", "--contract", "twoway", "--format", "xml", "--path",
                "approvals",
            ]
                + bus + api
        ).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(UUID(uuidString: id) != nil, "endpoint add printed '\(id)'")
        try await CrashSafetyTests.withClient { client in
            try await Self.registerStep(client, server, endpoint: id)
            // The listener runs as its own process until it has answered one post.
            async let listened = CLITests.run(
                ["listen", "--relay", "approvals", "--reply", "Approved by the listener", "--max-messages", "1"] + bus
            )
            var listeners = ""
            for _ in 0..<200 {
                listeners = try await Self.cli(["bus", "relay", "list"] + bus)
                if listeners.contains("approvals  1") { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(listeners.contains("approvals  1"), "\(listeners)")
            let contact = try await Self.createContact(client, server, "Byron")
            try await Self.renameContact(client, server, contact, to: "Lovelace")
            let run = try await listened
            #expect(run.status == 0, "\(run.stderr)")
            #expect(String(decoding: run.stdout, as: UTF8.self).contains("Update contact \(contact)"))
            var jobs = ""
            for _ in 0..<200 {
                jobs = try await CrashSafetyTests.send(
                    client,
                    server,
                    .GET,
                    "asyncoperations?$select=statuscode,conduit_response&$filter=statuscode%20eq%2030"
                ).body
                if jobs.contains(#""conduit_response":""#) { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let all = try await CrashSafetyTests.send(
                client,
                server,
                .GET,
                "asyncoperations?$select=statuscode,message,conduit_response"
            ).body
            #expect(jobs.contains(#""conduit_response":"Approved by the listener""#), "\(all)")
        }
        let refused = try await CLITests.run(["listen", "--relay", "x", "--queue", "y"] + bus)
        #expect(refused.status != 0 && refused.stderr.contains("Give one of --queue"), "\(refused.stderr)")
    }

    @Test("conduit workflow: a background workflow with a condition, a custom activity, an update and a post")
    func workflow() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-flow-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try await CrashSafetyTests.Server(dataDirectory: directory)
        defer { server.stop() }
        let api = ["--url", server.url, "--key-file", directory + "/admin.key"]
        let bus = ["--connection-string", server.busConnectionString]
        _ = try await Self.cli(["bus", "queue", "create", "greetings"] + bus)
        let endpoint = try await Self.cli(
            [
                "endpoint", "add", "--name", "greetings", "--contract", "queue", "--format", "json", "--path",
                "greetings",
            ]
                + bus + api
        ).trimmingCharacters(in: .whitespacesAndNewlines)
        let definition = directory + "/greet.json"
        try """
        {"activities": [
          {"type": "condition", "if": {"attribute": "lastname", "operator": "eq", "value": "Lovelace"},
           "then": [
             {"type": "custom", "activity": "Conduit.Samples.Concatenate",
              "inputs": {"first": {"value": "Dear"}, "second": {"attribute": "firstname"}},
              "outputs": {"text": "salutation"}},
             {"type": "update", "attributes": {"description": {"variable": "salutation"}}},
             {"type": "post", "serviceendpointid": "\(endpoint)"}
           ]}
        ]}
        """.write(toFile: definition, atomically: true, encoding: .utf8)
        #expect(try await Self.cli(["workflow", "activities"] + api).contains("Conduit.Samples.Concatenate"))
        let id = try await Self.cli(
            [
                "workflow", "create", "--name", "Greet", "--table", "contact", "--on-update", "lastname",
                "--definition",
                definition, "--activate",
            ] + api
        ).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(UUID(uuidString: id) != nil, "workflow create printed '\(id)'")
        let listed = try await Self.cli(["workflow", "list"] + api)
        #expect(
            listed.contains("Greet") && listed.contains("Activated") && listed.contains("update(lastname)"),
            "\(listed)"
        )
        try await CrashSafetyTests.withClient { client in
            let contact = try await Self.createContact(client, server, "Byron")
            try await Self.renameContact(client, server, contact, to: "Lovelace")
            let received = try await Self.cli(
                ["listen", "--queue", "greetings", "--transport", "rest", "--max-messages", "1", "--output", "json"]
                    + bus
            )
            #expect(try ContextCodec.decode(Array(received.utf8), format: .json).primaryEntityId.description == contact)
            let row = try await CrashSafetyTests.send(client, server, .GET, "contacts(\(contact))?$select=description")
            #expect(row.body.contains(#""description":"Dear Ada""#), "\(row.body)")
            let jobs = try await CrashSafetyTests.send(
                client,
                server,
                .GET,
                "asyncoperations?$select=statuscode,operationtype&$filter=operationtype%20eq%2010"
            )
            #expect(jobs.body.contains(#""statuscode":30"#), "\(jobs.body)")
        }
        // A definition that does not check is refused with the place and the reason.
        try
            #"{"activities": [{"type": "custom", "activity": "Conduit.Samples.Concatenate", "inputs": {"first": {"value": 1}, "second": {"value": "x"}}}]}"#
            .write(toFile: definition, atomically: true, encoding: .utf8)
        let refused = try await CLITests.run(
            ["workflow", "create", "--name", "Bad", "--table", "contact", "--on-create", "--definition", definition]
                + api
        )
        #expect(
            refused.status != 0 && refused.stderr.contains("activities[0].inputs.first: 1 is not a string"),
            "\(refused.stderr)"
        )
        #expect(try await Self.cli(["workflow", "deactivate", "Greet"] + api).contains("Deactivated"))
        #expect(try await Self.cli(["workflow", "delete", "Greet"] + api).contains("Deleted"))
    }

    @Test("a message the bus acknowledged (201) survives kill -9 of the server")
    func busSurvivesKill() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-bus-kill-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var server = try await CrashSafetyTests.Server(dataDirectory: directory)
        let port = server.port
        let bus = ["--connection-string", server.busConnectionString]
        _ = try await Self.cli(["bus", "queue", "create", "durable"] + bus)
        let connection = try ConnectionString(parsing: server.busConnectionString)
        let token = Self.token(connection, "durable")
        try await CrashSafetyTests.withClient { client in
            for index in 0..<20 {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/durable/messages")
                request.method = .POST
                request.headers.add(name: "Authorization", value: token)
                request.body = .bytes(ByteBuffer(string: "message \(index)"))
                let response = try await client.execute(request, timeout: .seconds(30))
                #expect(response.status.code == 201)
            }
        }
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        server = try await CrashSafetyTests.Server(dataDirectory: directory, port: port)
        defer { server.stop() }
        let list = try await Self.cli(["bus", "list"] + bus)
        #expect(list.contains("durable  20"), "\(list)")
    }
}

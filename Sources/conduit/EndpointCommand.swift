import ArgumentParser
import ConduitBus
import ConduitEndpoints
import Foundation
import NIOHTTP1

/// `conduit endpoint`: service endpoints of a running server, through its Web API.
struct EndpointCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "endpoint",
        abstract: "Add, list, show, remove and test service endpoints (serviceendpoint) of a running server.",
        discussion: """
            Talks to the Web API of 'conduit serve' (--url, --key-file). An endpoint says where the event pipeline \
            posts contexts: a queue, topic or event hub of the embedded bus (address sb://localhost/) or of a remote \
            namespace. Keys are write-only: 'show' says whether one is set, never what it is.
            """,
        subcommands: [Add.self, List.self, Show.self, Remove.self, Test.self]
    )

    static let contracts: [(name: String, value: Int)] = [
        ("queue", 6), ("topic", 5), ("eventhub", 7), ("webhook", 8), ("oneway", 1), ("twoway", 4), ("rest", 3),
    ]
    static let formats: [(name: String, value: Int)] = [("binary", 1), ("json", 2), ("xml", 3)]
    static let columns =
        "serviceendpointid,name,contract,messageformat,authtype,namespaceaddress,solutionnamespace,path,url,saskeyname,issaskeyset,issastokenset,isauthvalueset,userclaim"

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a service endpoint; prints its id.",
            discussion: """
                Examples:
                  conduit endpoint add --name contacts --contract queue --format json \\
                    --connection-string "Endpoint=sb://localhost/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=…" --path contacts
                  conduit endpoint add --name orders --contract topic --namespace-address https://contoso.servicebus.windows.net/ \\
                    --path orders --sas-key-name send --sas-key …
                  conduit endpoint add --name crm-hook --contract webhook --webhook-url https://hooks.example.com/crm \\
                    --header x-api-key=…          (or --webhook-key KEY, or --query name=value …)
                  conduit endpoint add --name approvals --contract twoway --format xml \\
                    --connection-string "$(cat conduit-data/bus.connection)" --path approvals

                A webhook is posted the JSON context (whatever --format says), with its authorization as a ?code=
                key (--webhook-key), headers (--header, repeatable) or query parameters (--query, repeatable).
                A relay endpoint (oneway, twoway, rest) posts through a hybrid connection named by --path (create it
                with 'conduit bus relay create'); a listener must be online ('conduit listen --relay').
                """
        )

        @OptionGroup var server: ServerOptions
        @Option(help: "The endpoint's name.") var name: String
        @Option(help: "queue, topic, eventhub, webhook, or a relay's oneway, twoway or rest.") var contract: String =
            "queue"
        @Option(help: "binary (.NET binary XML), json or xml.") var format: String?
        @Option(
            name: .customLong("connection-string"),
            help: "A Service Bus connection string (its Endpoint, key and EntityPath fill in the rest)."
        )
        var connectionString: String?
        @Option(name: .customLong("namespace-address"), help: "sb://<namespace>/ (or https://, or http:// for a test).")
        var namespaceAddress: String?
        @Option(help: "The queue, topic or event hub.") var path: String?
        @Option(name: .customLong("sas-key-name"), help: "The SAS rule's name.") var sasKeyName: String?
        @Option(name: .customLong("sas-key"), help: "The SAS rule's key.") var sasKey: String?
        @Option(name: .customLong("sas-token"), help: "A SAS token instead of a key.") var sasToken: String?
        @Option(help: "A description.") var description: String?
        @Option(name: .customLong("webhook-url"), help: "Webhooks: the http:// or https:// address to POST to.")
        var webhookURL: String?
        @Option(name: .customLong("webhook-key"), help: "Webhooks: a key sent as ?code=KEY (authtype 4).")
        var webhookKey: String?
        @Option(name: .customLong("header"), help: "Webhooks: NAME=VALUE, sent as a header (authtype 5; repeatable).")
        var headers: [String] = []
        @Option(
            name: .customLong("query"),
            help: "Webhooks: NAME=VALUE, sent as a query parameter (authtype 6; repeatable)."
        )
        var queries: [String] = []

        func validate() throws {
            guard EndpointCommand.contracts.contains(where: { $0.name == contract }) else {
                throw ValidationError(
                    "--contract must be queue, topic, eventhub, webhook, oneway, twoway or rest, not '\(contract)'."
                )
            }
            if let format, !EndpointCommand.formats.contains(where: { $0.name == format }) {
                throw ValidationError("--format must be binary, json or xml, not '\(format)'.")
            }
            if contract == "webhook" {
                guard webhookURL != nil else { throw ValidationError("A webhook needs --webhook-url.") }
                let given = [webhookKey != nil, !headers.isEmpty, !queries.isEmpty].filter { $0 }.count
                guard given == 1 else {
                    throw ValidationError(
                        "A webhook needs one kind of authorization: --webhook-key, --header or --query."
                    )
                }
                _ = try webhookSettings()
                return
            }
            guard webhookURL == nil, webhookKey == nil, headers.isEmpty, queries.isEmpty else {
                throw ValidationError("--webhook-url, --webhook-key, --header and --query are for --contract webhook.")
            }
            if connectionString == nil && namespaceAddress == nil {
                throw ValidationError("Give --connection-string or --namespace-address.")
            }
            if let connectionString {
                do {
                    _ = try ConnectionString(parsing: connectionString)
                } catch {
                    throw ValidationError("--connection-string: \(error)")
                }
            }
        }

        /// The `<settings>` of --header or --query pairs (`nil` with --webhook-key).
        func webhookSettings() throws -> WebhookSettings? {
            let pairs = headers.isEmpty ? queries : headers
            guard !pairs.isEmpty else { return nil }
            let option = headers.isEmpty ? "--query" : "--header"
            let settings = WebhookSettings(
                settings: try pairs.map { pair in
                    guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                        throw ValidationError("\(option) takes NAME=VALUE, not '\(pair)'.")
                    }
                    return WebhookSettings.Setting(
                        name: String(pair[..<equals]),
                        value: String(pair[pair.index(after: equals)...])
                    )
                }
            )
            if !headers.isEmpty {
                do {
                    try settings.checkHeaders()
                } catch {
                    throw ValidationError("--header: \(error.message)")
                }
            }
            return settings
        }

        /// The row of a webhook (contract 8).
        func webhookRow() throws -> [String: Any] {
            var row: [String: Any] = [
                "name": name, "contract": 8, "url": webhookURL ?? "", "userclaim": 1, "connectionmode": 1,
            ]
            if let webhookKey {
                row["authtype"] = 4
                row["authvalue"] = webhookKey
            } else if let settings = try webhookSettings() {
                row["authtype"] = headers.isEmpty ? 6 : 5
                row["authvalue"] = settings.xml
            }
            if let description { row["description"] = description }
            return row
        }

        /// The row to create.
        func row() throws -> [String: Any] {
            if contract == "webhook" { return try webhookRow() }
            var row: [String: Any] = [
                "name": name, "contract": EndpointCommand.contracts.first { $0.name == contract }!.value,
                "userclaim": 1, "connectionmode": 1,
            ]
            let defaultFormat = contract == "eventhub" ? "json" : "binary"
            row["messageformat"] = EndpointCommand.formats.first { $0.name == (format ?? defaultFormat) }!.value
            if let connectionString {
                let parsed = try ConnectionString(parsing: connectionString)
                row["namespaceaddress"] = namespaceAddress ?? parsed.endpoint
                row["solutionnamespace"] = parsed.host
                row["path"] = path ?? parsed.entityPath
                if let signature = parsed.sharedAccessSignature {
                    row["authtype"] = 3
                    row["sastoken"] = signature
                } else {
                    row["authtype"] = 2
                    row["saskeyname"] = parsed.keyName
                    row["saskey"] = parsed.key
                }
            } else {
                row["namespaceaddress"] = namespaceAddress
                row["path"] = path
                if let sasToken {
                    row["authtype"] = 3
                    row["sastoken"] = sasToken
                } else {
                    row["authtype"] = 2
                    row["saskeyname"] = sasKeyName
                    row["saskey"] = sasKey
                }
            }
            if let description { row["description"] = description }
            return row
        }

        func run() async throws {
            let row = try self.row()
            try await WebAPIClient.with(server) { api in
                let created = try await api.send(.POST, "serviceendpoints", body: row, prefer: true)
                let id = (created as? [String: Any])?["serviceendpointid"] as? String ?? "?"
                print(id)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the service endpoints.")
        @OptionGroup var server: ServerOptions
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() async throws {
            try await WebAPIClient.with(server) { api in
                let rows = try await api.rows("serviceendpoints?$select=\(EndpointCommand.columns)&$orderby=name")
                if json {
                    print(
                        String(
                            decoding: try JSONSerialization.data(
                                withJSONObject: rows,
                                options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                            ),
                            as: UTF8.self
                        )
                    )
                    return
                }
                print(
                    formatTable(
                        ["ID", "NAME", "CONTRACT", "FORMAT", "ADDRESS", "PATH"],
                        rows.map { row in
                            [
                                row["serviceendpointid"] as? String ?? "", row["name"] as? String ?? "",
                                EndpointCommand.name(of: row["contract"], in: EndpointCommand.contracts),
                                EndpointCommand.name(of: row["messageformat"], in: EndpointCommand.formats),
                                row["namespaceaddress"] as? String ?? row["url"] as? String
                                    ?? row["solutionnamespace"] as? String ?? "",
                                row["path"] as? String ?? "",
                            ]
                        }
                    )
                )
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one service endpoint (by id or name).")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The endpoint's id or name.") var endpoint: String

        func run() async throws {
            try await WebAPIClient.with(server) { api in
                let id = try await EndpointCommand.resolve(endpoint, api: api)
                let row = try await api.send(.GET, "serviceendpoints(\(id))?$select=\(EndpointCommand.columns)")
                let clean = (row as? [String: Any] ?? [:]).filter { !$0.key.hasPrefix("@") }
                print(
                    String(
                        decoding: try JSONSerialization.data(
                            withJSONObject: clean,
                            options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                        ),
                        as: UTF8.self
                    )
                )
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a service endpoint (by id or name) and the steps that post to it."
        )
        @OptionGroup var server: ServerOptions
        @Argument(help: "The endpoint's id or name.") var endpoint: String

        func run() async throws {
            try await WebAPIClient.with(server) { api in
                let id = try await EndpointCommand.resolve(endpoint, api: api)
                try await api.send(.DELETE, "serviceendpoints(\(id))")
                print("Deleted \(id).")
            }
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Post a test context (TriggerServiceEndpointCheck) to a service endpoint now.",
            discussion: "The post runs in the request: an error says what the bus answered."
        )
        @OptionGroup var server: ServerOptions
        @Argument(help: "The endpoint's id or name.") var endpoint: String

        func run() async throws {
            try await WebAPIClient.with(server) { api in
                let id = try await EndpointCommand.resolve(endpoint, api: api)
                try await api.send(.POST, "serviceendpoints(\(id))/Microsoft.Dynamics.CRM.TriggerServiceEndpointCheck")
                print("Posted a test context to \(id).")
            }
        }
    }

    static func name(of value: Any?, in options: [(name: String, value: Int)]) -> String {
        guard let number = (value as? NSNumber)?.intValue else { return "?" }
        return options.first { $0.value == number }?.name ?? String(number)
    }

    /// An id as given, or the id of the endpoint with that name.
    static func resolve(_ text: String, api: WebAPIClient) async throws -> String {
        try await api.resolve(text, in: "serviceendpoints", idColumn: "serviceendpointid", what: "service endpoint")
    }
}

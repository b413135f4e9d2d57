import ArgumentParser
import ConduitPlatform
import Foundation
import NIOHTTP1

/// `conduit step`: the event pipeline's steps (`sdkmessageprocessingstep`) of a running server, through its Web API.
struct StepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "Register, list, enable, disable and remove steps (sdkmessageprocessingstep) of a running server.",
        discussion: """
            Talks to the Web API of 'conduit serve' (--url, --key-file, --ca), as the Plug-in Registration Tool \
            does. A step runs a handler on a message of a table at a stage: a service endpoint (the context is \
            posted to it) or a plug-in type, compiled in or from an uploaded assembly ('conduit plugin').
            """,
        subcommands: [Add.self, List.self, Enable.self, Disable.self, Remove.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a step; prints its id.",
            discussion: """
                Examples:
                  conduit step add --message Create --table contact --endpoint contacts
                  conduit step add --message Update --table contact --endpoint contacts --filtering lastname,emailaddress1 \\
                    --image pre:before:lastname,emailaddress1
                  conduit step add --message Create --table account --plugin-type check_name --stage 20 --mode sync

                --endpoint and --plugin-type take an id or a name (a plug-in type's typename or name). An \\
                asynchronous step (the default) runs as a system job after the change commits, at stage 40; a \\
                synchronous one runs in the change's transaction, and its failure rolls the change back.
                """
        )

        @OptionGroup var server: ServerOptions
        @Option(help: "The SDK message: Create, Update, Delete, SetState, Assign, …") var message: String
        @Option(help: "The table's logical name.") var table: String
        @Option(help: "The service endpoint to post to (id or name).") var endpoint: String?
        @Option(name: .customLong("plugin-type"), help: "The plug-in type to run (id, typename or name).")
        var pluginType: String?
        @Option(help: "10 (pre-validation), 20 (pre-operation) or 40 (post-operation).") var stage: Int32 = 40
        @Option(help: "async (a system job after the commit) or sync (in the transaction).") var mode: String = "async"
        @Option(help: "The order among the steps of the stage.") var rank: Int32 = 1
        @Option(help: "Update: the comma-separated columns whose change triggers the step (default: any).")
        var filtering: String?
        @Option(help: "The step's unsecure configuration, handed to the plug-in.") var configuration: String?
        @Option(
            help:
                "An image, pre|post|both:ALIAS[:COLUMN,COLUMN…] (all columns without a list); repeatable."
        )
        var image: [String] = []
        @Option(help: "The step's name (default: the handler, the message and the table).") var name: String?
        @Flag(name: .customLong("delete-job-on-success"), help: "Delete the system job once it succeeded.")
        var deleteJobOnSuccess = false

        func validate() throws {
            guard (endpoint == nil) != (pluginType == nil) else {
                throw ValidationError("Give one handler: --endpoint or --plugin-type.")
            }
            guard [10, 20, 40].contains(stage) else {
                throw ValidationError("--stage must be 10, 20 or 40, not \(stage).")
            }
            guard mode == "async" || mode == "sync" else {
                throw ValidationError("--mode must be async or sync, not '\(mode)'.")
            }
            if mode == "async", stage != 40 {
                throw ValidationError("An asynchronous step runs after the change: use --stage 40 (or --mode sync).")
            }
            if filtering != nil, message != "Update" {
                throw ValidationError("--filtering applies to Update steps only.")
            }
            for text in image { _ = try Self.parseImage(text) }
        }

        /// `pre:before:lastname,firstname` → (0, "before", "lastname,firstname").
        static func parseImage(_ text: String) throws -> (type: Int, alias: String, columns: String?) {
            let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            let types = ["pre": 0, "post": 1, "both": 2]
            guard parts.count >= 2, let type = types[parts[0]], !parts[1].isEmpty else {
                throw ValidationError(
                    "--image must be pre|post|both:ALIAS[:COLUMN,COLUMN…], such as pre:before:lastname, not '\(text)'."
                )
            }
            return (type, parts[1], parts.count == 3 && !parts[2].isEmpty ? parts[2] : nil)
        }

        func run() async throws {
            try await WebAPIClient.with(server) { api in
                let messageId = try await api.resolve(
                    message,
                    in: "sdkmessages",
                    idColumn: "sdkmessageid",
                    what: "SDK message"
                )
                let table = self.table.lowercased()
                var row: [String: Any] = [
                    "stage": stage, "mode": mode == "sync" ? 0 : 1, "rank": rank,
                    "sdkmessageid@odata.bind": "/sdkmessages(\(messageId))",
                    "sdkmessagefilterid@odata.bind":
                        "/sdkmessagefilters(\(Platform.messageFilterId(message: message, table: table)))",
                    "supporteddeployment": 0,
                ]
                let handlerName: String
                if let endpoint {
                    let id = try await EndpointCommand.resolve(endpoint, api: api)
                    row["eventhandler_serviceendpoint@odata.bind"] = "/serviceendpoints(\(id))"
                    handlerName = endpoint
                } else {
                    let id = try await PluginCommand.resolveType(pluginType ?? "", api: api)
                    row["eventhandler_plugintype@odata.bind"] = "/plugintypes(\(id))"
                    handlerName = pluginType ?? ""
                }
                row["name"] = name ?? "\(handlerName): \(message) of \(table)"
                if let filtering { row["filteringattributes"] = filtering }
                if let configuration { row["configuration"] = configuration }
                if deleteJobOnSuccess { row["asyncautodelete"] = true }
                let created = try await api.send(.POST, "sdkmessageprocessingsteps", body: row, prefer: true)
                guard let id = (created as? [String: Any])?["sdkmessageprocessingstepid"] as? String else {
                    throw CommandFailure("the server did not answer with the new step's id")
                }
                for text in image {
                    let image = try Self.parseImage(text)
                    var imageRow: [String: Any] = [
                        "name": image.alias, "entityalias": image.alias, "imagetype": image.type,
                        "messagepropertyname": message == "Create" ? "Id" : "Target",
                        "sdkmessageprocessingstepid@odata.bind": "/sdkmessageprocessingsteps(\(id))",
                    ]
                    if let columns = image.columns { imageRow["attributes"] = columns }
                    try await api.send(.POST, "sdkmessageprocessingstepimages", body: imageRow)
                }
                print(id)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the steps, with their message, table and handler."
        )
        @OptionGroup var server: ServerOptions
        @Option(help: "Only the steps of this service endpoint (id or name).") var endpoint: String?
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() async throws {
            try await WebAPIClient.with(server) { api in
                var path = "steps"
                if let endpoint { path += "?endpoint=\(try await EndpointCommand.resolve(endpoint, api: api))" }
                let steps =
                    (try await api.send(.GET, path, console: true) as? [String: Any])?["steps"] as? [[String: Any]]
                    ?? []
                if json {
                    try WebAPIClient.printJSON(steps)
                    return
                }
                print(
                    formatTable(
                        ["ID", "STATE", "MESSAGE", "TABLE", "STAGE", "MODE", "HANDLER", "NAME"],
                        steps.map { step in
                            [
                                step["id"] as? String ?? "",
                                (step["statecode"] as? Int) == 1 ? "disabled" : "enabled",
                                step["message"] as? String ?? "", step["table"] as? String ?? "",
                                (step["stage"] as? Int).map(String.init) ?? "",
                                (step["mode"] as? Int) == 0 ? "sync" : "async",
                                step["endpointName"] as? String ?? step["handler"] as? String ?? "",
                                step["name"] as? String ?? "",
                            ]
                        }
                    )
                )
            }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a step (statecode 0).")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The step's id or name.") var step: String

        func run() async throws {
            try await StepCommand.setState(step, enabled: true, server: server)
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a step (statecode 1): the pipeline stops running it; nothing is deleted."
        )
        @OptionGroup var server: ServerOptions
        @Argument(help: "The step's id or name.") var step: String

        func run() async throws {
            try await StepCommand.setState(step, enabled: false, server: server)
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a step and its images.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The step's id or name.") var step: String

        func run() async throws {
            try await WebAPIClient.with(server) { api in
                let id = try await StepCommand.resolve(step, api: api)
                try await api.send(.DELETE, "sdkmessageprocessingsteps(\(id))")
                print("Deleted step \(id).")
            }
        }
    }

    static func resolve(_ text: String, api: WebAPIClient) async throws -> String {
        try await api.resolve(
            text,
            in: "sdkmessageprocessingsteps",
            idColumn: "sdkmessageprocessingstepid",
            what: "step"
        )
    }

    static func setState(_ step: String, enabled: Bool, server: ServerOptions) async throws {
        try await WebAPIClient.with(server) { api in
            let id = try await resolve(step, api: api)
            try await api.send(.PATCH, "steps/\(id)", body: ["statecode": enabled ? 0 : 1], console: true)
            print("\(enabled ? "Enabled" : "Disabled") step \(id).")
        }
    }
}

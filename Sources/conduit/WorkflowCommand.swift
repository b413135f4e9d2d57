import ArgumentParser
import Foundation
import NIOHTTP1

/// `conduit workflow`: background workflows through the Web API (`workflows`).
struct WorkflowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workflow",
        abstract: "Create, list, show, activate, deactivate and delete background workflows.",
        discussion: """
            A background workflow runs its activities as a system job (operationtype 10) after a record of its \
            table is created, updated (in the columns given) or deleted: conditions, create and update, posts to \
            service endpoints, and custom Swift activities. Its definition is JSON (docs/workflows.md), kept in the \
            workflow's clientdata, and checked when saved and when activated.

            Examples:
              conduit workflow create --name "Greet" --table contact --on-update lastname --definition greet.json --activate
              conduit workflow list
              conduit workflow deactivate Greet
              conduit workflow activities
            """,
        subcommands: [Create.self, List.self, Show.self, Activate.self, Deactivate.self, Delete.self, Activities.self]
    )

    static let scopes: [(name: String, value: Int)] = [
        ("user", 1), ("businessunit", 2), ("parentchild", 3), ("organization", 4),
    ]

    static func resolve(_ text: String, api: WebAPIClient) async throws -> String {
        try await api.resolve(text, in: "workflows", idColumn: "workflowid", what: "workflow")
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a workflow (a draft, or active with --activate); prints its id."
        )
        @OptionGroup var server: ServerOptions
        @Option(help: "The workflow's name.") var name: String
        @Option(help: "The table it runs on (logical name).") var table: String
        @Option(help: "The JSON file of its definition ('-' for standard input).") var definition: String
        @Flag(help: "Start it when a row is created.") var onCreate = false
        @Option(help: "Start it when these columns are updated (comma-separated).") var onUpdate: String?
        @Flag(help: "Start it when a row is deleted.") var onDelete = false
        @Option(help: "Whose rows start it: user, businessunit, parentchild or organization.") var scope =
            "organization"
        @Option(help: "A description.") var description: String?
        @Flag(help: "Activate it at once.") var activate = false
        @Flag(help: "Delete its system jobs once they succeed.") var autoDelete = false

        func validate() throws {
            guard WorkflowCommand.scopes.contains(where: { $0.name == scope }) else {
                throw ValidationError(
                    "--scope must be user, businessunit, parentchild or organization, not '\(scope)'."
                )
            }
            if activate, !onCreate, !onDelete, onUpdate == nil {
                throw ValidationError("--activate needs a trigger: --on-create, --on-update COLUMNS or --on-delete.")
            }
        }

        func run() async throws {
            let text: String
            if definition == "-" {
                text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            } else {
                guard let contents = try? String(contentsOfFile: definition, encoding: .utf8) else {
                    throw CommandFailure("cannot read the definition file \(definition)")
                }
                text = contents
            }
            var row: [String: Any] = [
                "name": name, "primaryentity": table, "clientdata": text, "triggeroncreate": onCreate,
                "triggerondelete": onDelete, "scope": WorkflowCommand.scopes.first { $0.name == scope }!.value,
                "asyncautodelete": autoDelete,
            ]
            if let onUpdate { row["triggeronupdateattributelist"] = onUpdate }
            if let description { row["description"] = description }
            try await WebAPIClient.with(server) { api in
                let created = try await api.send(.POST, "workflows", body: row, prefer: true)
                let id = (created as? [String: Any])?["workflowid"] as? String ?? "?"
                if activate { try await api.send(.PATCH, "workflows(\(id))", body: ["statecode": 1]) }
                print(id)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the workflows.")
        @OptionGroup var server: ServerOptions

        func run() async throws {
            try await WebAPIClient.with(server) { api in
                let rows = try await api.rows(
                    "workflows?$select=workflowid,name,primaryentity,statecode,scope,triggeroncreate,triggerondelete,triggeronupdateattributelist&$orderby=name"
                )
                print(
                    formatTable(
                        ["ID", "NAME", "TABLE", "STATE", "SCOPE", "TRIGGERS"],
                        rows.map { row in
                            var triggers: [String] = []
                            if row["triggeroncreate"] as? Bool == true { triggers.append("create") }
                            if let columns = row["triggeronupdateattributelist"] as? String, !columns.isEmpty {
                                triggers.append("update(\(columns))")
                            }
                            if row["triggerondelete"] as? Bool == true { triggers.append("delete") }
                            let scope = (row["scope"] as? NSNumber)?.intValue
                            return [
                                row["workflowid"] as? String ?? "", row["name"] as? String ?? "",
                                row["primaryentity"] as? String ?? "",
                                (row["statecode"] as? NSNumber)?.intValue == 1 ? "Activated" : "Draft",
                                WorkflowCommand.scopes.first { $0.value == scope }?.name ?? "?",
                                triggers.joined(separator: ", "),
                            ]
                        }
                    )
                )
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a workflow (by id or name) with its definition."
        )
        @OptionGroup var server: ServerOptions
        @Argument(help: "The workflow's id or name.") var workflow: String

        func run() async throws {
            try await WebAPIClient.with(server) { api in
                let id = try await WorkflowCommand.resolve(workflow, api: api)
                let row = try await api.send(
                    .GET,
                    "workflows(\(id))?$select=workflowid,name,primaryentity,statecode,statuscode,scope,triggeroncreate,triggerondelete,triggeronupdateattributelist,asyncautodelete,description,clientdata"
                )
                var shown = row as? [String: Any] ?? [:]
                if let text = shown["clientdata"] as? String,
                    let definition = try? JSONSerialization.jsonObject(with: Data(text.utf8))
                {
                    shown["clientdata"] = definition
                }
                try WebAPIClient.printJSON(shown)
            }
        }
    }

    struct Activate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Activate a workflow: its definition is checked and its triggers start it from now on."
        )
        @OptionGroup var server: ServerOptions
        @Argument(help: "The workflow's id or name.") var workflow: String

        func run() async throws {
            try await WorkflowCommand.setState(1, of: workflow, server: server, saying: "Activated")
        }
    }

    struct Deactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deactivate a workflow (back to Draft): nothing starts it; its running jobs finish."
        )
        @OptionGroup var server: ServerOptions
        @Argument(help: "The workflow's id or name.") var workflow: String

        func run() async throws {
            try await WorkflowCommand.setState(0, of: workflow, server: server, saying: "Deactivated")
        }
    }

    /// Sets a workflow's `statecode` (0 Draft, 1 Activated) and prints `saying` with its id.
    static func setState(_ state: Int, of workflow: String, server: ServerOptions, saying: String) async throws {
        try await WebAPIClient.with(server) { api in
            let id = try await resolve(workflow, api: api)
            try await api.send(.PATCH, "workflows(\(id))", body: ["statecode": state])
            print("\(saying) \(id).")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a workflow and its triggers.")
        @OptionGroup var server: ServerOptions
        @Argument(help: "The workflow's id or name.") var workflow: String

        func run() async throws {
            try await WebAPIClient.with(server) { api in
                let id = try await WorkflowCommand.resolve(workflow, api: api)
                try await api.send(.DELETE, "workflows(\(id))")
                print("Deleted \(id).")
            }
        }
    }

    struct Activities: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the custom workflow activities compiled into the server."
        )
        @OptionGroup var server: ServerOptions

        func run() async throws {
            try await WebAPIClient.with(server) { api in
                let rows = try await api.rows(
                    "plugintypes?$select=typename,friendlyname&$filter=isworkflowactivity%20eq%20true&$orderby=typename"
                )
                print(
                    formatTable(
                        ["TYPE NAME", "DESCRIPTION"],
                        rows.map { [$0["typename"] as? String ?? "", $0["friendlyname"] as? String ?? ""] }
                    )
                )
            }
        }
    }
}

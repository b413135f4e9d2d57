import ArgumentParser
import Foundation
import NIOHTTP1

/// `conduit plugin`: plug-in assemblies and types of a running server, through its Web API.
struct PluginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugin",
        abstract:
            "Upload, list and remove sandboxed plug-in assemblies (WebAssembly) and their plug-in types on a running server.",
        discussion: """
            Talks to the Web API of 'conduit serve' (--url, --key-file, --ca). An uploaded assembly is a \
            WebAssembly module (.wasm, or WAT text) run in the sandbox (isolationmode 2); its plug-in types name \
            the functions it exports (docs/sandbox.md). The plug-ins compiled into the server belong to the \
            assembly 'Conduit' (isolationmode 1). Register steps on the types with 'conduit step add --plugin-type'.
            """,
        subcommands: [Upload.self, List.self, Remove.self]
    )

    struct Upload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upload a WebAssembly module as a sandboxed plug-in assembly, with its plug-in types.",
            discussion: """
                Creates the assembly, or replaces the content of the one with that name (used from the next \\
                execution, without a restart), and adds a plug-in type for each --type that it has not got yet. \\
                The server checks the module when it is written and refuses it with the reason (not a module, \\
                WAT that does not parse, an import the sandbox does not provide). Prints the assembly's id, then \\
                each type's id and typename.

                Example:
                  conduit plugin upload --name Poster --file docs/sandbox/post-context.wat --type post_context
                """
        )

        @OptionGroup var server: ServerOptions
        @Option(help: "The assembly's name.") var name: String
        @Option(help: "The module: a .wasm binary, or WebAssembly text (WAT).") var file: String
        @Option(help: "A function the module exports, registered as a plug-in type (repeatable).") var type: [String] =
            []
        @Option(help: "A description of the assembly.") var description: String?

        func validate() throws {
            guard !name.isEmpty else { throw ValidationError("--name must not be empty.") }
            guard FileManager.default.isReadableFile(atPath: file) else {
                throw ValidationError("--file: cannot read the file \(file).")
            }
        }

        func run() async throws {
            let content = try Data(contentsOf: URL(fileURLWithPath: file)).base64EncodedString()
            try await WebAPIClient.with(server) { api in
                let quoted = queryEncoded(name.replacingOccurrences(of: "'", with: "''"))
                let existing = try await api.rows(
                    "pluginassemblies?$select=pluginassemblyid&$filter=name%20eq%20'\(quoted)'"
                )
                var row: [String: Any] = ["content": content]
                if let description { row["description"] = description }
                let assembly: String
                if let id = existing.first?["pluginassemblyid"] as? String {
                    try await api.send(.PATCH, "pluginassemblies(\(id))", body: row)
                    assembly = id
                } else {
                    row["name"] = name
                    row["isolationmode"] = 2
                    row["sourcetype"] = 0
                    let created = try await api.send(.POST, "pluginassemblies", body: row, prefer: true)
                    guard let id = (created as? [String: Any])?["pluginassemblyid"] as? String else {
                        throw CommandFailure("the server did not answer with the new assembly's id")
                    }
                    assembly = id
                }
                print(assembly)
                let types = try await api.rows(
                    "plugintypes?$select=plugintypeid,typename&$filter=_pluginassemblyid_value%20eq%20\(assembly)"
                )
                for typeName in type {
                    if let id = types.first(where: { $0["typename"] as? String == typeName })?["plugintypeid"]
                        as? String
                    {
                        print("\(id) \(typeName)")
                        continue
                    }
                    let created = try await api.send(
                        .POST,
                        "plugintypes",
                        body: [
                            "name": "\(name).\(typeName)", "typename": typeName, "friendlyname": typeName,
                            "assemblyname": name, "pluginassemblyid@odata.bind": "/pluginassemblies(\(assembly))",
                        ],
                        prefer: true
                    )
                    print("\((created as? [String: Any])?["plugintypeid"] as? String ?? "?") \(typeName)")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the plug-in types and their assemblies.")
        @OptionGroup var server: ServerOptions
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() async throws {
            try await WebAPIClient.with(server) { api in
                let assemblies = try await api.rows(
                    "pluginassemblies?$select=pluginassemblyid,name,isolationmode,version&$orderby=name"
                )
                let types = try await api.rows(
                    "plugintypes?$select=plugintypeid,typename,name,isworkflowactivity,_pluginassemblyid_value&$orderby=typename"
                )
                if json {
                    try WebAPIClient.printJSON(["assemblies": assemblies, "types": types])
                    return
                }
                let byId = Dictionary(
                    assemblies.compactMap { row in (row["pluginassemblyid"] as? String).map { ($0, row) } }
                ) { first, _ in first }
                print(
                    formatTable(
                        ["ID", "TYPENAME", "ASSEMBLY", "ISOLATION"],
                        types.map { type in
                            let assembly = (type["_pluginassemblyid_value"] as? String).flatMap { byId[$0] }
                            let isolation: String
                            switch assembly?["isolationmode"] as? Int {
                            case 1: isolation = "none (compiled in)"
                            case 2: isolation = "sandbox"
                            default: isolation = "-"
                            }
                            return [
                                type["plugintypeid"] as? String ?? "", type["typename"] as? String ?? "",
                                assembly?["name"] as? String ?? "", isolation,
                            ]
                        }
                    )
                )
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete an uploaded plug-in assembly and its plug-in types.",
            discussion: """
                The server refuses while steps use the assembly's types (it names them: remove them first with \
                'conduit step remove'), and always for the compiled-in assembly 'Conduit'.
                """
        )
        @OptionGroup var server: ServerOptions
        @Argument(help: "The assembly's id or name.") var assembly: String

        func run() async throws {
            try await WebAPIClient.with(server) { api in
                let id = try await api.resolve(
                    assembly,
                    in: "pluginassemblies",
                    idColumn: "pluginassemblyid",
                    what: "plug-in assembly",
                    hint: "'conduit plugin list' shows them"
                )
                try await api.send(.DELETE, "pluginassemblies(\(id))")
                print("Deleted plug-in assembly \(id) and its plug-in types.")
            }
        }
    }

    /// A plug-in type's id: as given, or the one whose typename (or name) is `text`.
    static func resolveType(_ text: String, api: WebAPIClient) async throws -> String {
        try await api.resolve(
            text,
            in: "plugintypes",
            idColumn: "plugintypeid",
            what: "plug-in type",
            by: ["typename", "name"],
            hint: "'conduit plugin list' shows them"
        )
    }
}

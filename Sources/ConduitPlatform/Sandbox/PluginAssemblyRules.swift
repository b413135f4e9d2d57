import ConduitContext
import Foundation
import SQLKit
import WasmKit

/// The checks every Create and Update of a `pluginassembly` row goes through. An uploaded assembly runs in the
/// sandbox (`isolationmode` 2, the default when none is given): its `content` must be a WebAssembly module (binary
/// or text, base64) that imports nothing but the sandbox's host functions, so a bad upload is refused at once with
/// what is wrong rather than failing each step later. Isolation mode 1 (None, full trust) belongs to one row, made by
/// the platform: the plug-ins compiled into the server.
enum PluginAssemblyRules {
    /// The name of the compiled-in plug-ins' assembly (`plugintype.assemblyname` of their types).
    static let compiledAssemblyName = "Conduit"
    /// The id of the compiled-in plug-ins' `pluginassembly` row (the same in every organization).
    static let compiledAssemblyId = NameBasedGuid.make("pluginassembly:Conduit")

    /// The compiled-in plug-ins' row: isolation mode 1 (None), source type 2 (Normal: not stored in the database).
    static var compiledAssemblyRow: Entity {
        Entity(
            logicalName: "pluginassembly",
            id: compiledAssemblyId,
            attributes: [
                ("name", .string(compiledAssemblyName)),
                ("isolationmode", .optionSetValue(OptionSetValue(1))),
                ("sourcetype", .optionSetValue(OptionSetValue(2))),
                ("version", .string("1.0.0.0")),
                ("culture", .string("neutral")),
                (
                    "description",
                    .string(
                        "The plug-ins compiled into the Conduit server. They run in full trust, outside the sandbox."
                    )
                ),
            ]
        )
    }

    /// The rule on `pluginassembly` (Create and Update, in the operation's transaction `db`). New content of an
    /// existing assembly must still export the function of each of its plug-in types.
    static func check(_ target: inout Entity, current: Entity?, db: any SQLDatabase) async throws {
        var name = "(no name)"
        if case .string(let text)? = target.attributes["name"] ?? current?.attributes["name"] { name = text }
        if target.id == compiledAssemblyId || current?.id == compiledAssemblyId {
            guard current == nil, target.attributes["isolationmode"]?.optionValue == 1 else {
                throw PlatformError(
                    .invalidArgument,
                    "The plug-in assembly '\(compiledAssemblyName)' holds the plug-ins compiled into the server (isolationmode 1, None); it cannot be changed."
                )
            }
            return
        }
        var isolation = (target.attributes["isolationmode"] ?? current?.attributes["isolationmode"])?.optionValue
        if current == nil, isolation == nil {
            target.attributes["isolationmode"] = .optionSetValue(OptionSetValue(2))
            isolation = 2
        }
        if current == nil, target.attributes["sourcetype"]?.optionValue == nil {
            target.attributes["sourcetype"] = .optionSetValue(OptionSetValue(0))
        }
        switch isolation {
        case 2: break
        case 1:
            throw PlatformError(
                .invalidArgument,
                "The plug-in assembly '\(name)' cannot be saved: isolationmode 1 (None, full trust) is for the plug-ins compiled into Conduit; an uploaded assembly runs in the sandbox: give isolationmode 2 (Sandbox), or leave it out."
            )
        default:
            throw PlatformError(
                .invalidArgument,
                "The plug-in assembly '\(name)' cannot be saved: isolationmode \(isolation.map(String.init) ?? "null") is not supported; Conduit runs uploaded assemblies in the sandbox: give 2 (Sandbox), or leave it out."
            )
        }
        guard current == nil || target.attributes["content"] != nil else { return }
        guard case .string(let content)? = target.attributes["content"], !content.isEmpty else {
            throw PlatformError(
                .invalidArgument,
                "The plug-in assembly '\(name)' cannot be saved: it needs its content, the WebAssembly module (a .wasm binary or WAT text) in base64."
            )
        }
        guard let bytes = Data(base64Encoded: content, options: .ignoreUnknownCharacters) else {
            throw PlatformError(
                .invalidArgument,
                "The plug-in assembly '\(name)' cannot be saved: its content is not base64 (it must be the WebAssembly module, a .wasm binary or WAT text, in base64)."
            )
        }
        let module: Module
        do {
            module = try SandboxABI.parse(Array(bytes), assembly: name)
        } catch let error as SandboxError {
            throw PlatformError(.invalidArgument, "The plug-in assembly '\(name)' cannot be saved: \(error.message).")
        }
        guard let current else { return }
        let exported = SandboxABI.entryPoints(module)
        let missing = try await db.raw(
            "SELECT typename FROM plugintype WHERE pluginassemblyid = \(bind: current.id.description) ORDER BY typename"
        ).all().compactMap { try? $0.decode(column: "typename", as: String?.self) }.filter {
            !exported.contains($0)
        }
        guard missing.isEmpty else {
            throw PlatformError(
                .invalidArgument,
                "The plug-in assembly '\(Self.text(target, current, "name") ?? current.id.description)' cannot be saved: its plug-in types \(missing.map { "'\($0)'" }.joined(separator: ", ")) name functions the new content does not export (it exports \(Self.list(exported))). Export them, or delete those types first."
            )
        }
    }
}

extension PluginAssemblyRules {
    /// Runs before a `pluginassembly` or `plugintype` row is deleted, in the Delete's transaction. The compiled-in
    /// assembly and its types cannot be deleted; nor can an assembly or type that steps still use (as in Dataverse:
    /// delete those steps first, or point them elsewhere). An assembly's plug-in types are deleted with it.
    static func beforeDelete(table: String, id: Guid, current: Entity?, db: any SQLDatabase) async throws {
        let name: String
        if case .string(let text)? = current?.attributes[table == "pluginassembly" ? "name" : "typename"] {
            name = text
        } else {
            name = id.description
        }
        let what = table == "pluginassembly" ? "plug-in assembly" : "plug-in type"
        var assembly: Guid? = table == "pluginassembly" ? id : nil
        if case .entityReference(let reference)? = current?.attributes["pluginassemblyid"] { assembly = reference.id }
        if assembly == compiledAssemblyId {
            throw PlatformError(
                .invalidArgument,
                "The \(what) '\(name)' cannot be deleted: it is compiled into the server (assembly '\(compiledAssemblyName)', isolationmode 1)."
            )
        }
        let handlers: SQLQueryString =
            table == "pluginassembly"
            ? "IN (SELECT plugintypeid FROM plugintype WHERE pluginassemblyid = \(bind: id.description))"
            : "= \(bind: id.description)"
        let steps = try await db.raw(
            "SELECT name FROM sdkmessageprocessingstep WHERE eventhandler \(handlers) ORDER BY name"
        ).all().map { (try? $0.decode(column: "name", as: String?.self)).flatMap { $0 } ?? "(no name)" }
        if !steps.isEmpty {
            let shown = steps.prefix(3).map { "'\($0)'" }.joined(separator: ", ") + (steps.count > 3 ? ", …" : "")
            throw PlatformError(
                .invalidArgument,
                "The \(what) '\(name)' cannot be deleted: \(steps.count == 1 ? "a step uses" : "\(steps.count) steps use") \(table == "pluginassembly" ? "its plug-in types" : "it") (\(shown)). Delete those steps first (conduit step remove)."
            )
        }
        if table == "pluginassembly" {
            try await db.raw("DELETE FROM plugintype WHERE pluginassemblyid = \(bind: id.description)").run()
        }
    }

    /// The rule on `plugintype` (Create and Update, in the operation's transaction `db`): a sandboxed assembly's
    /// plug-in type must name a function its module exports.
    static func checkType(_ target: Entity, current: Entity?, db: any SQLDatabase) async throws {
        var assembly: Guid?
        if case .entityReference(let reference)? = target.attributes["pluginassemblyid"]
            ?? current?.attributes["pluginassemblyid"]
        {
            assembly = reference.id
        }
        guard let typeName = Self.text(target, current, "typename"), let assembly, assembly != compiledAssemblyId,
            let row = try await db.raw(
                "SELECT name, isolationmode, content FROM pluginassembly WHERE pluginassemblyid = \(bind: assembly.description)"
            ).first(),
            try row.decode(column: "isolationmode", as: Int?.self) == 2,
            let content = try row.decode(column: "content", as: String?.self)
        else { return }
        let name = try row.decode(column: "name", as: String?.self) ?? assembly.description
        guard let bytes = Data(base64Encoded: content, options: .ignoreUnknownCharacters),
            let module = try? SandboxABI.parse(Array(bytes), assembly: name)
        else { return }
        let exported = SandboxABI.entryPoints(module)
        guard exported.contains(typeName) else {
            throw PlatformError(
                .invalidArgument,
                "The plug-in type '\(typeName)' cannot be saved: the plug-in assembly '\(name)' exports no function '\(typeName)' (it exports \(Self.list(exported))); a sandboxed plug-in type's typename is the function it runs."
            )
        }
    }

    private static func text(_ target: Entity, _ current: Entity?, _ column: String) -> String? {
        if case .string(let text)? = target.attributes[column] ?? current?.attributes[column] { return text }
        return nil
    }

    private static func list(_ names: [String]) -> String {
        names.isEmpty ? "no other function" : names.map { "'\($0)'" }.joined(separator: ", ")
    }
}

import ConduitContext
import Foundation
import WAT
@_spi(Fuzzing) import WasmKit

/// The ABI between Conduit and a sandboxed plug-in (docs/sandbox.md). Pointers and lengths are `i32` offsets and
/// byte counts in the guest's exported `memory`; text is UTF-8.
///
/// Host functions, module `conduit` (a guest imports only those it uses; any other import is refused):
/// - `trace(ptr, len)`: a line for the step's trace (the SDK's `ITracingService.Trace`).
/// - `fail(ptr, len)`: the message the step fails with when the export returns non-zero
///   (`InvalidPluginExecutionException`).
/// - `set_shared_variable(key_ptr, key_len, value_ptr, value_len)`: a string shared variable for later steps.
/// - `post(endpoint_ptr, endpoint_len) -> i32`: posts the execution context to the service endpoint whose id
///   (a GUID as text) is given (`IServiceEndpointNotificationService.Execute`), as the step's user; returns the
///   length of the two-way answer (0 for other contracts), which `answer` copies. A failed post stops the execution
///   with the post's error (an asynchronous step's job then waits and retries).
/// - `answer(ptr)`: copies the last answer to `ptr`.
/// - `execute(request_ptr, request_len) -> i32`: an organization-service request as JSON, as the step's user
///   (`{"message":"Create","target":{"logicalname":"task","attributes":{"subject":"…"}}}`; the messages and their
///   members are in ``SandboxOrganizationRequest``); returns the length of the JSON response, which `answer` copies.
enum SandboxABI {
    static let hostModule = "conduit"
    static let hostFunctions: Set<String> = ["trace", "fail", "set_shared_variable", "post", "answer", "execute"]

    /// Reads an assembly's content: WebAssembly binary, or the text format (WAT).
    static func parse(_ bytes: [UInt8], assembly: String) throws -> Module {
        var binary = bytes
        if !bytes.starts(with: [0x00, 0x61, 0x73, 0x6D]) {
            guard let text = String(bytes: bytes, encoding: .utf8) else {
                throw SandboxError(
                    "the content of plug-in assembly '\(assembly)' is neither a WebAssembly module (it does not start with \\0asm) nor text (it is not UTF-8)"
                )
            }
            do {
                binary = try wat2wasm(text)
            } catch {
                throw SandboxError(
                    "the content of plug-in assembly '\(assembly)' is not a WebAssembly module (it does not start with \\0asm), and as WebAssembly text it does not parse: \(error)"
                )
            }
        }
        let module: Module
        do {
            module = try parseWasm(bytes: binary)
        } catch {
            throw SandboxError("plug-in assembly '\(assembly)' is not a valid WebAssembly module: \(error)")
        }
        for entry in module.imports where entry.module != hostModule || !hostFunctions.contains(entry.name) {
            throw SandboxError(
                "plug-in assembly '\(assembly)' imports \(entry.module).\(entry.name), which the sandbox does not provide (it provides \(hostFunctions.sorted().map { "conduit.\($0)" }.joined(separator: ", ")))"
            )
        }
        guard module.exports.contains(where: { if case .memory = $0.descriptor { $0.name == "memory" } else { false } })
        else {
            throw SandboxError(
                "plug-in assembly '\(assembly)' exports no memory named 'memory', which the sandbox's ABI needs (docs/sandbox.md)"
            )
        }
        guard
            module.exports.contains(where: { if case .function = $0.descriptor { $0.name == "alloc" } else { false } })
        else {
            throw SandboxError(
                "plug-in assembly '\(assembly)' exports no function 'alloc' (alloc(size: i32) -> i32), which the sandbox's ABI needs (docs/sandbox.md)"
            )
        }
        return module
    }

    /// The functions of `module` a plug-in type can name: its exported functions but `alloc`, sorted.
    static func entryPoints(_ module: Module) -> [String] {
        module.exports.compactMap { entry in
            guard case .function = entry.descriptor, entry.name != "alloc" else { return nil }
            return entry.name
        }.sorted()
    }

    /// Instantiates `module` in a new store, under `run`'s limits, and calls `export` with `input`; returns the
    /// export's status.
    static func run(
        module: Module,
        export: String,
        input: [UInt8],
        configuration: [UInt8],
        run: SandboxRun
    ) throws -> Int32 {
        let engine = Engine(configuration: EngineConfiguration(fuelMetering: true))
        let store = Store(engine: engine)
        store.resourceLimiter = run.cap
        store.fuel = Fuel(remaining: run.limits.fuel)
        var imports = Imports()
        for (name, function) in hostFunctions(store: store, run: run) {
            imports.define(module: hostModule, name: name, function)
        }
        let instance: Instance
        do {
            instance = try module.instantiate(store: store, imports: imports)
        } catch let trap as Trap {
            throw trap
        } catch {
            throw SandboxError("cannot instantiate the module: \(error)")
        }
        guard let memory = instance.exports[memory: "memory"] else {
            throw SandboxError("the module exports no memory named 'memory'")
        }
        guard let alloc = instance.exports[function: "alloc"] else {
            throw SandboxError("the module exports no 'alloc' function (alloc(size: i32) -> i32)")
        }
        guard let entry = instance.exports[function: export] else {
            throw SandboxError("the module exports no function '\(export)' (the plug-in type's typename)")
        }
        var arguments: [Value] = []
        for bytes in [input, configuration] {
            let allocated = try alloc([.i32(UInt32(bytes.count))])
            guard case .i32(let pointer)? = allocated.first else {
                throw SandboxError("alloc returned \(allocated), not an i32")
            }
            try write(bytes, to: pointer, memory: memory)
            arguments += [.i32(pointer), .i32(UInt32(bytes.count))]
        }
        let results = try entry(arguments)
        guard case .i32(let status)? = results.first else {
            throw SandboxError("'\(export)' returned \(results), not an i32 status")
        }
        return Int32(bitPattern: status)
    }

    /// The host functions, bound to one execution.
    static func hostFunctions(store: Store, run: SandboxRun) -> [(String, Function)] {
        [
            (
                "trace",
                Function(store: store, parameters: [.i32, .i32]) { caller, arguments in
                    try run.checkDeadline("trace")
                    run.trace(try text(caller, arguments, 0))
                    return []
                }
            ),
            (
                "fail",
                Function(store: store, parameters: [.i32, .i32]) { caller, arguments in
                    try run.checkDeadline("fail")
                    run.fail(try text(caller, arguments, 0))
                    return []
                }
            ),
            (
                "set_shared_variable",
                Function(store: store, parameters: [.i32, .i32, .i32, .i32]) { caller, arguments in
                    try run.checkDeadline("set_shared_variable")
                    try run.setSharedVariable(try text(caller, arguments, 0), try text(caller, arguments, 2))
                    return []
                }
            ),
            (
                "post",
                Function(store: store, parameters: [.i32, .i32], results: [.i32]) { caller, arguments in
                    try run.checkDeadline("post")
                    let idText = try text(caller, arguments, 0)
                    guard let id = Guid(idText) else {
                        throw SandboxError("post: '\(idText)' is not a service endpoint id (a GUID)")
                    }
                    let context = run.context
                    let services = run.services
                    let answer: String?
                    do {
                        answer = try run.blocking {
                            try await services.notificationService.execute(
                                EntityReference(logicalName: "serviceendpoint", id: id),
                                context: context
                            )
                        }
                    } catch {
                        throw HostCallFailure(underlying: error)
                    }
                    try run.checkDeadline("post")
                    let bytes = Array((answer ?? "").utf8)
                    run.setAnswer(bytes)
                    return [.i32(UInt32(bytes.count))]
                }
            ),
            (
                "answer",
                Function(store: store, parameters: [.i32]) { caller, arguments in
                    try run.checkDeadline("answer")
                    guard case .i32(let pointer) = arguments[0], let memory = memory(caller) else { return [] }
                    try write(run.answer, to: pointer, memory: memory)
                    return []
                }
            ),
            (
                "execute",
                Function(store: store, parameters: [.i32, .i32], results: [.i32]) { caller, arguments in
                    try run.checkDeadline("execute")
                    let request = try text(caller, arguments, 0)
                    let services = run.services
                    let response: String
                    do {
                        response = try run.blocking {
                            try await SandboxOrganizationRequest.execute(request, service: services.organizationService)
                        }
                    } catch let error as SandboxError {
                        throw error
                    } catch {
                        throw HostCallFailure(underlying: error)
                    }
                    try run.checkDeadline("execute")
                    let bytes = Array(response.utf8)
                    run.setAnswer(bytes)
                    return [.i32(UInt32(bytes.count))]
                }
            ),
        ]
    }

    private static func memory(_ caller: borrowing WasmKit.Caller) -> Memory? {
        caller.instance?.exports[memory: "memory"]
    }

    /// The UTF-8 text at (`arguments[index]`, `arguments[index + 1]`), bounds-checked.
    private static func text(_ caller: borrowing WasmKit.Caller, _ arguments: [Value], _ index: Int) throws -> String {
        guard case .i32(let pointer) = arguments[index], case .i32(let length) = arguments[index + 1] else {
            throw SandboxError("a host function was called with arguments of the wrong types")
        }
        guard let memory = memory(caller) else { throw SandboxError("the module exports no memory named 'memory'") }
        guard Int(pointer) + Int(length) <= memory.byteCount else {
            throw SandboxError(
                "a host function was given bytes \(pointer)..<\(Int(pointer) + Int(length)) outside the guest's memory (\(memory.byteCount) bytes)"
            )
        }
        return memory.withUnsafeBufferPointer(offset: UInt(pointer), count: Int(length)) {
            String(decoding: $0, as: UTF8.self)
        }
    }

    private static func write(_ bytes: [UInt8], to pointer: UInt32, memory: Memory) throws {
        guard Int(pointer) + bytes.count <= memory.byteCount else {
            throw SandboxError(
                "\(bytes.count) bytes at \(pointer) would fall outside the guest's memory (\(memory.byteCount) bytes)"
            )
        }
        memory.withUnsafeMutableBufferPointer(offset: UInt(pointer), count: bytes.count) { buffer in
            buffer.copyBytes(from: bytes)
        }
    }

    /// A trap, said plainly: the fuel budget, the memory cap, or the guest's own fault.
    static func describe(_ trap: Trap, limits: SandboxLimits) -> String {
        let text = "\(trap)"
        if text.lowercased().contains("fuel") {
            return
                "it used its whole execution budget (\(limits.fuel) fuel, about one unit per instruction): an endless loop, or too much work for one step (\(text))"
        }
        return text
    }
}

import ConduitTestSupport
import Foundation
import Testing

@testable import ConduitContext

/// Conduit's binary output, decoded by the independent Python package `wcf` (PyPI), gives the same XML infoset as
/// the XML codec's output. `.ci/run` creates the venv and sets `CONDUIT_PYTHON`.
@Suite("binary read by the independent wcf decoder")
struct WCFInteropTests {
    static let python = ProcessInfo.processInfo.environment["CONDUIT_PYTHON"]
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Interop/wcf_infoset.py").path

    @Test("CI provides the Python decoder")
    func pythonIsThereInCI() {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            #expect(Self.python != nil, "CI must set CONDUIT_PYTHON (bash .ci/run does)")
        }
    }

    static func compare(_ context: RemoteExecutionContext, name: String) throws -> (status: Int32, output: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-wcf-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = directory.appendingPathComponent("body.bin")
        let xml = directory.appendingPathComponent("body.xml")
        try Data(ContextCodec.encode(context, format: .binary)).write(to: binary)
        try Data(ContextCodec.encode(context, format: .xml)).write(to: xml)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python!)
        process.arguments = [script, binary.path, xml.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    @Test(
        "every fixture: wcf's reading of the binary equals the XML infoset",
        .enabled(if: python != nil, "CONDUIT_PYTHON is not set: run bash .ci/run, which installs wcf"),
        arguments: (try? Fixtures.jsonContexts().map(\.name)) ?? []
    )
    func fixtures(name: String) async throws {
        let context = try ContextCodec.decode(try Fixtures.jsonContext(name), format: .json)
        let result = try await offPool { try Self.compare(context, name: name) }
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.hasPrefix("same infoset"))
    }

    @Test(
        "every value type: wcf's reading of the binary equals the XML infoset",
        .enabled(if: python != nil, "CONDUIT_PYTHON is not set: run bash .ci/run, which installs wcf")
    )
    func everyValue() async throws {
        var context = Samples.context(with: .null)
        context.inputParameters = KeyedCollection(
            Samples.everyValue.map { KeyValuePair(key: $0.name, value: $0.value) }
        )
        let built = context
        let result = try await offPool { try Self.compare(built, name: "every value") }
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.hasPrefix("same infoset"))
    }
}

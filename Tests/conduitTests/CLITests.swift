import ConduitTestSupport
import Foundation
import Testing

/// `conduit context` run as a process, as a user runs it.
@Suite("conduit context")
struct CLITests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ConduitContextTests/Fixtures/contexts/webhook-update-contact-docs.json").path

    struct Run {
        var status: Int32
        var stdout: [UInt8]
        var stderr: String
    }

    /// The `conduit` binary built beside the test bundle.
    static var binary: URL {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        var directory = executable.deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("conduit")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            directory.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: ".build/debug/conduit")
    }

    static func run(_ arguments: [String], stdin: [UInt8] = [], executable: URL? = nil) async throws -> Run {
        try await offPool { try runBlocking(arguments, stdin: stdin, executable: executable) }
    }

    /// ``run(_:stdin:executable:)``, on the calling thread.
    static func runBlocking(_ arguments: [String], stdin: [UInt8], executable: URL?) throws -> Run {
        let process = Process()
        process.executableURL = executable ?? binary
        process.arguments = arguments
        let input = Pipe()
        let output = Pipe()
        let error = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = error
        try process.run()
        input.fileHandleForWriting.write(Data(stdin))
        try input.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: Array(out), stderr: String(decoding: err, as: UTF8.self))
    }

    @Test("convert goes through every pair of formats and back to the same JSON")
    func convertAllPairs() async throws {
        let original = try await Self.run([
            "context", "convert", "--from", "json", "--to", "json", "--input", Self.fixture,
        ])
        #expect(original.status == 0)
        for middle in ["xml", "binary", "json"] {
            let there = try await Self.run([
                "context", "convert", "--from", "json", "--to", middle, "--input", Self.fixture,
            ])
            #expect(there.status == 0, "\(there.stderr)")
            // The binary DateTime record has no offset (as in .NET): read it back in the writer's zone (-07:00).
            let back = try await Self.run(
                ["context", "convert", "--from", middle, "--to", "json", "--time-zone=-07:00"],
                stdin: there.stdout
            )
            #expect(back.status == 0, "\(back.stderr)")
            #expect(back.stdout == original.stdout, "json → \(middle) → json changed the context")
        }
    }

    @Test("convert writes to --output")
    func convertToFile() async throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-cli-\(UUID()).xml").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let run = try await Self.run([
            "context", "convert", "--from", "json", "--to", "xml", "--input", Self.fixture, "--output", output,
        ])
        #expect(run.status == 0)
        let written = try String(contentsOfFile: output, encoding: .utf8)
        #expect(written.hasPrefix(#"<RemoteExecutionContext xmlns="http://schemas.microsoft.com/xrm/2011/Contracts""#))
    }

    @Test("inspect summarises the context and detects the format")
    func inspect() async throws {
        let binary = try await Self.run([
            "context", "convert", "--from", "json", "--to", "binary", "--input", Self.fixture,
        ])
        let run = try await Self.run(["context", "inspect"], stdin: binary.stdout)
        #expect(run.status == 0, "\(run.stderr)")
        let text = String(decoding: run.stdout, as: UTF8.self)
        #expect(text.contains("message:        Update of contact 6d81597f-0f9f-e711-8122-000d3aa2331c"))
        #expect(text.contains("stage:          40 PostOperation, mode 1 asynchronous, depth 1"))
        #expect(text.contains("target columns: firstname, contactid, fullname, yomifullname, modifiedon, modifiedby"))
        #expect(text.contains("post-images:    AsynchronousStepPrimaryName"))
        #expect(text.contains("parent context: Update stage 30"))
        #expect(text.contains("size:           binary "))
        #expect(text.contains("of binary)"))
    }

    @Test("bad input exits with code 2 and one message naming the position and the problem")
    func badInput() async throws {
        let cases: [(args: [String], stdin: String, message: String)] = [
            (
                ["context", "inspect", "--format", "json"], #"{"Depth": x}"#,
                "line 1, column 11 (byte 10): Depth must be a number"
            ),
            (
                ["context", "convert", "--from", "xml", "--to", "json"],
                #"<RemoteExecutionContext xmlns="http://schemas.microsoft.com/xrm/2011/Contracts"><Depth>1</Dept>"#,
                "does not match"
            ),
            (["context", "convert", "--from", "binary", "--to", "json"], "\u{1}\u{2}", "byte 0"),
            (["context", "inspect"], "hello", "cannot tell the format"),
            (["context", "inspect", "--input", "/nonexistent/file"], "", "cannot read /nonexistent/file"),
            (
                ["context", "convert", "--from", "json", "--to", "xml", "--time-zone", "Mars/Olympus"], "{}",
                "unknown time zone 'Mars/Olympus'"
            ),
        ]
        for item in cases {
            let run = try await Self.run(item.args, stdin: Array(item.stdin.utf8))
            #expect(run.status == 2, "\(item.args): \(run.stderr)")
            #expect(run.stderr.contains(item.message), "\(item.args): \(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1)
            #expect(run.stdout.isEmpty)
        }
    }

    @Test("an unknown format is a usage error that lists the formats")
    func unknownFormat() async throws {
        let run = try await Self.run(["context", "convert", "--from", "yaml", "--to", "json"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("json"))
    }
}

import AsyncHTTPClient
import ConduitPlatform
import Foundation
import NIOHTTP1
import Testing

/// `conduit jobs` against a live `conduit serve`.
@Suite("conduit jobs", .serialized)
struct JobsCLITests {
    @Test("list with filters, JSON, show, retry; refused changes and bad arguments say why")
    func jobsCommands() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-jobs-cli-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await CrashSafetyTests.withClient { client in try await Self.run(client: client, directory: directory) }
    }

    static func run(client: HTTPClient, directory: String) async throws {
        let server = try await CrashSafetyTests.Server(dataDirectory: directory)
        defer { server.stop() }
        let connection = ["--url", server.url, "--key-file", directory + "/admin.key"]
        // An async step whose handler is no plug-in compiled into the server: its jobs fail at once (internal).
        let step = try await CrashSafetyTests.registerAsyncStep(
            client,
            server,
            typeName: "Not.Compiled.In",
            name: "Doomed"
        )
        #expect(step == 204)
        for name in ["One", "Two"] {
            _ = try await CrashSafetyTests.send(client, server, .POST, "contacts", #"{"lastname":"\#(name)"}"#)
        }
        // Both jobs fail at once.
        var failedJSON: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(30)
        while failedJSON.count < 2, Date() < deadline {
            let listed = try await CLITests.run(["jobs", "list", "--status", "failed", "--json"] + connection)
            #expect(listed.status == 0, "\(listed.stderr)")
            failedJSON = (try? JSONSerialization.jsonObject(with: Data(listed.stdout))) as? [[String: Any]] ?? []
            if failedJSON.count < 2 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(failedJSON.count == 2)
        let id = try #require(failedJSON.first?["asyncoperationid"] as? String)

        let table = try await CLITests.run(
            ["jobs", "list", "--status", "failed", "--table", "contact", "--message", "Create", "--since", "1h"]
                + connection
        )
        let text = String(decoding: table.stdout, as: UTF8.self)
        #expect(table.status == 0, "\(table.stderr)")
        #expect(text.hasPrefix("ID"))
        #expect(text.contains(id) && text.contains("failed") && text.contains("The step 'Doomed' has a handler"))
        #expect(text.contains("2 jobs"))
        let none = try await CLITests.run(["jobs", "list", "--status", "succeeded"] + connection)
        #expect(String(decoding: none.stdout, as: UTF8.self).contains("0 jobs"))

        let show = try await CLITests.run(["jobs", "show", id] + connection)
        let shown = String(decoding: show.stdout, as: UTF8.self)
        #expect(show.status == 0, "\(show.stderr)")
        #expect(shown.contains("31 (failed)"))
        #expect(shown.contains("execution context (data):") && shown.contains("\"MessageName\" : \"Create\""))

        // A failed job cannot be canceled; it can be retried (and fails again, as its handler still is missing).
        let cancel = try await CLITests.run(["jobs", "cancel", id] + connection)
        #expect(cancel.status == 2)
        #expect(cancel.stderr.contains("A system job that is Failed cannot be canceled"))
        let retry = try await CLITests.run(["jobs", "retry", id] + connection)
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(String(decoding: retry.stdout, as: UTF8.self).contains("\(id) retried"))

        // Bad arguments and an unreachable server.
        let badStatus = try await CLITests.run(["jobs", "list", "--status", "nope"] + connection)
        #expect(badStatus.status != 0 && badStatus.stderr.contains("--status must be one of"))
        let badId = try await CLITests.run(["jobs", "show", "not-a-guid"] + connection)
        #expect(badId.status != 0 && badId.stderr.contains("must be a GUID"))
        let unreachable = try await CLITests.run(
            ["jobs", "list", "--url", "http://127.0.0.1:1/api/data/v9.2/", "--key-file", directory + "/admin.key"]
        )
        #expect(unreachable.status == 2 && unreachable.stderr.contains("cannot reach"))
        let noKey = try await CLITests.run(["jobs", "list", "--url", server.url, "--key-file", directory + "/none.key"])
        #expect(noKey.status == 2 && noKey.stderr.contains("cannot read the API key file"))
    }
}

import AsyncHTTPClient
import ConduitTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The System Jobs console in a real browser: `Tests/Console/console_browser.py` drives Chromium (Selenium and
/// chromedriver, which `.ci/run` installs) against a live `conduit serve`: sign-in, filtering, a job's detail, a
/// retry that changes the job's state, a live update, the endpoints and bus pages.
@Suite("console in a browser", .serialized)
struct ConsoleBrowserTests {
    static let chromium = ProcessInfo.processInfo.environment["CONDUIT_CHROMIUM"] ?? "/usr/bin/chromium"
    static let chromedriver = ProcessInfo.processInfo.environment["CONDUIT_CHROMEDRIVER"] ?? "/usr/bin/chromedriver"

    /// The Python with Selenium: `CONDUIT_TEST_PYTHON` (as `.ci/run` sets it), else the repository's `.venv`.
    static var python: String {
        if let python = ProcessInfo.processInfo.environment["CONDUIT_TEST_PYTHON"], !python.isEmpty { return python }
        return AzureSDKConformanceTests.repositoryRoot.appendingPathComponent(".venv/bin/python").path
    }

    /// What is missing to run the browser test, or `nil` when everything is there.
    static func missing() async -> String? {
        for path in [chromium, chromedriver, python] where !FileManager.default.isExecutableFile(atPath: path) {
            return "\(path) is not installed"
        }
        let check = try? await run([python, "-c", "import selenium"], environment: [:], timeout: 30)
        return check?.status == 0 ? nil : "Selenium is not installed for \(python)"
    }

    struct Run {
        var status: Int32
        var output: String
    }

    /// Runs a program with extra environment variables; kills it after `timeout` seconds.
    static func run(_ arguments: [String], environment: [String: String], timeout: Double) async throws -> Run {
        try await offPool { try runBlocking(arguments, environment: environment, timeout: timeout) }
    }

    static func runBlocking(_ arguments: [String], environment: [String: String], timeout: Double) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let timer = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer)
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        timer.cancel()
        return Run(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    static func request(
        _ client: HTTPClient,
        _ base: String,
        _ key: String,
        _ method: HTTPMethod,
        _ path: String,
        _ body: String? = nil
    ) async throws -> (status: UInt, json: [String: Any]) {
        let reply = try await CrashSafetyTests.request(client, url: base + path, key: key, method, body)
        let json = (try? JSONSerialization.jsonObject(with: Data(reply.body.utf8))) as? [String: Any] ?? [:]
        return (reply.status, json)
    }

    @Test("sign-in, filters, a job's detail, retry now, a live update, endpoints and bus pages in Chromium")
    func browser() async throws {
        if let missing = await Self.missing() {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                Issue.record("The browser test cannot run: \(missing) (.ci/run installs it).")
            } else {
                print("console browser test skipped: \(missing)")
            }
            return
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-console-\(UUID())").path
        // A post that fails fails at once (give-up after 1.8 s), so that the job is Failed for the page to retry.
        let server = try await CrashSafetyTests.Server(
            dataDirectory: directory,
            arguments: ["--retry-give-up", "0.0005"]
        )
        defer {
            server.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
        let base = "http://127.0.0.1:\(server.port)/"
        // An endpoint to a queue that does not exist yet: its first job fails.
        let endpoint = try await EndpointEndToEndTests.cli([
            "endpoint", "add", "--url", server.url, "--key-file", directory + "/admin.key", "--name", "console-demo",
            "--contract", "queue", "--format", "json", "--connection-string", server.busConnectionString,
            "--path", "console-demo",
        ]).trimmingCharacters(in: .whitespacesAndNewlines)
        let failedJob = try await CrashSafetyTests.withClient { client -> String in
            let step = try await Self.request(
                client,
                base,
                server.key,
                .POST,
                "api/console/steps",
                #"{"endpointId":"\#(endpoint)","message":"Create","table":"contact"}"#
            )
            #expect(step.status == 201, "\(step.json)")
            let contact = try await Self.request(
                client,
                base,
                server.key,
                .POST,
                "api/data/v9.2/contacts",
                #"{"firstname":"Ada","lastname":"Lovelace"}"#
            )
            #expect(contact.status == 204)
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                let failed = try await Self.request(client, base, server.key, .GET, "api/console/jobs?status=31")
                if let id = (failed.json["jobs"] as? [[String: Any]])?.first?["id"] as? String { return id }
                try await Task.sleep(for: .milliseconds(200))
            }
            throw CancellationError()
        }
        // Now the queue exists: a retry from the page succeeds.
        _ = try await EndpointEndToEndTests.cli([
            "bus", "queue", "create", "console-demo", "--connection-string", server.busConnectionString,
        ])
        var environment = [
            "CONDUIT_CONSOLE_URL": base, "CONDUIT_CONSOLE_KEY": server.key, "CONDUIT_CONSOLE_FAILED_JOB": failedJob,
            "CONDUIT_CHROMIUM": Self.chromium, "CONDUIT_CHROMEDRIVER": Self.chromedriver,
        ]
        // To refresh the screenshots in docs/: CONDUIT_CONSOLE_SCREENSHOTS=$PWD/docs/console-screenshots swift test --filter Console…
        if let screenshots = ProcessInfo.processInfo.environment["CONDUIT_CONSOLE_SCREENSHOTS"] {
            environment["CONDUIT_CONSOLE_SCREENSHOTS"] = screenshots
        }
        let script = AzureSDKConformanceTests.repositoryRoot.appendingPathComponent("Tests/Console/console_browser.py")
        let run = try await Self.run([Self.python, script.path], environment: environment, timeout: 240)
        print(run.output)
        let summary = run.output.split(separator: "\n").last { $0.hasPrefix("CONSOLE ") }
        #expect(summary?.hasSuffix(" failed=0") == true, "\(run.output)")
        #expect(run.status == 0)
        // The retry the page asked for reached the job.
        let status = try await CrashSafetyTests.withClient { client in
            try await Self.request(client, base, server.key, .GET, "api/console/jobs/\(failedJob)").json["statuscode"]
                as? Int
        }
        #expect(status == 30)
    }
}

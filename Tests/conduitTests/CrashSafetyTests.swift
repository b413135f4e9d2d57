import AsyncHTTPClient
import ConduitContext
import ConduitPlatform
import ConduitTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// `conduit serve` killed with SIGKILL in the middle of an operation: the change and its system job are both there
/// or both absent after a restart.
@Suite("crash safety", .serialized)
struct CrashSafetyTests {
    /// A `conduit serve` process on a free port.
    final class Server: @unchecked Sendable {  // only used from one test task
        let process = Process()
        let output = Pipe()
        var url = ""
        var key = ""

        init(
            dataDirectory: String,
            port: Int = 0,
            arguments: [String] = [],
            environment: [String: String] = [:],
            errorLog: String? = nil
        ) async throws {
            process.executableURL = CLITests.binary
            process.arguments =
                ["serve", "--port", String(port), "--amqp-port", "0", "--data-dir", dataDirectory] + arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            process.standardOutput = output
            if let errorLog {
                FileManager.default.createFile(atPath: errorLog, contents: nil)
                process.standardError = FileHandle(forWritingAtPath: errorLog) ?? FileHandle.nullDevice
            } else {
                process.standardError = FileHandle.nullDevice
            }
            try process.run()
            let reader = output.fileHandleForReading
            let text = try await offPool {
                var text = ""
                let deadline = Date().addingTimeInterval(60)
                while !text.contains("API key file:"), Date() < deadline {
                    let data = reader.availableData
                    if data.isEmpty { break }
                    text += String(decoding: data, as: UTF8.self)
                }
                return text
            }
            banner = text
            guard let line = text.split(separator: "\n").first(where: { $0.contains("Web API:") }) else {
                throw CancellationError()
            }
            url = String(line.split(separator: " ").last ?? "")
            key = try String(contentsOfFile: dataDirectory + "/admin.key", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            busConnectionString = try String(contentsOfFile: dataDirectory + "/bus.connection", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            amqpConnectionString =
                (try? String(contentsOfFile: dataDirectory + "/amqp.connection", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        }

        /// What the server printed when it started (its addresses and connection strings).
        var banner = ""

        /// The HTTPS port, when the server serves TLS (from its banner).
        var httpsPort: Int? {
            banner.split(separator: "\n").first { $0.contains("HTTPS:") }
                .flatMap { $0.split(separator: " ").first { $0.hasPrefix("https://") } }
                .flatMap { URL(string: String($0))?.port }
        }

        /// The connection string for the Azure SDKs (from `<data-dir>/amqp.connection`).
        var amqpConnectionString = ""

        /// The embedded bus's connection string (from `<data-dir>/bus.connection`).
        var busConnectionString = ""

        /// The port the server listens on.
        var port: Int { URL(string: url)?.port ?? 0 }

        func stop() {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
    }

    static func send(
        _ client: HTTPClient,
        _ server: Server,
        _ method: HTTPMethod,
        _ path: String,
        _ body: String? = nil
    )
        async throws -> (status: UInt, body: String)
    {
        try await request(client, url: server.url + path, key: server.key, method, body)
    }

    /// Sends a request with the API key and a JSON body (if any) to `url`.
    static func request(
        _ client: HTTPClient,
        url: String,
        key: String,
        _ method: HTTPMethod,
        _ body: String? = nil
    ) async throws -> (status: UInt, body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 24)
        return (response.status.code, String(buffer: bytes))
    }

    static func count(_ client: HTTPClient, _ server: Server, _ set: String) async throws -> Int {
        let reply = try await send(client, server, .GET, "\(set)?$count=true&$top=0")
        let json = try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any]
        return json?["@odata.count"] as? Int ?? -1
    }

    @Test("SIGKILL before commit leaves neither the contact nor its job; committed ones survive")
    func killBeforeCommit() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-crash-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            // 1. A server with an async step on Create of contact; one create commits a contact and a job.
            let first = try await Server(dataDirectory: directory)
            let step = try await Self.registerAsyncStep(
                client,
                first,
                typeName: "Crash.Async",
                name: "Crash: Create of contact"
            )
            #expect(step == 204)
            #expect(try await Self.send(client, first, .POST, "contacts", #"{"firstname":"Committed"}"#).status == 204)
            #expect(try await Self.count(client, first, "contacts") == 1)
            #expect(try await Self.count(client, first, "asyncoperations") == 1)
            first.stop()

            // 2. The same data, a server that kills itself after writing the next contact and job, before commit.
            let crashing = try await Server(
                dataDirectory: directory,
                environment: ["CONDUIT_FAULT_KILL_BEFORE_COMMIT": "Create"]
            )
            await #expect(throws: (any Error).self) {
                _ = try await Self.send(client, crashing, .POST, "contacts", #"{"firstname":"Lost"}"#)
            }
            crashing.process.waitUntilExit()
            #expect(crashing.process.terminationReason == .uncaughtSignal)
            #expect(crashing.process.terminationStatus == 9)

            // 3. After a restart: the committed pair is there, the killed one is not there at all.
            let restarted = try await Server(dataDirectory: directory)
            #expect(try await Self.count(client, restarted, "contacts") == 1)
            #expect(try await Self.count(client, restarted, "asyncoperations") == 1)
            let lost = try await Self.send(client, restarted, .GET, "contacts?$filter=firstname%20eq%20'Lost'")
            #expect(!lost.body.contains("Lost"))
            restarted.stop()
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }
}

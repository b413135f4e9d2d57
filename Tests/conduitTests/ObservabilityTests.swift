import AsyncHTTPClient
import ConduitListener
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// `/metrics`, `/ready` and `/health` of a running `conduit serve`, after a change was posted through a system job.
@Suite("observability endpoints")
struct ObservabilityTests {
    static func get(_ client: HTTPClient, _ url: String) async throws -> (status: UInt, body: String) {
        let response = try await client.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
        return (response.status.code, String(buffer: try await response.body.collect(upTo: 1 << 24)))
    }

    @Test(
        "/metrics shows jobs by status, runs, posts, bus depth, HTTP requests and AMQP connections; /ready says ready"
    )
    func metrics() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-metrics-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let server = try await CrashSafetyTests.Server(dataDirectory: directory)
        defer { server.stop() }
        let api = ["--url", server.url, "--key-file", directory + "/admin.key"]
        let bus = ["--connection-string", server.busConnectionString]
        _ = try await EndpointEndToEndTests.cli(["bus", "queue", "create", "metered"] + bus)
        let endpoint = try await EndpointEndToEndTests.cli(
            ["endpoint", "add", "--name", "metered", "--contract", "queue", "--format", "json", "--path", "metered"]
                + bus + api
        ).trimmingCharacters(in: .whitespacesAndNewlines)
        let base = "http://127.0.0.1:\(server.port)"
        try await CrashSafetyTests.withClient { client in
            try await EndpointEndToEndTests.registerStep(client, server, endpoint: endpoint)
            let contact = try await EndpointEndToEndTests.createContact(client, server, "Byron")
            try await EndpointEndToEndTests.renameContact(client, server, contact, to: "Lovelace")
            var text = ""
            for _ in 0..<200 {
                text = try await Self.get(client, base + "/metrics").body
                if text.contains(#"conduit_jobs{status="Succeeded"} 1"#) { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            for expected in [
                #"conduit_jobs{status="Succeeded"} 1"#, #"conduit_jobs{status="Failed"} 0"#,
                #"conduit_job_runs_total{outcome="succeeded"} 1"#,
                #"conduit_post_duration_seconds_count{endpoint="metered",contract="Queue (Persistent)",outcome="ok"} 1"#,
                #"conduit_bus_messages{entity="metered",kind="queue",state="active"} 1"#,
                #"conduit_bus_dead_letters 0"#,
                #"conduit_http_requests_total{method="PATCH",status="204",area="webapi"} 1"#,
                "conduit_amqp_connections 0", "# TYPE conduit_post_duration_seconds histogram",
            ] {
                #expect(text.contains(expected), "missing: \(expected)\n\(text.prefix(4000))")
            }
            // A listener over AMQP: a connection, and its links ($cbs, the receiver) are counted.
            let listener = try await BusAMQPClient.connect(connectionString: server.amqpConnectionString, caFile: nil)
            _ = try await listener.receiver(entity: "metered")
            let counted = try await Self.get(client, base + "/metrics").body
            await listener.close()
            #expect(counted.contains("conduit_amqp_connections 1"), "\(counted.suffix(2000))")
            let links = counted.split(separator: "\n").first { $0.hasPrefix("conduit_amqp_links ") }
            #expect(links.flatMap { Double($0.split(separator: " ")[1]) }.map { $0 >= 2 } == true, "\(links ?? "none")")
            let ready = try await Self.get(client, base + "/ready")
            #expect(ready.status == 200 && ready.body == "ready")
            #expect(try await Self.get(client, base + "/health").body == "ok")
        }
    }

    @Test("JSON log lines of a failed system job carry its job, step, endpoint and correlation ids")
    func jobLogs() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-logs-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = directory + "/serve.log"
        // A post to a queue that does not exist fails; the retry policy gives up at once.
        let server = try await CrashSafetyTests.Server(
            dataDirectory: directory + "/data",
            arguments: ["--log-format", "json", "--retry-give-up", "0.0005", "--trace-log"],
            errorLog: log
        )
        defer { server.stop() }
        let endpoint = try await EndpointEndToEndTests.cli(
            [
                "endpoint", "add", "--name", "nowhere", "--contract", "queue", "--format", "json", "--path", "nowhere",
                "--connection-string", server.busConnectionString, "--url", server.url, "--key-file",
                directory + "/data/admin.key",
            ]
        ).trimmingCharacters(in: .whitespacesAndNewlines)
        try await CrashSafetyTests.withClient { client in
            try await EndpointEndToEndTests.registerStep(client, server, endpoint: endpoint)
            let contact = try await EndpointEndToEndTests.createContact(client, server, "Byron")
            try await EndpointEndToEndTests.renameContact(client, server, contact, to: "Lovelace")
        }
        var line: [String: Any]?
        for _ in 0..<200 where line == nil {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            line = text.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }.first { $0["message"] as? String == "system job failed" }
            if line == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let failed = try #require(line)
        let metadata = failed["metadata"] as? [String: Any] ?? failed
        #expect(metadata["endpoint.id"] as? String == endpoint, "\(failed)")
        for key in ["job.id", "step.id", "correlation.id", "error"] {
            #expect((metadata[key] as? String)?.isEmpty == false, "\(key) in \(failed)")
        }

        // --trace-log: the spans of the update's way, one trace: request → pipeline → system job → post.
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        func span(_ prefix: String, parent: [String: Any]? = nil) -> [String: Any]? {
            lines.first {
                ($0["message"] as? String)?.hasPrefix("span " + prefix) == true
                    && (parent == nil || $0["span.parent_id"] as? String == parent?["span.id"] as? String)
            }
        }
        let request = try #require(span("PATCH /api/data/v9.2/contacts"), "no request span")
        #expect(request["span.kind"] as? String == "server")
        #expect(request["http.response.status_code"] as? String == "204")
        let pipeline = try #require(span("Update contact", parent: request), "no pipeline span")
        let job = try #require(span("system job", parent: pipeline), "no job span")
        #expect(job["span.kind"] as? String == "consumer")
        #expect(job["span.status"] as? String == "error")
        let post = try #require(span("post to nowhere", parent: job), "no post span")
        #expect(post["span.kind"] as? String == "producer")
        #expect(Set([request, pipeline, job, post].compactMap { $0["trace.id"] as? String }).count == 1)
    }
}

import AsyncHTTPClient
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
        let server = try CrashSafetyTests.Server(dataDirectory: directory)
        defer { server.stop() }
        let api = ["--url", server.url, "--key-file", directory + "/admin.key"]
        let bus = ["--connection-string", server.busConnectionString]
        _ = try EndpointEndToEndTests.cli(["bus", "queue", "create", "metered"] + bus)
        let endpoint = try EndpointEndToEndTests.cli(
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
            let ready = try await Self.get(client, base + "/ready")
            #expect(ready.status == 200 && ready.body == "ready")
            #expect(try await Self.get(client, base + "/health").body == "ok")
        }
    }
}

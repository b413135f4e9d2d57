import AsyncHTTPClient
import ConduitPlatform
import ConduitStore
import ConduitTestSupport
import Foundation
import NIOHTTP1
import Testing

/// Two `conduit serve` processes on one PostgreSQL database: one is killed with SIGKILL while both run jobs, and the
/// other finishes all of them, including those the dead one held.
@Suite("two nodes, one killed", .serialized)
struct TwoNodeCrashTests {
    @Test(
        "kill -9 one of two nodes on one PostgreSQL; the other finishes every job",
        arguments: TestBackend.runsPostgres ? [TestBackend.postgres] : []
    )
    func killOneNode(backend: TestBackend) async throws {
        try await backend.withFreshDatabase { configuration in
            guard case .postgres(let url) = configuration.backend else { return }
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-2nodes-\(UUID())").path
            defer { try? FileManager.default.removeItem(atPath: base) }
            try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
            try await CrashSafetyTests.withClient { client in
                try await Self.run(client: client, base: base, url: url)
            }
        }
    }

    static func run(client: HTTPClient, base: String, url: String) async throws {
        let log = base + "/operations.log"
        let environment = ["CONDUIT_DATABASE": url, "CONDUIT_JOB_LEASE_SECONDS": "2"]
        // Node a starts first (and migrates the database); node b joins it.
        let a = try await CrashSafetyTests.Server(dataDirectory: base + "/a", environment: environment)
        defer { a.stop() }
        let b = try await CrashSafetyTests.Server(dataDirectory: base + "/b", environment: environment)
        let step = try await CrashSafetyTests.registerAsyncStep(
            client,
            a,
            typeName: AppendOperationIdPlugin.typeName,
            name: "Record OperationIds",
            configuration: log
        )
        #expect(step == 204)
        // Node b caches steps for up to 5 s: let it see the new one before it takes creates.
        try await Task.sleep(for: .seconds(6))

        // 1,000 creates, alternating between the nodes; node b is killed halfway.
        let total = 1000
        var killedAt = 0
        for index in 0..<total {
            let node = index % 2 == 0 || killedAt > 0 ? a : b
            let reply = try await CrashSafetyTests.send(
                client,
                node,
                .POST,
                "contacts",
                #"{"lastname":"Two \#(index)"}"#
            )
            #expect(reply.status == 204)
            if index == total / 2 {
                kill(b.process.processIdentifier, SIGKILL)
                b.process.waitUntilExit()
                killedAt = index
            }
        }
        #expect(b.process.terminationStatus == 9)

        // Node a finishes everything, taking over node b's jobs when their leases run out.
        let deadline = Date().addingTimeInterval(120)
        var open = -1
        while open != 0, Date() < deadline {
            try await Task.sleep(for: .milliseconds(200))
            open = try await JobCrashTests.openJobs(client, a)
        }
        #expect(open == 0)
        let jobs = try await CrashSafetyTests.count(client, a, "asyncoperations")
        #expect(jobs == total)
        let succeeded = try await CrashSafetyTests.send(
            client,
            a,
            .GET,
            "asyncoperations?$filter=statuscode%20eq%2030&$count=true&$top=0"
        )
        #expect(JobCrashTests.json(succeeded.body)["@odata.count"] as? Int == total)
        let hosts = try await CrashSafetyTests.send(client, a, .GET, "asyncoperations?$select=hostid&$top=5000")
        let byHost = Dictionary(
            grouping: (JobCrashTests.json(hosts.body)["value"] as? [[String: Any]] ?? []).compactMap {
                $0["hostid"] as? String
            },
            by: { $0 }
        ).mapValues(\.count)
        let lines = (try String(contentsOfFile: log, encoding: .utf8)).split(separator: "\n").map(String.init)
        #expect(Set(lines).count == total)
        print(
            "two nodes: node b killed after \(killedAt + 1) creates; all \(total) jobs succeeded; last run by host: \(byHost.values.sorted()); \(lines.count - Set(lines).count) duplicate runs"
        )
    }
}

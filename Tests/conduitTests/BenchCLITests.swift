import Foundation
import Testing

/// `conduit bench post` and `conduit bench bus`, run briefly as processes: their JSON is well formed and no message
/// is lost or doubled.
@Suite("conduit bench post, bus, amqp, relay and webhook", .serialized)
struct BenchCLITests {
    /// Runs `conduit <arguments> --json <file>` and returns the file's JSON object.
    static func results(_ arguments: [String]) async throws -> [String: Any] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-bench-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try await CLITests.run(arguments + ["--json", path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(String(decoding: run.stdout, as: UTF8.self).contains("(SQLite"))
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("bench post: every update's context reaches the queue once", arguments: [("json", 2, 50), ("binary", 1, 20)])
    func post(format: String, duration: Int, rate: Int) async throws {
        let json = try await Self.results([
            "bench", "post", "--format", format, "--duration", "\(duration)", "--rate", "\(rate)", "--grace", "10",
        ])
        let updates = duration * rate
        #expect(json["benchmark"] as? String == "post")
        #expect(json["format"] as? String == format)
        #expect(json["updates"] as? Int == updates)
        #expect(json["received"] as? Int == updates)
        #expect(json["lost"] as? Int == 0)
        #expect(json["duplicates"] as? Int == 0)
        #expect(json["unrecognized"] as? Int == 0)
        let p50 = try #require(json["p50Milliseconds"] as? Double)
        let p99 = try #require(json["p99Milliseconds"] as? Double)
        let max = try #require(json["maxMilliseconds"] as? Double)
        #expect(p50 >= 0 && p50 <= p99 && p99 <= max)
        #expect((json["achievedPerSecond"] as? Double ?? 0) > 0)
        #expect((json["requestP99Milliseconds"] as? Double ?? 0) > 0)
    }

    @Test(
        "bench post across contracts and listeners: every update once, a JSON result and an SVG plot",
        arguments: [["--contract", "topic"], ["--contract", "eventhub", "--format", "xml"], ["--listener", "rest"]]
    )
    func system(arguments: [String]) async throws {
        let plot = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-plot-\(UUID()).svg").path
        defer { try? FileManager.default.removeItem(atPath: plot) }
        let json = try await Self.results(
            ["bench", "post", "--duration", "1", "--rate", "40", "--grace", "10", "--svg", plot] + arguments
        )
        #expect(json["received"] as? Int == 40 && json["lost"] as? Int == 0 && json["duplicates"] as? Int == 0)
        #expect(json["unrecognized"] as? Int == 0)
        #expect((json["p95Milliseconds"] as? Double ?? -1) >= 0)
        let svg = try String(contentsOfFile: plot, encoding: .utf8)
        #expect(
            svg.hasPrefix("<svg") && svg.contains("<polyline") && svg.components(separatedBy: "<circle").count == 41
        )
    }

    @Test("bench bus: every message arrives exactly once", arguments: ["peeklock", "receivedelete"])
    func bus(mode: String) async throws {
        let json = try await Self.results([
            "bench", "bus", "--messages", "500", "--senders", "4", "--receivers", "4", "--size", "256", "--mode", mode,
        ])
        #expect(json["benchmark"] as? String == "bus")
        #expect(json["mode"] as? String == mode)
        #expect(json["messages"] as? Int == 500)
        #expect(json["received"] as? Int == 500)
        #expect(json["lost"] as? Int == 0)
        #expect(json["duplicates"] as? Int == 0)
        #expect(json["malformed"] as? Int == 0)
        #expect(json["exactlyOnce"] as? Bool == true)
        for key in ["sendsPerSecond", "receivesPerSecond", "endToEndPerSecond", "sendP99Milliseconds"] {
            #expect((json[key] as? Double ?? 0) > 0, "\(key)")
        }
    }

    @Test("bench amqp: the AMQP client through Conduit's durable queue, every accepted message once")
    func amqp() async throws {
        let json = try await Self.results(["bench", "amqp", "--seconds", "1", "--pairs", "1:1,2:2", "--size", "512"])
        let runs = try #require(json["amqp"] as? [[String: Any]])
        #expect(runs.count == 2)
        for run in runs {
            #expect((run["accepted"] as? Int ?? 0) > 0)
            #expect(run["received"] as? Int == run["accepted"] as? Int)
            #expect(run["lost"] as? Int == 0 && run["duplicates"] as? Int == 0)
            #expect((run["receivedPerSecond"] as? Double ?? 0) > 0)
        }
    }

    @Test(
        "bench relay and bench webhook: closed-loop posts with answers checked",
        arguments: [["relay"], ["relay", "--sender", "http", "--format", "xml"], ["webhook"]]
    )
    func contracts(arguments: [String]) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-bench-\(UUID()).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = try await CLITests.run(
            ["bench"] + arguments + ["--seconds", "1", "--concurrency", "4", "--json", path]
        )
        #expect(run.status == 0, "\(run.stderr)")
        #expect(String(decoding: run.stdout, as: UTF8.self).contains("latency p99"))
        let json = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        )
        #expect((json["count"] as? Int ?? 0) > 0 && (json["perSecond"] as? Double ?? 0) > 0)
        #expect((json["p99Milliseconds"] as? Double ?? -1) >= 0)
    }

    @Test("bad options say what is wrong")
    func badOptions() async throws {
        let format = try await CLITests.run(["bench", "post", "--format", "yaml"])
        #expect(format.status != 0 && format.stderr.contains("--format"))
        let size = try await CLITests.run(["bench", "bus", "--size", "8"])
        #expect(size.status != 0 && size.stderr.contains("--size must be 16 bytes or more"))
        let hub = try await CLITests.run(["bench", "post", "--contract", "eventhub", "--format", "binary"])
        #expect(hub.status != 0 && hub.stderr.contains("--contract eventhub takes --format json or xml"))
        let pairs = try await CLITests.run(["bench", "amqp", "--pairs", "8"])
        #expect(pairs.status != 0 && pairs.stderr.contains("--pairs takes SENDERS:RECEIVERS"))
        let callers = try await CLITests.run(["bench", "relay", "--concurrency", "0"])
        #expect(callers.status != 0 && callers.stderr.contains("--concurrency and --seconds must be positive"))
    }
}

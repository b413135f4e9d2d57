import AsyncHTTPClient
import ConduitContext
import ConduitPlatform
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// `conduit serve` killed with SIGKILL while it creates records and runs their system jobs: after a restart every
/// job completes, none is lost, and every job that ran twice shows up by its OperationId.
@Suite("system jobs survive a crash", .serialized)
struct JobCrashTests {
    typealias Server = CrashSafetyTests.Server

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    static func openJobs(_ client: HTTPClient, _ server: Server) async throws -> Int {
        let reply = try await CrashSafetyTests.send(
            client,
            server,
            .GET,
            "asyncoperations?$filter=statecode%20ne%203&$count=true&$top=0"
        )
        return Self.json(reply.body)["@odata.count"] as? Int ?? -1
    }

    @Test("kill -9 midway through 5,000 creates and their jobs; restart; every job completes, duplicates counted")
    func killWhileRunningJobs() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-jobcrash-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await CrashSafetyTests.withClient { client in try await Self.run(client: client, directory: directory) }
    }

    static func run(client: HTTPClient, directory: String) async throws {
        let log = directory + "/operations.log"

        // 1. An async step on Create of contact whose plug-in appends each run's OperationId to a file.
        let first = try await Server(dataDirectory: directory)
        let step = try await CrashSafetyTests.registerAsyncStep(
            client,
            first,
            typeName: AppendOperationIdPlugin.typeName,
            name: "Record OperationIds",
            configuration: log
        )
        #expect(step == 204)

        // 2. 5,000 creates from 16 clients; at 2,500 acknowledged, SIGKILL.
        let total = 5000
        let progress = Progress()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    while true {
                        let index = progress.next.add(1, ordering: .relaxed).oldValue
                        guard index < total else { return }
                        let reply = try? await CrashSafetyTests.send(
                            client,
                            first,
                            .POST,
                            "contacts",
                            #"{"lastname":"Crash \#(index)"}"#
                        )
                        guard reply?.status == 204 else { return }
                        let count = progress.acknowledged.withLock { list in
                            list.append("Crash \(index)")
                            return list.count
                        }
                        if count == total / 2 { kill(first.process.processIdentifier, SIGKILL) }
                    }
                }
            }
        }
        first.process.waitUntilExit()
        #expect(first.process.terminationStatus == 9)
        let acked = progress.acknowledged.withLock { $0 }
        let ranBeforeKill = (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").count ?? 0

        // 3. Restart, and create the rest of the 5,000: every committed create has its job, and every job completes.
        let restarted = try await Server(dataDirectory: directory)
        defer { restarted.stop() }
        let before = try await CrashSafetyTests.count(client, restarted, "contacts")
        #expect(before >= acked.count)
        for index in before..<total {
            let reply = try await CrashSafetyTests.send(
                client,
                restarted,
                .POST,
                "contacts",
                #"{"lastname":"After \#(index)"}"#
            )
            #expect(reply.status == 204)
        }
        let deadline = Date().addingTimeInterval(180)
        var open = try await Self.openJobs(client, restarted)
        while open != 0, Date() < deadline {
            try await Task.sleep(for: .milliseconds(100))
            open = try await Self.openJobs(client, restarted)
        }
        #expect(open == 0)
        let contacts = try await CrashSafetyTests.count(client, restarted, "contacts")
        let jobs = try await CrashSafetyTests.count(client, restarted, "asyncoperations")
        let succeeded = try await CrashSafetyTests.send(
            client,
            restarted,
            .GET,
            "asyncoperations?$filter=statuscode%20eq%2030&$count=true&$top=0"
        )
        let succeededCount = Self.json(succeeded.body)["@odata.count"] as? Int ?? -1
        #expect(contacts == total)
        #expect(jobs == contacts)
        #expect(succeededCount == jobs)

        // Nothing acknowledged is lost.
        for name in acked.prefix(50) {
            let row = try await CrashSafetyTests.send(
                client,
                restarted,
                .GET,
                "contacts?$filter=lastname%20eq%20'\(name.replacingOccurrences(of: " ", with: "%20"))'&$select=lastname"
            )
            #expect(row.body.contains(name))
        }
        let lines = (try String(contentsOfFile: log, encoding: .utf8)).split(separator: "\n").map(String.init)
        let unique = Set(lines)
        #expect(unique.count == jobs)
        let duplicates = lines.count - unique.count
        print(
            "crash test: \(acked.count) creates acknowledged before the kill (\(before) committed), \(contacts) contacts and \(jobs) jobs in the end; \(ranBeforeKill) runs before the kill; \(lines.count) runs in all, \(duplicates) duplicate runs (same OperationId twice)"
        )
    }
}

/// What the clients of the crash test share.
final class Progress: Sendable {
    let acknowledged = Mutex<[String]>([])
    let next = Atomic<Int>(0)
}

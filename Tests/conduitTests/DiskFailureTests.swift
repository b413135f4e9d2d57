import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Testing

/// `conduit serve` on a data directory that fills up or turns read-only: writes fail with an error that says so,
/// reads and the server go on, nothing acknowledged is lost, and writes work again once space (or write access)
/// returns. The directory is a small tmpfs mounted for the test (root only: `.ci/run` runs as root).
@Suite("disk full and a read-only data directory", .serialized)
struct DiskFailureTests {
    typealias Server = CrashSafetyTests.Server

    /// Runs `mount` (or `umount`) with `arguments`; whether it succeeded.
    @discardableResult
    static func mount(_ arguments: [String], program: String = "/bin/mount") -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// A tmpfs of `megabytes` at a new directory, or `nil` (with the reason printed) where mounting is not allowed.
    static func smallDisk(megabytes: Int) -> String? {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-disk-\(UUID())").path
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard mount(["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", directory]) else {
            let reason = "cannot mount a tmpfs (needs root)"
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                Issue.record("The disk tests cannot run: \(reason).")
            } else {
                print("disk tests skipped: \(reason)")
            }
            try? FileManager.default.removeItem(atPath: directory)
            return nil
        }
        return directory
    }

    static func release(_ directory: String) {
        mount(["-l", directory], program: "/bin/umount")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Fills the file system of `directory` with a file, until no byte is left; returns its path.
    static func fill(_ directory: String) -> String {
        let path = directory + "/filler"
        FileManager.default.createFile(atPath: path, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: path) else { return path }
        let chunk = Data(count: 1 << 16)
        while (try? handle.write(contentsOf: chunk)) != nil {}
        var small = Data(count: 512)
        while !small.isEmpty {
            if (try? handle.write(contentsOf: small)) == nil { small = Data(count: small.count / 2) }
        }
        try? handle.close()
        return path
    }

    struct Attempts {
        var acknowledged: [String] = []
        var refusals: [(status: UInt, body: String)] = []
    }

    /// Creates `count` contacts named `<prefix> <n>`; notes the acknowledged ones and the refusals.
    static func create(
        _ client: HTTPClient,
        _ server: Server,
        _ prefix: String,
        count: Int,
        into attempts: inout Attempts
    ) async throws {
        for index in 0..<count {
            let name = "\(prefix) \(index)"
            let reply = try await CrashSafetyTests.send(client, server, .POST, "contacts", #"{"lastname":"\#(name)"}"#)
            if reply.status == 204 {
                attempts.acknowledged.append(name)
            } else {
                attempts.refusals.append((reply.status, reply.body))
            }
        }
    }

    /// The last names of every contact.
    static func names(_ client: HTTPClient, _ server: Server) async throws -> Set<String> {
        let reply = try await CrashSafetyTests.send(client, server, .GET, "contacts?$select=lastname&$top=5000")
        let rows = JobCrashTests.json(reply.body)["value"] as? [[String: Any]] ?? []
        return Set(rows.compactMap { $0["lastname"] as? String })
    }

    /// An async step on Create of contact posting to a queue on the server's bus (so that jobs and messages are
    /// written too).
    static func registerPosting(_ client: HTTPClient, _ server: Server, data: String) async throws {
        let bus = ["--connection-string", server.busConnectionString]
        _ = try await EndpointEndToEndTests.cli(["bus", "queue", "create", "changes"] + bus)
        // Addressed by the namespace's name: the restarted server (on another port) posts to it too.
        let endpoint = try await CrashSafetyTests.addNamespaceQueueEndpoint(
            server,
            keyFile: data + "/admin.key",
            queue: "changes"
        )
        try await EndpointEndToEndTests.registerStep(
            client,
            server,
            endpoint: endpoint,
            message: "Create",
            filtering: nil
        )
    }

    /// Waits (up to a minute) until no job is open; returns how many are.
    static func settle(_ client: HTTPClient, _ server: Server) async throws -> Int {
        var open = -1
        // Up to a minute: jobs that failed while the disk was full wait for their retry (5 s, then 10 s, …).
        for _ in 0..<600 {
            open = try await JobCrashTests.openJobs(client, server)
            if open == 0 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return open
    }

    @Test("a full disk: writes refused with 507 and what to do, reads go on, writes work once space returns")
    func diskFull() async throws {
        guard let disk = Self.smallDisk(megabytes: 64) else { return }
        defer { Self.release(disk) }
        let data = disk + "/data"
        // Jobs whose outcome could not be written while the disk was full run again when their lease runs out: 2 s.
        let environment = ["CONDUIT_JOB_LEASE_SECONDS": "2"]
        var server = try await Server(dataDirectory: data, environment: environment)
        defer { server.stop() }
        try await CrashSafetyTests.withClient { client in
            try await Self.registerPosting(client, server, data: data)
            var attempts = Attempts()
            try await Self.create(client, server, "Before", count: 20, into: &attempts)
            #expect(attempts.acknowledged.count == 20 && attempts.refusals.isEmpty)

            let filler = Self.fill(disk)
            try await Self.create(client, server, "Full", count: 20, into: &attempts)
            #expect(!attempts.refusals.isEmpty, "no write was refused on a full disk")
            for refusal in attempts.refusals {
                #expect(refusal.status == 507, "\(refusal.status) \(refusal.body)")
                #expect(refusal.body.contains("disk is full"), "\(refusal.body)")
            }
            // Reads and the server go on.
            #expect(try await Self.names(client, server).isSuperset(of: attempts.acknowledged))
            #expect(try await ObservabilityTests.get(client, "http://127.0.0.1:\(server.port)/health").body == "ok")

            // Space returns: writes work again, without a restart.
            try FileManager.default.removeItem(atPath: filler)
            var after = Attempts()
            for _ in 0..<50 {
                try await Self.create(client, server, "After", count: 1, into: &after)
                if !after.acknowledged.isEmpty { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(after.acknowledged.count == 1, "\(after.refusals.map(\.body))")
            attempts.acknowledged += after.acknowledged
            #expect(try await Self.settle(client, server) == 0)

            // Nothing acknowledged is lost, across a kill -9 and a restart either.
            kill(server.process.processIdentifier, SIGKILL)
            server.process.waitUntilExit()
            server = try await Server(dataDirectory: data, environment: environment)
            let names = try await Self.names(client, server)
            #expect(names.isSuperset(of: attempts.acknowledged))
            #expect(try await Self.settle(client, server) == 0)
            print(
                "disk full: \(attempts.acknowledged.count) creates acknowledged, \(attempts.refusals.count) refused with 507 while full, all \(attempts.acknowledged.count) present after the restart"
            )
        }
    }

    @Test(
        "a read-only data directory: the server says so and exits; once writable it starts with everything acknowledged"
    )
    func readOnly() async throws {
        guard let disk = Self.smallDisk(megabytes: 64) else { return }
        defer { Self.release(disk) }
        let data = disk + "/data"
        var attempts = Attempts()
        let first = try await Server(dataDirectory: data)
        try await CrashSafetyTests.withClient { client in
            try await Self.registerPosting(client, first, data: data)
            try await Self.create(client, first, "Before", count: 10, into: &attempts)
        }
        #expect(attempts.acknowledged.count == 10)
        first.stop()
        // A file system can go read-only only once no file on it is open for writing (or by the kernel, after an
        // I/O error): the server finds it so at its next start.
        #expect(Self.mount(["-o", "remount,ro", disk]))
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-ro-\(UUID()).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        await #expect(throws: (any Error).self) { _ = try await Server(dataDirectory: data, errorLog: log) }
        let said = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(said.contains("\(data) is on a read-only file system; make it writable"), "\(said)")

        #expect(Self.mount(["-o", "remount,rw", disk]))
        let again = try await Server(dataDirectory: data)
        defer { again.stop() }
        try await CrashSafetyTests.withClient { client in
            #expect(try await Self.names(client, again).isSuperset(of: attempts.acknowledged))
            try await Self.create(client, again, "After", count: 1, into: &attempts)
            #expect(attempts.acknowledged.count == 11 && attempts.refusals.isEmpty)
            #expect(try await Self.settle(client, again) == 0)
        }
    }
}

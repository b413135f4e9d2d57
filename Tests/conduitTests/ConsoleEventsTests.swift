import AsyncHTTPClient
import ConduitStore
import ConduitTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The console's server-sent events (`/api/console/events`) from a live `conduit serve`.
@Suite("console events")
struct ConsoleEventsTests {
    /// Opens the stream and returns its text as it arrives, until `done` says enough or `timeout` passes.
    static func read(
        _ client: HTTPClient,
        url: String,
        key: String,
        timeout: Duration,
        whileReading: @escaping @Sendable () async throws -> Void = {},
        until done: (String) -> Bool
    ) async throws -> (status: UInt, text: String) {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        let response = try await client.execute(request, timeout: .seconds(30))
        var text = ""
        let deadline = ContinuousClock.now + timeout
        let action = Task { try await whileReading() }
        defer { action.cancel() }
        var iterator = response.body.makeAsyncIterator()
        while ContinuousClock.now < deadline, !done(text) {
            guard let chunk = try await iterator.next() else { break }
            text += String(buffer: chunk)
        }
        return (response.status.code, text)
    }

    @Test("a change to a system job is an event; without a key there is no stream", arguments: TestBackend.available)
    func jobEvents(backend: TestBackend) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conduit-events-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await backend.withFreshDatabase { configuration in
            var environment: [String: String] = [:]
            if case .postgres(let url) = configuration.backend { environment["CONDUIT_DATABASE"] = url }
            let server = try await CrashSafetyTests.Server(dataDirectory: directory, environment: environment)
            defer { server.stop() }
            let base = "http://127.0.0.1:\(server.port)/"
            try await CrashSafetyTests.withClient { client in
                let anonymous = try await CrashSafetyTests.request(
                    client,
                    url: base + "api/console/events",
                    key: "",
                    .GET
                )
                #expect(anonymous.status == 401)
                _ = try await CrashSafetyTests.registerAsyncStep(
                    client,
                    server,
                    typeName: "Events.Async",
                    name: "Events"
                )
                let stream = try await Self.read(
                    client,
                    url: base + "api/console/events",
                    key: server.key,
                    timeout: .seconds(20),
                    whileReading: {
                        try await Task.sleep(for: .milliseconds(300))
                        _ = try await CrashSafetyTests.send(client, server, .POST, "contacts", #"{"lastname":"Live"}"#)
                    },
                    until: { $0.contains("event: jobs\ndata: {\"at\":\"") }
                )
                #expect(stream.status == 200)
                #expect(stream.text.hasPrefix("retry: 2000\n: connected\n\n"), "\(stream.text)")
                #expect(stream.text.contains("event: jobs\ndata: {\"at\":\""), "\(stream.text)")
            }
        }
    }
}

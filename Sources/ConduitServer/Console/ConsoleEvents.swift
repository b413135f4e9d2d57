import ConduitPlatform
import ConduitStore
import Foundation
import Hummingbird
import NIOCore
import ServiceLifecycle

extension ConsoleController {
    /// The longest one events stream lasts; the page then opens another (so that no request lives for ever).
    static let eventsStreamLifetime: Duration = .seconds(600)

    /// `GET /api/console/events`: server-sent events. `event: jobs` at most every 250 ms after system jobs of this
    /// node were written (or, on PostgreSQL, another node committed runnable jobs), a comment every 15 s to keep the
    /// connection open. On PostgreSQL also a `jobs` event every 5 s, for what other nodes changed without telling.
    /// It ends when the server shuts down.
    func events() -> Response {
        let changes = platform.jobChanges
        let otherNodes = platform.store.flavor == .postgres
        let body = ResponseBody { writer in
            try await writer.write(ByteBuffer(string: "retry: 2000\n: connected\n\n"))
            let (events, continuation) = AsyncStream.makeStream(of: Bool.self, bufferingPolicy: .bufferingNewest(4))
            try await withGracefulShutdownHandler {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await _ in changes.listen() { continuation.yield(true) }
                    }
                    group.addTask {
                        let end = ContinuousClock.now + Self.eventsStreamLifetime
                        while ContinuousClock.now < end {
                            try await Task.sleep(for: otherNodes ? .seconds(5) : .seconds(15))
                            // On PostgreSQL a jobs event (it keeps the connection open too), else a keep-alive.
                            continuation.yield(otherNodes)
                        }
                        continuation.finish()
                    }
                    var last = ContinuousClock.now - .seconds(1)
                    for await isJobs in events {
                        if isJobs {
                            let wait = last + .milliseconds(250) - .now
                            if wait > .zero { try await Task.sleep(for: wait) }
                            last = .now
                            let at = ConsoleText.iso(milliseconds: Int64(Date().timeIntervalSince1970 * 1000))
                            try await writer.write(ByteBuffer(string: "event: jobs\ndata: {\"at\":\"\(at)\"}\n\n"))
                        } else {
                            try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        }
                    }
                    group.cancelAll()
                }
            } onGracefulShutdown: {
                continuation.finish()
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
            body: body
        )
    }
}

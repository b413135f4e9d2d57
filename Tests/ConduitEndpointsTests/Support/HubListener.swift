import ConduitBus
import Foundation
import Synchronization

/// A relay listener inside the test process: connects to the embedded relay's hub directly (no WebSocket), records
/// each request and answers it as `answer` says.
final class HubListener: Sendable {
    struct Received: Sendable {
        var head: RelayRequestHead
        var body: [UInt8]
    }

    private final class Log: Sendable {
        let items = Mutex<[Received]>([])
    }

    private let log = Log()
    /// The requests received so far.
    var received: [Received] { log.items.withLock { $0 } }
    private let task: Task<Void, Never>
    private let channel: Int
    private let hub: RelayHub

    init(
        hub: RelayHub,
        relay: String,
        answer: @escaping @Sendable (RelayRequestHead, [UInt8]) async -> (status: Int, body: String) = { _, _ in
            (200, "")
        }
    ) throws {
        let channel = try hub.openListener(relay: relay, address: "ws://127.0.0.1/$hc/\(relay)")
        self.channel = channel.id
        self.hub = hub
        let log = self.log
        task = Task {
            var waiting: RelayRequestHead?
            for await frame in channel.frames {
                var request: (RelayRequestHead, [UInt8])?
                switch frame {
                case .text(let json):
                    guard case .request(let head)? = try? RelayControlMessage(json: json) else { continue }
                    if head.body { waiting = head } else { request = (head, []) }
                case .binary(let body):
                    if let head = waiting { request = (head, body) }
                    waiting = nil
                case .close:
                    return
                }
                guard let (head, body) = request else { continue }
                log.items.withLock { $0.append(Received(head: head, body: body)) }
                let (status, text) = await answer(head, body)
                hub.respond(
                    RelayResponseHead(
                        requestId: head.id,
                        statusCode: status,
                        responseHeaders: ["Content-Type": "text/plain"],
                        body: !text.isEmpty
                    ),
                    body: Array(text.utf8),
                    from: channel.id
                )
            }
        }
    }

    /// Disconnects from the hub.
    func stop() async {
        hub.close(channel)
        await task.value
    }
}

/// Who listens on which hybrid connection, and which requests wait for which channel: the relay's routing as a
/// pure state machine (no I/O, no clocks). ``RelayHub`` drives it and carries out what it decides.
struct RelayState: Sendable {
    /// What a WebSocket connected to the relay is.
    enum Role: Sendable, Hashable {
        /// A listener's control channel on a hybrid connection.
        case listener(relay: String)
        /// A listener's rendezvous socket for one request (`sb-hc-action=request`).
        case rendezvous(request: String)
    }

    /// A forwarded request that waits for its answer.
    struct Pending: Sendable, Hashable {
        var relay: String
        /// The listener's control channel that got it.
        var channel: Int
        /// Whether it goes through a rendezvous (too large for the control channel).
        var needsRendezvous: Bool
        /// The rendezvous socket, once the listener opened it.
        var rendezvous: Int?
    }

    /// Where a request goes.
    enum Route: Sendable, Hashable {
        case forward(channel: Int)
        /// No listener is connected (the relay answers 502).
        case noListener
    }

    private(set) var roles: [Int: Role] = [:]
    /// Control channels per hybrid connection, in the order they connected.
    private(set) var listeners: [String: [Int]] = [:]
    private(set) var pending: [String: Pending] = [:]
    private var nextChannel = 1
    /// The most control channels one hybrid connection takes (Azure: 25).
    let listenerLimit: Int

    init(listenerLimit: Int = 25) {
        self.listenerLimit = listenerLimit
    }

    /// A listener's control channel connects: its id, or `nil` when the hybrid connection has `listenerLimit`.
    mutating func openListener(relay: String) -> Int? {
        guard listeners[relay, default: []].count < listenerLimit else { return nil }
        let id = take()
        roles[id] = .listener(relay: relay)
        listeners[relay, default: []].append(id)
        return id
    }

    /// A rendezvous socket for `request` connects: its id, or `nil` when no such request waits for one.
    mutating func openRendezvous(request: String) -> Int? {
        guard var entry = pending[request], entry.needsRendezvous, entry.rendezvous == nil else { return nil }
        let id = take()
        roles[id] = .rendezvous(request: request)
        entry.rendezvous = id
        pending[request] = entry
        return id
    }

    /// The number of listeners connected to `relay`.
    func listenerCount(_ relay: String) -> Int { listeners[relay]?.count ?? 0 }

    /// Routes a new request to one of `relay`'s listeners, chosen by `pick` (an index below the count it is given).
    mutating func route(
        request: String,
        relay: String,
        needsRendezvous: Bool,
        pick: (Int) -> Int
    ) -> Route {
        guard let candidates = listeners[relay], !candidates.isEmpty else { return .noListener }
        let channel = candidates[min(max(pick(candidates.count), 0), candidates.count - 1)]
        pending[request] = Pending(relay: relay, channel: channel, needsRendezvous: needsRendezvous)
        return .forward(channel: channel)
    }

    /// One of `relay`'s listeners, chosen by `pick`, for a WebSocket sender; `nil` when none is connected.
    func listener(of relay: String, pick: (Int) -> Int) -> Int? {
        guard let candidates = listeners[relay], !candidates.isEmpty else { return nil }
        return candidates[min(max(pick(candidates.count), 0), candidates.count - 1)]
    }

    /// A response for `request` came on `channel`: whether it answers the request (then the request is done). A
    /// response for an unknown, finished or other channel's request is not taken.
    mutating func answer(request: String, from channel: Int) -> Bool {
        guard let entry = pending[request], entry.channel == channel || entry.rendezvous == channel else {
            return false
        }
        pending[request] = nil
        return true
    }

    /// The request's time ran out: whether it was still waiting (then it is done).
    mutating func expire(request: String) -> Bool {
        pending.removeValue(forKey: request) != nil
    }

    /// A channel closed: the requests that can no longer be answered (they fail), in no particular order.
    mutating func close(channel: Int) -> [String] {
        guard let role = roles.removeValue(forKey: channel) else { return [] }
        switch role {
        case .listener(let relay):
            listeners[relay]?.removeAll { $0 == channel }
            if listeners[relay]?.isEmpty == true { listeners[relay] = nil }
            // A request whose rendezvous is open is answered there; every other one is lost with the channel.
            let lost = pending.filter { $0.value.channel == channel && $0.value.rendezvous == nil }.map(\.key)
            for request in lost { pending[request] = nil }
            return lost
        case .rendezvous(let request):
            guard pending[request]?.rendezvous == channel else { return [] }
            pending[request] = nil
            return [request]
        }
    }

    /// Closes every listener of `relay` (it was deleted): the channels to close.
    func channels(of relay: String) -> [Int] { listeners[relay] ?? [] }

    private mutating func take() -> Int {
        defer { nextChannel += 1 }
        return nextChannel
    }
}

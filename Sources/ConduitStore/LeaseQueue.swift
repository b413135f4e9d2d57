/// The state machine behind ``SQLiteConnectionPool``: leases at most `limit` connections, first come first served,
/// opening them on demand.
///
/// It is a pure value: every event is a `mutating` method that returns what to do, and the pool carries that out
/// after releasing its lock. `Waiter` is the continuation of a caller that waits.
///
/// Invariant: callers wait only when every connection is leased or being opened, so when there are waiters there
/// are no idle connections and `count == limit`. A released connection goes straight to the oldest waiter.
struct LeaseQueue<Connection, Waiter> {
    typealias Grant = LeaseGrant<Connection>

    enum LeaseAction {
        case grant(Grant)
        case wait
        case failShutDown
        case failCancelled
    }

    enum ReleaseAction {
        case none
        case resume(Waiter, Grant)
        case close(Connection)
    }

    enum OpenedAction {
        case use
        case close
    }

    struct ShutdownAction {
        var close: [Connection]
        var fail: [Waiter]
    }

    let limit: Int
    private var idle: [Connection] = []
    /// Connections that exist or are being opened.
    private(set) var count = 0
    private var waiters: [(id: Int, waiter: Waiter)] = []
    private(set) var isShutDown = false

    init(limit: Int) {
        precondition(limit >= 1, "a lease queue needs at least one connection")
        self.limit = limit
    }

    var waiting: Int { self.waiters.count }
    var idleCount: Int { self.idle.count }

    mutating func leaseRequested(id: Int, waiter: Waiter, isCancelled: Bool) -> LeaseAction {
        if self.isShutDown {
            return .failShutDown
        }
        if isCancelled {
            return .failCancelled
        }
        if let connection = self.idle.popLast() {
            return .grant(.connection(connection))
        }
        if self.count < self.limit {
            self.count += 1
            return .grant(.open)
        }
        self.waiters.append((id, waiter))
        return .wait
    }

    /// The caller with this id was cancelled; returns its waiter to fail, if it was still waiting.
    mutating func leaseCancelled(id: Int) -> Waiter? {
        guard let index = self.waiters.firstIndex(where: { $0.id == id }) else {
            return nil
        }
        return self.waiters.remove(at: index).waiter
    }

    mutating func connectionReleased(_ connection: Connection) -> ReleaseAction {
        if self.isShutDown {
            self.count -= 1
            return .close(connection)
        }
        if !self.waiters.isEmpty {
            return .resume(self.waiters.removeFirst().waiter, .connection(connection))
        }
        self.idle.append(connection)
        return .none
    }

    /// A leased connection is dropped (closed by its holder) or could not be opened: its slot is free again.
    mutating func connectionGone() -> ReleaseAction {
        if !self.isShutDown, !self.waiters.isEmpty {
            return .resume(self.waiters.removeFirst().waiter, .open)
        }
        self.count -= 1
        return .none
    }

    /// The holder of an ``Grant/open`` grant opened its connection.
    mutating func connectionOpened() -> OpenedAction {
        if self.isShutDown {
            self.count -= 1
            return .close
        }
        return .use
    }

    mutating func shutdownRequested() -> ShutdownAction {
        self.isShutDown = true
        let action = ShutdownAction(close: self.idle, fail: self.waiters.map(\.waiter))
        self.count -= self.idle.count
        self.idle = []
        self.waiters = []
        return action
    }
}

/// What a caller of a ``LeaseQueue`` gets.
enum LeaseGrant<Connection> {
    /// Use this connection, then release it.
    case connection(Connection)
    /// Open a new connection (its slot is reserved), then report `connectionOpened()`, or `connectionGone()` if
    /// opening failed.
    case open
}

extension LeaseQueue: Sendable where Connection: Sendable, Waiter: Sendable {}
extension LeaseGrant: Sendable where Connection: Sendable {}
extension LeaseGrant: Equatable where Connection: Equatable {}

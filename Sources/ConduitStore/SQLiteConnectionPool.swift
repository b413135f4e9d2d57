import ConduitSQLite
import Logging
import NIOCore
import Synchronization

/// At most `limit` SQLite connections, leased first come first served and opened on demand.
///
/// With `limit` 1 this is the writer's fair FIFO lock. A caller that is cancelled while it waits leaves the queue
/// and nothing leaks; one that was already handed a connection gets it and must release it.
final class SQLiteConnectionPool: Sendable {
    typealias Grant = LeaseGrant<SQLiteHandle>
    typealias Waiter = CheckedContinuation<Grant, any Error>

    private struct State: Sendable {
        var queue: LeaseQueue<SQLiteHandle, Waiter>
        var nextID = 0
    }

    private let state: Mutex<State>
    private let open: @Sendable () async throws -> SQLiteHandle
    private let logger: Logger

    init(limit: Int, logger: Logger, open: @escaping @Sendable () async throws -> SQLiteHandle) {
        self.state = Mutex(State(queue: LeaseQueue(limit: limit)))
        self.open = open
        self.logger = logger
    }

    /// Callers waiting for a connection.
    var waiting: Int {
        self.state.withLock { $0.queue.waiting }
    }

    /// Waits for a connection: an idle one, a new one, or the next one released.
    func lease() async throws -> SQLiteHandle {
        switch try await self.waitForGrant() {
        case .connection(let connection):
            return connection
        case .open:
            let connection: SQLiteHandle
            do {
                connection = try await self.open()
            } catch {
                self.run(self.state.withLock { $0.queue.connectionGone() })
                throw error
            }
            switch self.state.withLock({ $0.queue.connectionOpened() }) {
            case .use:
                return connection
            case .close:
                Self.close(connection)
                throw StoreError.storeShutDown
            }
        }
    }

    /// Gives a leased connection back; with `reusable` false it is closed and a new one will be opened instead.
    func release(_ connection: SQLiteHandle, reusable: Bool = true) {
        if reusable {
            self.run(self.state.withLock { $0.queue.connectionReleased(connection) })
        } else {
            Self.close(connection)
            self.run(self.state.withLock { $0.queue.connectionGone() })
        }
    }

    /// Fails every waiter and every later lease, and closes the idle connections now and leased ones on release.
    func shutdown() {
        let action = self.state.withLock { $0.queue.shutdownRequested() }
        for connection in action.close {
            Self.close(connection)
        }
        for waiter in action.fail {
            waiter.resume(throwing: StoreError.storeShutDown)
        }
    }

    private func waitForGrant() async throws -> Grant {
        let id = self.state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (waiter: Waiter) in
                // Task.isCancelled is read under the lock, so a cancellation either is seen here or finds the
                // waiter in the queue.
                let action = self.state.withLock {
                    $0.queue.leaseRequested(id: id, waiter: waiter, isCancelled: Task.isCancelled)
                }
                switch action {
                case .grant(let grant):
                    waiter.resume(returning: grant)
                case .wait:
                    break
                case .failShutDown:
                    waiter.resume(throwing: StoreError.storeShutDown)
                case .failCancelled:
                    waiter.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            self.state.withLock { $0.queue.leaseCancelled(id: id) }?.resume(throwing: CancellationError())
        }
    }

    private func run(_ action: LeaseQueue<SQLiteHandle, Waiter>.ReleaseAction) {
        switch action {
        case .none:
            break
        case .resume(let waiter, let grant):
            waiter.resume(returning: grant)
        case .close(let connection):
            Self.close(connection)
        }
    }

    private static func close(_ connection: SQLiteHandle) {
        connection.close()
    }
}

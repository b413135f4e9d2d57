import Logging
import NIOCore
import PostgresKit
import SQLKit
import Synchronization

/// PostgreSQL behind the store: postgres-nio's `PostgresClient` pool, which must be running (``Store/run()``).
final class PostgresEngine: Sendable {
    let url: PostgresURL
    private let client: PostgresClient
    private let lifecycle: StoreLifecycle
    private let connectionTimeout: Duration
    private let maximumConnections: Int
    private let logger: Logger

    init(
        url: PostgresURL,
        maximumConnections: Int,
        connectionTimeout: Duration,
        lifecycle: StoreLifecycle,
        logger: Logger
    ) {
        self.url = url
        self.lifecycle = lifecycle
        self.connectionTimeout = connectionTimeout
        self.maximumConnections = maximumConnections
        self.logger = logger
        self.client = PostgresClient(
            configuration: url.clientConfiguration(maximumConnections: maximumConnections),
            backgroundLogger: logger
        )
    }

    /// Runs the pool until graceful shutdown or cancellation, then closes every connection.
    func run() async {
        await self.client.run()
    }

    /// A transaction; `settings` are set for it alone (`set_config(name, value, true)`), in one statement.
    func transaction<T: Sendable>(
        settings: [(String, String)] = [],
        _ body: @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        try await self.withConnection { connection in
            let database: any SQLDatabase = PostgresSessionDatabase(connection)
            do {
                try await database.raw("BEGIN").run()
                if !settings.isEmpty {
                    var statement = SQLQueryString("SELECT ")
                    for (index, (name, value)) in settings.enumerated() {
                        if index > 0 { statement.appendLiteral(", ") }
                        statement.appendInterpolation(unsafeRaw: "set_config(")
                        statement.appendInterpolation(bind: name)
                        statement.appendLiteral(", ")
                        statement.appendInterpolation(bind: value)
                        statement.appendLiteral(", true)")
                    }
                    try await database.raw(statement).run()
                }
            } catch {
                throw StoreError(
                    .transactionFailed,
                    "cannot begin a PostgreSQL transaction: \(describeDatabaseError(error))",
                    underlying: error
                )
            }
            let value: T
            do {
                value = try await body(database)
            } catch {
                await self.rollback(database)
                throw error
            }
            do {
                try await database.raw("COMMIT").run()
            } catch {
                await self.rollback(database)
                throw StoreError(
                    .transactionFailed,
                    "the PostgreSQL transaction could not be committed: \(describeDatabaseError(error))",
                    underlying: error
                )
            }
            return value
        }
    }

    /// Holds a connection that listens on `channel`, calling `handler` for each notification, until cancelled.
    func listen(channel: String, _ handler: @escaping @Sendable (String) -> Void) async throws {
        try await self.withConnection { connection in
            try await connection.listen(on: channel) { notifications in
                for try await notification in notifications { handler(notification.payload) }
            }
        }
    }

    func withDatabase<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await self.withConnection { connection in
            try await body(PostgresSessionDatabase(connection))
        }
    }

    private func rollback(_ database: any SQLDatabase) async {
        do {
            try await database.raw("ROLLBACK").run()
        } catch {
            // A connection that cannot roll back is broken; the pool notices its closing and replaces it.
            self.logger.warning("PostgreSQL ROLLBACK failed", metadata: ["error": "\(describeDatabaseError(error))"])
        }
    }

    /// Leases a pooled connection for `body`, failing with a ``StoreError`` when none comes within the timeout.
    ///
    /// The lease and the timer race in a task group; a small lock decides which one won, so `body` never starts
    /// after the caller was told that it timed out.
    private func withConnection<T: Sendable>(
        _ body: @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let race = LeaseRace()
        let outcome: LeaseOutcome<T> = try await withoutActuallyEscaping(body) { body in
            try await withThrowingTaskGroup(of: LeaseOutcome<T>.self) { group in
                group.addTask {
                    do {
                        return .finished(
                            try await self.client.withConnection { connection in
                                guard race.leased() else {
                                    throw CancellationError()
                                }
                                return try await body(connection)
                            }
                        )
                    } catch {
                        // Errors after the lease are the body's (or COMMIT's): they pass unchanged.
                        throw race.didLease ? error : self.leaseError(error)
                    }
                }
                group.addTask {
                    do {
                        try await Task.sleep(for: self.connectionTimeout)
                    } catch {
                        return .timerStopped
                    }
                    return race.timedOut() ? .timedOut : .timerStopped
                }
                while let next = try await group.next() {
                    switch next {
                    case .finished:
                        group.cancelAll()
                        return next
                    case .timedOut:
                        group.cancelAll()
                        return next
                    case .timerStopped:
                        continue
                    }
                }
                throw CancellationError()
            }
        }
        switch outcome {
        case .finished(let value):
            return value
        case .timedOut, .timerStopped:
            throw await self.timeoutError()
        }
    }

    private func leaseError(_ error: any Error) -> any Error {
        switch self.lifecycle.phase {
        case .stopping, .finished:
            return StoreError.storeShutDown
        case .idle, .running:
            break
        }
        if error is CancellationError || Task.isCancelled {
            return CancellationError()
        }
        return StoreError(
            .cannotConnect,
            "cannot get a PostgreSQL connection to \(self.url.endpoint): \(describeDatabaseError(error))",
            underlying: error
        )
    }

    /// Says why no connection came: `run()` not running, the server unreachable (with the reason, found by one
    /// direct connection attempt), or every pooled connection busy.
    private func timeoutError() async -> StoreError {
        let seconds = self.connectionTimeout.components.seconds
        let waited = "no PostgreSQL connection to \(self.url.endpoint) within \(seconds) s"
        switch self.lifecycle.phase {
        case .idle:
            return StoreError(
                .connectionTimeout,
                "\(waited): Store.run() is not running; run the store in a ServiceGroup or use withStore(_:logger:_:)"
            )
        case .stopping, .finished:
            return StoreError.storeShutDown
        case .running:
            break
        }
        do {
            let configuration = try self.url.connectionConfiguration(connectTimeout: .seconds(5))
            let connection = try await PostgresConnection.connect(
                configuration: configuration,
                id: 0,
                logger: self.logger
            )
            try? await connection.close()
            return StoreError(
                .connectionTimeout,
                "\(waited), though the server accepts connections: all \(self.maximumConnections) pooled connections "
                    + "are in use (raise maximumConnections or shorten transactions)"
            )
        } catch {
            return StoreError(
                .cannotConnect,
                "cannot connect to PostgreSQL at \(self.url.endpoint): \(describeDatabaseError(error))",
                underlying: error
            )
        }
    }
}

private enum LeaseOutcome<T: Sendable>: Sendable {
    case finished(T)
    case timedOut
    case timerStopped
}

/// Decides, once, whether the lease or the timeout came first.
private final class LeaseRace: Sendable {
    private enum State {
        case waiting
        case leased
        case timedOut
    }

    private let state = Mutex(State.waiting)

    /// The lease arrived; false if the timeout already won.
    func leased() -> Bool {
        self.state.withLock { state in
            switch state {
            case .waiting, .leased:
                state = .leased
                return true
            case .timedOut:
                return false
            }
        }
    }

    var didLease: Bool {
        self.state.withLock { $0 == .leased }
    }

    /// The timer fired; false if the lease already won.
    func timedOut() -> Bool {
        self.state.withLock { state in
            switch state {
            case .waiting, .timedOut:
                state = .timedOut
                return true
            case .leased:
                return false
            }
        }
    }
}

import Logging

/// Runs a store around `body`: starts its ``Store/run()`` in a task group, calls `body`, then shuts the store down
/// and waits for it to close its connections. For tests and command-line tools.
///
/// ```swift
/// let versions = try await withStore(.init(backend: .sqliteInMemory), logger: logger) { store in
///     try await store.migrate(migrations)
///     return try await store.appliedMigrations()
/// }
/// ```
///
/// - Parameters:
///   - configuration: Where the data lives.
///   - logger: Where the store logs.
///   - body: The work; the store shuts down when it returns or throws.
/// - Returns: What `body` returned.
/// - Throws: `body`'s error, or the store's if its `run()` fails first (for example a malformed configuration).
public func withStore<T: Sendable>(
    _ configuration: StoreConfiguration,
    logger: Logger,
    _ body: @Sendable (Store) async throws -> T
) async throws -> T {
    let store = Store(configuration: configuration, logger: logger)
    if case .unusable(let error, _) = store.engine {
        throw error
    }
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            try await store.run()
        }
        // Let run() start first, so that PostgreSQL's pool is running before the first lease.
        while store.lifecycle.phase == .idle {
            await Task.yield()
        }
        do {
            let value = try await body(store)
            group.cancelAll()
            try await group.waitForAll()
            return value
        } catch {
            group.cancelAll()
            try? await group.waitForAll()
            throw error
        }
    }
}

extension StoreError {
    static var storeShutDown: StoreError {
        StoreError(.shutDown, "the store has shut down (its run() returned); it takes no more work")
    }

    static var runCalledTwice: StoreError {
        StoreError(.alreadyRunning, "Store.run() was called a second time; run each store once")
    }
}

extension StoreError {
    static var postgresConnectionClosed: StoreError {
        StoreError(
            .cannotConnect,
            "the PostgreSQL connection closed before the statement ran (the server went away, or the store shut down)"
        )
    }
}

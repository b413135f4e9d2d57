import ConduitContext
import SQLKit
import Synchronization

/// The users the pipeline needs to know about (business unit, Entra object id), cached.
final class UserDirectory: Sendable {
    struct User: Sendable, Hashable {
        var businessUnitId: Guid
        var azureActiveDirectoryObjectId: Guid
    }
    private let cache = Mutex<[Guid: User]>([:])

    /// The user; with `db` `nil`, only a cached one (else `nil`).
    func user(_ id: Guid, db: (any SQLDatabase)?) async throws -> User? {
        if let user = cache.withLock({ $0[id] }) { return user }
        guard let db else { return nil }
        var statement = SQLStatement(
            "SELECT businessunitid, azureactivedirectoryobjectid, isdisabled FROM systemuser WHERE systemuserid = "
        )
        statement.bind(id.description)
        guard let row = try await db.rows(statement).first else {
            throw PlatformError(.objectDoesNotExist, "The user \(id) does not exist.")
        }
        if try row.decode(column: "isdisabled", as: Bool?.self) == true {
            throw PlatformError(.invalidArgument, "The user \(id) is disabled.")
        }
        let user = User(
            businessUnitId: Guid(try row.decode(column: "businessunitid", as: String?.self) ?? "") ?? .empty,
            azureActiveDirectoryObjectId: Guid(
                try row.decode(column: "azureactivedirectoryobjectid", as: String?.self) ?? ""
            )
                ?? .empty
        )
        cache.withLock { $0[id] = user }
        return user
    }

    func invalidate() {
        cache.withLock { $0.removeAll() }
    }
}

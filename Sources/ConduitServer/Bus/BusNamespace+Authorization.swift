import ConduitBus
import Foundation
import Hummingbird

extension BusNamespace {
    /// Checks a request's SAS token for an operation on `entity` (a path in the namespace; empty for the namespace
    /// itself) that needs `right`: 401 for a missing, forged or expired token, 403 for a missing right.
    func authorize(_ request: Request, entity: String, right: AccessRight) async throws {
        let host = request.head.authority ?? "localhost"
        do {
            try await authorize(
                request.headers[.authorization],
                resource: "sb://\(host)/\(entity)",
                right: right,
                now: Int64(Date().timeIntervalSince1970)
            )
        } catch let error as AuthorizationError {
            throw HTTPError(error.kind == .unauthorized ? .unauthorized : .forbidden, message: error.message)
        }
    }
}

import ConduitBus

/// The SAS token a post to an endpoint carries: made from its key (authtype 2), taken as given (3), or from its
/// connection string's key or signature (7).
enum EndpointCredentials {
    /// How long a token made for one post lives.
    static let tokenLifetime: Int64 = 3600

    /// The `Authorization` header value for a post to `resource` (`https://host/path`) at `now` (Unix seconds).
    static func authorization(
        for endpoint: ServiceEndpoint,
        resource: String,
        now: Int64
    ) throws(ServiceEndpointError) -> String {
        switch endpoint.authType {
        case .sasKey:
            guard let keyName = endpoint.sasKeyName, let key = endpoint.sasKey else {
                throw ServiceEndpointError("The endpoint '\(endpoint.name)' has no saskeyname or saskey.")
            }
            return SASToken.make(resource: resource, keyName: keyName, key: key, expiry: now + tokenLifetime)
                .headerValue
        case .sasToken:
            guard let token = endpoint.sasToken else {
                throw ServiceEndpointError("The endpoint '\(endpoint.name)' has no sastoken.")
            }
            return token
        case .connectionString:
            let parsed: ConnectionString
            do {
                parsed = try ConnectionString(parsing: endpoint.authValue ?? "")
            } catch {
                throw ServiceEndpointError(
                    "The endpoint '\(endpoint.name)' has no valid connection string: \(error.message)."
                )
            }
            if let signature = parsed.sharedAccessSignature { return signature }
            return SASToken.make(
                resource: resource,
                keyName: parsed.keyName ?? "",
                key: parsed.key ?? "",
                expiry: now + tokenLifetime
            ).headerValue
        default:
            throw ServiceEndpointError(
                "The endpoint '\(endpoint.name)' has authtype \(endpoint.authType.rawValue), which a \(endpoint.contract.label) cannot use."
            )
        }
    }
}

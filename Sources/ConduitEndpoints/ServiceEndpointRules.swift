import ConduitBus
import ConduitContext
import ConduitPlatform
import Foundation

/// The checks every Create and Update of a `serviceendpoint` row goes through: the contract, format and
/// authorization must fit together, the address must parse, and the secrets needed must be there. Sets the
/// read-only `issaskeyset`, `issastokenset` and `isauthvalueset`.
struct ServiceEndpointRules: Sendable {
    let embedded: EmbeddedNamespace

    func check(_ target: inout Entity, current: Entity?) throws {
        var merged = current ?? Entity(logicalName: "serviceendpoint", id: target.id)
        for entry in target.attributes.entries { merged.attributes[entry.key] = entry.value }
        // A connection string fills in the address, key name and key it holds.
        if case .string(let text)? = merged.attributes["authvalue"], merged.attributes["authtype"]?.optionValue == 7 {
            let parsed = try parse(connectionString: text)
            for (name, value) in try fill(from: parsed, merged: merged) {
                target.attributes[name] = .string(value)
                merged.attributes[name] = .string(value)
            }
        }
        let endpoint: ServiceEndpoint
        do {
            endpoint = try ServiceEndpoint(row: merged)
        } catch {
            throw PlatformError(.invalidArgument, error.message)
        }
        do {
            try validate(endpoint, connectionMode: merged.attributes["connectionmode"]?.optionValue)
        } catch {
            throw PlatformError(
                .invalidArgument,
                "The service endpoint '\(endpoint.name)' cannot be saved: \(error.message)"
            )
        }
        target.attributes["issaskeyset"] = .boolean(endpoint.sasKey != nil)
        target.attributes["issastokenset"] = .boolean(endpoint.sasToken != nil)
        target.attributes["isauthvalueset"] = .boolean(endpoint.authValue != nil)
    }

    func validate(_ endpoint: ServiceEndpoint, connectionMode: Int32?) throws(ServiceEndpointError) {
        guard !endpoint.name.isEmpty else { throw ServiceEndpointError("it needs a name.") }
        guard endpoint.contract.isSupported else {
            throw ServiceEndpointError(
                "contract \(endpoint.contract.rawValue) (\(endpoint.contract.label)) is not built yet in Conduit; this version posts to 1 OneWay, 2/6 Queue, 3 Rest, 4 TwoWay, 5 Topic, 7 Event Hub and 8 Webhook."
            )
        }
        if endpoint.contract == .webhook {
            try validateWebhook(endpoint)
            return
        }
        if let connectionMode, connectionMode != 1 {
            throw ServiceEndpointError(
                "connectionmode \(connectionMode) (Federated) needs ACS, which Azure retired; use 1 (Normal) with SAS."
            )
        }
        guard !endpoint.path.isEmpty else {
            throw ServiceEndpointError("it needs a path: the name of the \(endpoint.contract.label.lowercased()).")
        }
        guard !endpoint.path.contains(where: { $0 == " " || $0 == "?" || $0 == "#" }) else {
            throw ServiceEndpointError("the path '\(endpoint.path)' may not contain spaces, '?' or '#'.")
        }
        let hasAddress = !(endpoint.namespaceAddress ?? "").isEmpty
        guard hasAddress || !(endpoint.solutionNamespace ?? "").isEmpty else {
            throw ServiceEndpointError(
                "it needs a namespace: solutionnamespace (the namespace's name) or namespaceaddress (sb://<name>.servicebus.windows.net/)."
            )
        }
        if hasAddress { _ = try EndpointAddress(parsing: endpoint.address) }
        switch endpoint.authType {
        case .sasKey:
            guard endpoint.sasKeyName != nil, endpoint.sasKey != nil else {
                throw ServiceEndpointError("authtype 2 (SAS Key) needs saskeyname and saskey.")
            }
        case .sasToken:
            guard let token = endpoint.sasToken else {
                throw ServiceEndpointError("authtype 3 (SAS Token) needs sastoken.")
            }
            do {
                _ = try SASToken(parsing: token)
            } catch {
                throw ServiceEndpointError("the sastoken is not a SAS token: \(error.message).")
            }
        case .connectionString:
            guard endpoint.authValue != nil else {
                throw ServiceEndpointError("authtype 7 (Connection String) needs the connection string in authvalue.")
            }
        case .acs:
            throw ServiceEndpointError("authtype 1 (ACS) was retired by Azure; use 2 (SAS Key) or 3 (SAS Token).")
        case .webhookKey, .httpHeader, .httpQueryString, .accessKey:
            throw ServiceEndpointError(
                "authtype \(endpoint.authType.rawValue) is for webhooks and Event Grid; a \(endpoint.contract.label) uses 2 (SAS Key), 3 (SAS Token) or 7 (Connection String)."
            )
        }
        if endpoint.contract == .eventHub && endpoint.format == .binary {
            throw ServiceEndpointError(
                "an Event Hub takes messageformat 2 (Json) or 3 (Text XML), not 1 (Binary XML), as in Dataverse."
            )
        }
        if !endpoint.contract.isRelay, !(try embedded.contains(endpoint)),
            !(try EndpointAddress(parsing: endpoint.address)).isAMQP
        {
            if endpoint.format == .binary {
                throw ServiceEndpointError(
                    "messageformat 1 (Binary XML) cannot go over the Service Bus REST API (an https:// or http:// address): it carries the Claims properties only in its JSON batch form, which holds text bodies. Use an sb:// address (AMQP), or 2 (Json) or 3 (Text XML)."
                )
            }
            if endpoint.contract == .eventHub {
                throw ServiceEndpointError(
                    "a remote Event Hub is posted to over AMQP: give it an sb:// address (or amqp:// for a plain local test namespace), not an https:// or http:// one."
                )
            }
        }
    }

    /// A webhook: an http(s) url, and its authorization (4 WebhookKey, 5 HttpHeader, 6 HttpQueryString) in
    /// `authvalue`. Any port is allowed (Dataverse allows only 80 and 443; a self-hosted server posts to its own).
    private func validateWebhook(_ endpoint: ServiceEndpoint) throws(ServiceEndpointError) {
        _ = try WebhookURL(endpoint)
        switch endpoint.authType {
        case .webhookKey:
            guard endpoint.authValue != nil else {
                throw ServiceEndpointError("authtype 4 (WebhookKey) needs the key in authvalue (sent as ?code=…).")
            }
        case .httpHeader, .httpQueryString:
            guard let text = endpoint.authValue else {
                throw ServiceEndpointError(
                    "authtype \(endpoint.authType.rawValue) needs authvalue: <settings><setting name=\"…\" value=\"…\"/></settings>."
                )
            }
            let settings = try WebhookSettings(parsing: text)
            if endpoint.authType == .httpHeader { try settings.checkHeaders() }
        default:
            throw ServiceEndpointError(
                "authtype \(endpoint.authType.rawValue) is not for webhooks: use 4 (WebhookKey), 5 (HttpHeader) or 6 (HttpQueryString)."
            )
        }
    }

    private func parse(connectionString text: String) throws -> ConnectionString {
        do {
            return try ConnectionString(parsing: text)
        } catch {
            throw PlatformError(
                .invalidArgument,
                "The service endpoint's authvalue is not a connection string: \(error.message)."
            )
        }
    }

    /// The columns a connection string sets, checked against what the row already says.
    private func fill(from parsed: ConnectionString, merged: Entity) throws -> [(String, String)] {
        var columns: [(String, String)] = []
        func current(_ name: String) -> String? {
            if case .string(let value)? = merged.attributes[name], !value.isEmpty { return value }
            return nil
        }
        if let entityPath = parsed.entityPath {
            if let path = current("path"), path.lowercased() != entityPath.lowercased() {
                throw PlatformError(
                    .invalidArgument,
                    "The connection string's EntityPath '\(entityPath)' differs from the endpoint's path '\(path)'."
                )
            }
            if current("path") == nil { columns.append(("path", entityPath)) }
        }
        if current("namespaceaddress") == nil { columns.append(("namespaceaddress", parsed.endpoint)) }
        if current("solutionnamespace") == nil { columns.append(("solutionnamespace", parsed.host)) }
        if let keyName = parsed.keyName, current("saskeyname") == nil { columns.append(("saskeyname", keyName)) }
        return columns
    }
}

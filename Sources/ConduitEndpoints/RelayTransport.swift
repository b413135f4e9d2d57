import AsyncHTTPClient
import ConduitBus
import ConduitContext
import ConduitPlatform
import Foundation
import NIOCore
import NIOHTTP1

/// Posts to a relay listener (contracts 1 OneWay, 4 TwoWay and 3 REST) through a hybrid connection in HTTP request
/// mode (reference §5.2): `POST /{path}` with the context in the endpoint's format, the `x-ms-dynamics-*` headers and
/// the contract in `x-conduit-contract`. On the embedded relay the request goes to the listener through this node's
/// ``RelayHub``; a remote relay (Azure Relay or another Conduit) gets it over HTTPS with a SAS token
/// (`ServiceBusAuthorization`), as Azure's senders send it.
///
/// Only a 2xx answer counts. No listener (502) or a listener that does not answer (504) leaves the job to retry, as
/// Dataverse retries a one-way post with no listener until the job gives up. TwoWay and REST return the answer's
/// body as text to the caller (a custom plug-in gets it from `execute`); OneWay returns nothing.
struct RelayTransport: Sendable {
    let client: HTTPClient
    let namespace: BusNamespace
    /// How long the listener has to answer.
    let timeout: Duration

    /// The header naming the contract, so that one listener can serve every contract.
    static let contractHeader = "x-conduit-contract"

    func post(
        _ message: EndpointMessage,
        context: RemoteExecutionContext,
        to endpoint: ServiceEndpoint,
        organization: String,
        isLocal: Bool
    ) async throws -> String? {
        let headers = Self.headers(message, context: context, endpoint: endpoint, organization: organization)
        let (status, body) =
            isLocal
            ? try await postLocally(message, headers: headers, to: endpoint)
            : try await postRemotely(message, headers: headers, to: endpoint)
        let place =
            isLocal ? "the embedded relay" : "\((try? EndpointAddress(parsing: endpoint.address))?.description ?? "?")"
        let detail = body.isEmpty ? "" : ": \(String(decoding: body.prefix(500), as: UTF8.self))"
        switch status {
        case 200..<300:
            guard endpoint.contract != .oneWay else { return nil }
            return String(decoding: body, as: UTF8.self)
        case 502, 503:
            throw ExternalServiceError(
                "No listener is connected to the hybrid connection '\(endpoint.path)' at \(place) (\(status))\(detail)",
                friendlyMessage:
                    "Start a listener on '\(endpoint.path)' (conduit listen --relay \(endpoint.path)); the job will try again."
            )
        case 504:
            throw ExternalServiceError(
                "The listener on '\(endpoint.path)' at \(place) did not answer in time (504)\(detail)",
                friendlyMessage: "The relay listener is too slow or stuck; the job will try again."
            )
        case 401, 403:
            throw PostFailure.refusedCredentials(
                "\(place.prefix(1).uppercased() + place.dropFirst()) refused the endpoint's credentials for '\(endpoint.path)' (\(status))\(detail)"
            )
        case 404, 410:
            throw PostFailure.missingEntity(
                "There is no hybrid connection '\(endpoint.path)' at \(place) (\(status))\(detail)",
                path: endpoint.path
            )
        case 400..<500:
            throw PlatformError(
                .unexpected,
                "The listener on '\(endpoint.path)' refused the context (\(status))\(detail)"
            )
        default:
            throw ExternalServiceError(
                "The listener on '\(endpoint.path)' at \(place) answered \(status)\(detail)",
                friendlyMessage: "The relay listener failed; the job will try again."
            )
        }
    }

    /// The embedded relay: the endpoint's credentials are checked with the Send right, then the request goes to a
    /// listener of this node.
    private func postLocally(
        _ message: EndpointMessage,
        headers: [String: String],
        to endpoint: ServiceEndpoint
    ) async throws -> (Int, [UInt8]) {
        try await EmbeddedBusTransport.authorize(endpoint, namespace: namespace, transaction: nil)
        guard try await namespace.relays.isRelay(endpoint.path) else {
            return (404, Array("Create it with conduit bus relay create \(endpoint.path).".utf8))
        }
        do {
            let answer = try await namespace.relays.hub.send(
                RelayHub.Request(method: "POST", target: "/\(endpoint.path)", headers: headers, body: message.body),
                to: endpoint.path,
                timeout: timeout
            )
            return (answer.head.statusCode, answer.body)
        } catch let failure as RelayFailure {
            // The status says it all when no listener is connected; other failures add their detail.
            return (failure.httpStatus, failure.kind == .noListener ? [] : Array(failure.message.utf8))
        }
    }

    /// A remote relay: HTTP request mode with a SAS token for `https://host/{path}`.
    private func postRemotely(
        _ message: EndpointMessage,
        headers: [String: String],
        to endpoint: ServiceEndpoint
    ) async throws -> (Int, [UInt8]) {
        let address = try EndpointAddress(parsing: endpoint.address)
        let url = "\(address.httpBase)/\(endpoint.path)"
        let token = try EndpointCredentials.authorization(
            for: endpoint,
            resource: url.lowercased(),
            now: Int64(Date().timeIntervalSince1970)
        )
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "ServiceBusAuthorization", value: token)
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: message.body))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: TimeAmount(timeout))
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            return (504, Array("no answer within \(timeout.components.seconds) s".utf8))
        } catch {
            let text = String(describing: error)
            if PostFailure.isCertificateProblem(text) { throw PostFailure.untrustedCertificate(address, text) }
            throw PostFailure.unreachable("The relay namespace \(address) could not be reached: \(text).")
        }
        let body = (try? await response.body.collect(upTo: 1024 * 1024)).map { Array($0.readableBytesView) } ?? []
        return (Int(response.status.code), body)
    }

    /// The request's headers: content type, Dataverse's `x-ms-dynamics-*` headers, the contract and trace context.
    static func headers(
        _ message: EndpointMessage,
        context: RemoteExecutionContext,
        endpoint: ServiceEndpoint,
        organization: String
    ) -> [String: String] {
        var headers = [
            "Content-Type": message.contentType,
            "x-ms-dynamics-organization": organization.lowercased(),
            "x-ms-dynamics-entity-name": context.primaryEntityName ?? "",
            "x-ms-dynamics-request-name": context.messageName ?? "",
            "x-ms-correlation-request-id": context.correlationId.description,
            contractHeader: endpoint.contract.label,
            "x-conduit-message-id": message.messageId,
        ]
        if message.isTruncated { headers[WebhookTransport.sizeExceededHeader] = "true" }
        if let traceparent = message.properties.first(where: { $0.key == "traceparent" })?.value {
            headers["traceparent"] = traceparent
        }
        return headers
    }
}

import AsyncHTTPClient
import ConduitContext
import ConduitPlatform
import Foundation
import NIOCore
import NIOHTTP1

/// Posts an execution context to a webhook (contract 8) as Dataverse does (reference §9.2, §5.1): `POST` of the JSON
/// context, whatever the endpoint's `messageformat`, with the `x-ms-dynamics-*` and `x-ms-correlation-request-id`
/// headers; the authorization as a `code` query parameter (WebhookKey), headers (HttpHeader) or query parameters
/// (HttpQueryString); only a 2xx answer counts. Above 256 KB the context loses ParentContext, InputParameters and
/// the images, and the request says so with `x-ms-dynamics-msg-size-exceeded`.
///
/// A synchronous step tries once more after a 502, 503 or 504; any other failure is the step's error (the operation
/// rolls back). An asynchronous step's failures leave its system job to retry with backoff.
struct WebhookTransport: Sendable {
    let client: HTTPClient
    /// How long one request may take (Dataverse: 60 s).
    let timeout: Duration

    /// Present (`true`) when the context was cut to fit ``PayloadSizePolicy/webhook``.
    static let sizeExceededHeader = "x-ms-dynamics-msg-size-exceeded"

    /// Posts `context`; returns the webhook's answer (its body as text, up to 64 KB; `nil` when empty).
    func post(
        _ context: RemoteExecutionContext,
        to endpoint: ServiceEndpoint,
        organization: String,
        traceparent: String?,
        synchronous: Bool
    ) async throws -> String? {
        let payload: SizedPayload
        do {
            payload = try PayloadSizePolicy.webhook.apply(to: context, format: .json)
        } catch {
            throw PlatformError(.unexpected, "The context for webhook '\(endpoint.name)' was not sent: \(error)")
        }
        let request = try Self.request(
            payload,
            context: context,
            to: endpoint,
            organization: organization,
            traceparent: traceparent
        )
        do {
            return try await send(request, endpoint: endpoint)
        } catch let failure as WebhookFailure where synchronous && failure.isGatewayError {
            // A synchronous step tries a gateway's failure once more, as Dataverse does.
            do {
                return try await send(request, endpoint: endpoint)
            } catch let failure as WebhookFailure {
                throw failure.error
            }
        } catch let failure as WebhookFailure {
            throw failure.error
        }
    }

    /// The request for `payload`.
    static func request(
        _ payload: SizedPayload,
        context: RemoteExecutionContext,
        to endpoint: ServiceEndpoint,
        organization: String,
        traceparent: String?
    ) throws -> HTTPClientRequest {
        let target = try WebhookURL(endpoint)
        var parameters: [(String, String)] = []
        var headers: [WebhookSettings.Setting] = []
        switch endpoint.authType {
        case .webhookKey:
            parameters.append(("code", endpoint.authValue ?? ""))
        case .httpQueryString:
            parameters += try settings(of: endpoint).map { ($0.name, $0.value) }
        case .httpHeader:
            headers = try settings(of: endpoint)
        default:
            break
        }
        var request = HTTPClientRequest(url: target.adding(parameters))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "x-ms-dynamics-organization", value: organization.lowercased())
        request.headers.add(name: "x-ms-dynamics-entity-name", value: context.primaryEntityName ?? "")
        request.headers.add(name: "x-ms-dynamics-request-name", value: context.messageName ?? "")
        request.headers.add(name: "x-ms-correlation-request-id", value: context.correlationId.description)
        if payload.isTruncated { request.headers.add(name: sizeExceededHeader, value: "true") }
        if let traceparent { request.headers.add(name: "traceparent", value: traceparent) }
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        request.body = .bytes(ByteBuffer(bytes: payload.body))
        return request
    }

    private static func settings(of endpoint: ServiceEndpoint) throws -> [WebhookSettings.Setting] {
        do {
            return try WebhookSettings(parsing: endpoint.authValue ?? "").settings
        } catch {
            throw PlatformError(.invalidArgument, "The webhook '\(endpoint.name)' cannot be called: \(error.message)")
        }
    }

    private func send(_ request: HTTPClientRequest, endpoint: ServiceEndpoint) async throws -> String? {
        let place = (try? WebhookURL(endpoint).display) ?? endpoint.name
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: TimeAmount(timeout))
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            throw WebhookFailure(
                status: nil,
                error: ExternalServiceError(
                    "The webhook \(place) did not answer within \(timeout.components.seconds) s.",
                    friendlyMessage: "The webhook \(place) is too slow or down; the job will try again."
                )
            )
        } catch {
            let text = String(describing: error)
            throw WebhookFailure(
                status: nil,
                error: ExternalServiceError(
                    "The webhook \(place) could not be reached: \(text).",
                    friendlyMessage: PostFailure.isCertificateProblem(text)
                        ? "Give conduit serve the certificate authority of the webhook (--remote-ca FILE); the job will try again."
                        : "The webhook \(place) is down or unreachable; the job will try again."
                )
            )
        }
        let body = try? await response.body.collect(upTo: 64 * 1024)
        let text = body.map { String(buffer: $0) } ?? ""
        let code = Int(response.status.code)
        guard (200..<300).contains(code) else {
            let detail = text.isEmpty ? "" : ": \(text.prefix(500))"
            throw WebhookFailure(
                status: code,
                error: ExternalServiceError(
                    "The webhook \(place) answered \(code) \(response.status.reasonPhrase)\(detail)",
                    friendlyMessage:
                        "The webhook \(place) answered \(code); only a 2xx answer counts. The job will try again."
                )
            )
        }
        return text.isEmpty ? nil : text
    }

    /// A failed attempt: the error, and the status when the webhook answered.
    private struct WebhookFailure: Error {
        var status: Int?
        var error: ExternalServiceError

        /// 502, 503 or 504: worth one more try within a synchronous step.
        var isGatewayError: Bool { status.map { (502...504).contains($0) } ?? false }
    }
}

/// A webhook's `url`, checked: `http` or `https`, with a host.
struct WebhookURL: Sendable {
    let components: URLComponents

    init(_ endpoint: ServiceEndpoint) throws(ServiceEndpointError) {
        try self.init(parsing: endpoint.url ?? "")
    }

    init(parsing text: String) throws(ServiceEndpointError) {
        guard !text.isEmpty else { throw ServiceEndpointError("a webhook needs a url (http:// or https://).") }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw ServiceEndpointError("the url '\(text)' is not a URL.")
        }
        guard scheme == "http" || scheme == "https" else {
            throw ServiceEndpointError("the url '\(text)' is not http:// or https://; webhooks take only those.")
        }
        guard let host = components.host, !host.isEmpty else {
            throw ServiceEndpointError("the url '\(text)' has no host.")
        }
        guard components.user == nil, components.password == nil else {
            throw ServiceEndpointError(
                "the url '\(text)' holds a user name or password; use authtype 5 (HttpHeader) for credentials."
            )
        }
        guard components.fragment == nil else {
            throw ServiceEndpointError("the url '\(text)' has a fragment (#…), which is never sent.")
        }
        self.components = components
    }

    /// The URL without its query (which may hold a key), for messages.
    var display: String {
        var shown = components
        shown.query = nil
        return shown.string ?? "?"
    }

    /// The URL with `parameters` added to its query, percent-encoded.
    func adding(_ parameters: [(String, String)]) -> String {
        var result = components
        let added = parameters.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }
        let query = ([components.percentEncodedQuery].compactMap { $0 }.filter { !$0.isEmpty } + added)
        result.percentEncodedQuery = query.isEmpty ? nil : query.joined(separator: "&")
        return result.string ?? ""
    }

    private static func encode(_ text: String) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}

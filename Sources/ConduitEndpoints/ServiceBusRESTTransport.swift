import AsyncHTTPClient
import ConduitPlatform
import Foundation
import NIOCore
import NIOHTTP1

/// Posts to a remote Service Bus namespace (Azure, or another Conduit) with the Service Bus REST API: one message
/// in the JSON batch form (`application/vnd.microsoft.servicebus.json`), because only it carries user properties
/// whose names hold `:` and `/` (the Claims keys), which HTTP header names cannot. SAS-authorized.
struct ServiceBusRESTTransport: Sendable {
    let client: HTTPClient
    /// How long one post may take.
    let timeout: Duration

    func post(_ message: EndpointMessage, to endpoint: ServiceEndpoint) async throws {
        let address = try EndpointAddress(parsing: endpoint.address)
        let resource = "\(address.httpBase)/\(endpoint.path)".lowercased()
        let header = try EndpointCredentials.authorization(
            for: endpoint,
            resource: resource,
            now: Int64(Date().timeIntervalSince1970)
        )
        guard let text = String(validating: message.body, as: UTF8.self) else {
            throw PlatformError(
                .unexpected,
                "The \(message.contentType) body is not text, and the Service Bus REST API carries text bodies only."
            )
        }
        let broker: [String: Any] = ["MessageId": message.messageId, "ContentType": message.contentType]
        let entry: [String: Any] = [
            "Body": text, "BrokerProperties": broker,
            "UserProperties": Dictionary(message.properties.map { ($0.key, $0.value) }) { _, last in last },
        ]
        let body = try JSONSerialization.data(withJSONObject: [entry], options: [.sortedKeys])
        var request = HTTPClientRequest(url: "\(address.httpBase)/\(endpoint.path)/messages?timeout=60")
        request.method = .POST
        request.headers.add(name: "Authorization", value: header)
        request.headers.add(name: "Content-Type", value: "application/vnd.microsoft.servicebus.json")
        request.body = .bytes(ByteBuffer(bytes: body))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(
                request,
                timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000)
            )
        } catch {
            let text = String(describing: error)
            if PostFailure.isCertificateProblem(text) { throw PostFailure.untrustedCertificate(address, text) }
            throw PostFailure.unreachable("The namespace \(address) could not be reached: \(text).")
        }
        let reply = try? await response.body.collect(upTo: 64 * 1024)
        let detail = reply.map { String(buffer: $0) }.map { $0.isEmpty ? "" : ": \($0.prefix(500))" } ?? ""
        switch response.status.code {
        case 200..<300:
            return
        case 400, 413:
            throw PlatformError(
                .unexpected,
                "The namespace \(address) refused the message to '\(endpoint.path)' (\(response.status.code))\(detail)"
            )
        case 401, 403:
            throw PostFailure.refusedCredentials(
                "The namespace \(address) refused the endpoint's credentials for '\(endpoint.path)' (\(response.status.code))\(detail)"
            )
        case 404, 410:
            throw PostFailure.missingEntity(
                "The namespace \(address) has no entity '\(endpoint.path)' (\(response.status.code))\(detail)",
                path: endpoint.path
            )
        default:
            throw ExternalServiceError(
                "The namespace \(address) answered \(response.status.code) to the post to '\(endpoint.path)'\(detail)"
            )
        }
    }
}

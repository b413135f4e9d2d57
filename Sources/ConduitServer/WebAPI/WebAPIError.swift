import ConduitBus
import ConduitPlatform
import ConduitStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A Web API error in Dataverse's shape: `{"error":{"code":"0x80040217","message":"…"}}` with its HTTP status.
public struct WebAPIError: HTTPResponseError, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// The Dataverse error code, e.g. `0x80040217`.
    public var code: String
    public var message: String
    /// A failed synchronous plug-in's trace, written as `@Microsoft.PowerApps.CDS.TraceText`.
    public var traceText: String?

    public init(status: HTTPResponse.Status, code: String, message: String, traceText: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.traceText = traceText
    }

    /// The Web API form of a platform error.
    public init(_ error: PlatformError) {
        self.init(
            status: HTTPResponse.Status(code: error.code.httpStatus),
            code: error.code.hex,
            message: error.message,
            traceText: error.traceText
        )
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    /// The Web API form of the errors the platform, the bus and the request parsers throw; others are returned as
    /// they are.
    static func translate(_ error: any Error) -> any Error {
        switch error {
        case let error as PlatformError: WebAPIError(error)
        // A post that failed on the way (a remote bus or webhook down): what it answered, as a bad gateway.
        case let error as ExternalServiceError:
            WebAPIError(status: .badGateway, code: error.code.hex, message: error.friendlyMessage ?? error.message)
        case let error as JSONSyntaxError: WebAPIError.badRequest(error.description)
        case let error as ODataQueryError: WebAPIError.badRequest(error.description)
        case let error as BusError:
            WebAPIError(
                status: error.kind == .entityNotFound ? .notFound : HTTPResponse.Status(code: error.httpStatus),
                code: "0x80060888",
                message: error.message
            )
        case let error as DecodingError:
            WebAPIError.badRequest("The request body is not what this call takes: \(Self.describe(error))")
        default:
            // A full disk or a read-only database: say so (507 / 503), not a bare 500.
            if let condition = StorageCondition(error) {
                WebAPIError(
                    status: condition == .diskFull
                        ? HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage") : .serviceUnavailable,
                    code: "0x80040216",
                    message: condition.message
                )
            } else if UniqueViolation.matches(error) {
                // Two requests that wrote the same key at once: the later one is the duplicate.
                WebAPIError(
                    status: .preconditionFailed,
                    code: PlatformError.Code.duplicateRecord.hex,
                    message:
                        "Another request created the same record at the same moment; it exists now. Read it, or send the request again."
                )
            } else {
                error
            }
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
            .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    static func badRequest(_ message: String, code: String = "0x80060888") -> WebAPIError {
        WebAPIError(status: .badRequest, code: code, message: message)
    }

    static func notFound(_ message: String) -> WebAPIError {
        WebAPIError(status: .notFound, code: "0x80060888", message: message)
    }

    static let unauthorized = WebAPIError(
        status: .unauthorized,
        code: "0x80072560",
        message:
            "Missing or invalid API key: send 'Authorization: Bearer <key>' (the administrator's key is in <data-dir>/admin.key)."
    )

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var members = [("code", JSONWriter.quoted(code)), ("message", JSONWriter.quoted(message))]
        if let traceText { members.append(("@Microsoft.PowerApps.CDS.TraceText", JSONWriter.quoted(traceText))) }
        let body = JSONWriter.object([("error", JSONWriter.object(members))])
        var headers = HTTPFields()
        headers[.contentType] = "application/json; odata.metadata=minimal"
        headers[HTTPField.Name("OData-Version")!] = "4.0"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}

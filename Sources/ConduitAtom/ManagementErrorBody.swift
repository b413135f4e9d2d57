/// The body of a management error response: `<Error><Code>404</Code><Detail>…</Detail></Error>`, unqualified,
/// sent with ``ManagementContentType/error``.
///
/// The Python client reads `Code` and `Detail` into its exception (`HttpResponseError.message` is the detail);
/// the .NET client maps on the HTTP status (404 → `MessagingEntityNotFound`, 409 → `MessagingEntityAlreadyExists`,
/// 400 → `ArgumentException`, 401 → `UnauthorizedAccessException`, 403 → quota or invalid operation, 503 →
/// `ServiceBusy`) and puts the body in the message. Azure's details start with `SubCode=…` for 400, 403 and 409.
public struct ManagementErrorBody: Sendable, Hashable {
    /// The HTTP status code, repeated in the body.
    public var code: Int
    /// A human-readable description.
    public var detail: String

    /// Creates an error body.
    public init(code: Int, detail: String) {
        self.code = code
        self.detail = detail
    }

    /// The XML text.
    public var xml: String {
        var writer = XMLWriter()
        writer.open("Error")
        writer.leaf("Code", code)
        writer.leaf("Detail", detail)
        writer.close("Error")
        return writer.output
    }

    /// `400 Bad Request` for a body the decoder refused; the detail carries the decoder's message.
    public static func badRequest(_ error: ManagementCodecError) -> ManagementErrorBody {
        ManagementErrorBody(code: 400, detail: "SubCode=40000. Bad Request. " + error.message)
    }

    /// `404 Not Found`, as Azure answers a DELETE (or an update) of an entity that does not exist.
    public static func notFound(path: String) -> ManagementErrorBody {
        ManagementErrorBody(code: 404, detail: "No service is hosted at the specified address. Entity: \(path).")
    }

    /// `409 Conflict`, as Azure answers a create (PUT without `If-Match`) of an entity that exists.
    public static func conflict(path: String) -> ManagementErrorBody {
        ManagementErrorBody(
            code: 409,
            detail: "SubCode=40900. Conflict. You're requesting an operation that isn't allowed in the resource's "
                + "current state. Entity '\(path)' already exists."
        )
    }
}

import ConduitBus
import ConduitContext
import ConduitPlatform
import ConduitStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat
import SQLKit

/// The System Jobs console: its page and scripts at `/` and `/console/…` (no secrets in them), and its JSON API at
/// `/api/console/…` behind the API keys (docs/console.md).
struct ConsoleController: Sendable {
    let platform: Platform
    /// The embedded bus, for the bus explorer; `nil` when the server has none.
    let bus: BusNamespace?
    static let root = "api/console"

    /// The page and its assets, on the router itself: they hold nothing but code.
    func registerAssets(on router: some RouterMethods<ConduitRequestContext>) {
        router.get("/") { _, _ in try ConsoleAssets.response(for: "index.html") }
        for name in ConsoleAssets.served where name != "index.html" {
            router.get(RouterPath("console/\(name)")) { _, _ in try ConsoleAssets.response(for: name) }
        }
    }

    /// The console's API, on a group that has checked the API key.
    func registerAPI(on api: some RouterMethods<ConduitRequestContext>) {
        let group = api.group(RouterPath(Self.root))
        group.get("session") { _, context in try await handle { try await session(context) } }
        group.get("jobs") { request, _ in try await handle { try await jobs(request) } }
        group.get("jobs/:id") { _, context in try await handle { try await job(context) } }
        group.post("jobs/actions") { request, context in
            try await handle { try await jobActions(request, context: context) }
        }
        group.get("events") { _, _ in events() }
        group.get("steps") { request, _ in try await handle { try await steps(request) } }
        group.post("steps") { request, context in try await handle { try await addStep(request, context: context) } }
        group.patch("steps/:id") { request, context in
            try await handle { try await changeStep(request, context: context) }
        }
        group.delete("steps/:id") { _, context in try await handle { try await deleteStep(context) } }
        group.get("bus") { _, _ in try await handle { try await busEntities() } }
        group.get("bus/messages") { request, _ in try await handle { try await busMessages(request) } }
        group.post("bus/deadletters") { request, _ in try await handle { try await deadLetters(request) } }
    }

    /// Who the key belongs to: the sign-in page checks a key with it.
    private func session(_ context: ConduitRequestContext) async throws -> Response {
        let user = try userId(context)
        let name = try await platform.store.withDatabase { db in
            try await db.raw("SELECT fullname FROM systemuser WHERE systemuserid = \(bind: user.description)").first()?
                .decode(column: "fullname", as: String?.self)
        }
        return try Self.json(
            Session(
                userId: user.description,
                userName: name ?? user.description,
                organization: platform.organization.name
            )
        )
    }

    struct Session: Encodable {
        var userId: String
        var userName: String
        var organization: String
    }

    func userId(_ context: ConduitRequestContext) throws -> Guid {
        guard let user = context.userId else { throw WebAPIError.unauthorized }
        return user
    }

    func service(_ context: ConduitRequestContext) throws -> OrganizationService {
        platform.organizationService(userId: try userId(context))
    }

    /// Runs a handler and gives its errors Dataverse's shape.
    private func handle(_ work: () async throws -> Response) async throws -> Response {
        do {
            return try await work()
        } catch {
            throw WebAPIError.translate(error)
        }
    }

    /// A JSON response of an `Encodable` value.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        try json(data: encoder.encode(value), status: status)
    }

    static func json(data: Data, status: HTTPResponse.Status = .ok) throws -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }()

    /// Reads a JSON request body (up to 1 MB) as `T`.
    /// (A `DecodingError` becomes a 400 naming the member where the handlers translate their errors.)
    static func body<T: Decodable>(_ request: Request, as type: T.Type) async throws -> T {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        guard buffer.readableBytes > 0 else { throw WebAPIError.badRequest("The request needs a JSON body.") }
        return try JSONDecoder().decode(T.self, from: Data(buffer: buffer))
    }

    /// A `Guid` from a path parameter, or a 400 saying what was wrong.
    static func guid(_ context: ConduitRequestContext, _ name: String = "id") throws -> Guid {
        let text = context.parameters.get(name) ?? ""
        guard let id = Guid(text) else { throw WebAPIError.badRequest("'\(text)' is not a GUID.") }
        return id
    }
}

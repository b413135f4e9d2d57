import ConduitContext
import ConduitPlatform
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Tracing

/// The Dataverse Web API at `/api/data/v9.2/`: collections, rows, `WhoAmI` and `EntityDefinitions`.
struct WebAPIController {
    let platform: Platform
    static let root = "api/data/v9.2"
    static let defaultPageSize = 5000

    func register(on router: some RouterMethods<ConduitRequestContext>) {
        let group = router.group(RouterPath(Self.root))
        group.get { request, context in try await handle(request, context: context) }
        for method in [HTTPRequest.Method.get, .post, .patch, .delete] {
            group.on("**", method: method) { request, context in try await handle(request, context: context) }
        }
    }

    private func handle(_ request: Request, context: ConduitRequestContext) async throws -> Response {
        // The first span of a change's way: it continues the client's `traceparent`; the pipeline, the system jobs
        // and the posted messages continue it.
        let path = context.parameters.getCatchAll().first ?? ""
        let set = path.prefix { $0 != "(" && $0 != "/" && $0 != "?" }
        return try await TraceSpans.run(
            "\(request.method) /\(Self.root)/\(set)",
            kind: .server,
            continuing: request.headers[Self.traceparent],
            tracer: platform.tracer
        ) { span, traceparent in
            span.attributes["http.request.method"] = request.method.rawValue
            span.attributes["url.path"] = request.uri.path
            do {
                let response = try await route(request, context: context, traceparent: traceparent)
                span.attributes["http.response.status_code"] = Int(response.status.code)
                return response
            } catch {
                let translated = WebAPIError.translate(error)
                if let failure = translated as? WebAPIError {
                    span.attributes["http.response.status_code"] = Int(failure.status.code)
                }
                throw translated
            }
        }
    }

    private func route(
        _ request: Request,
        context: ConduitRequestContext,
        traceparent: String?
    ) async throws -> Response {
        guard let userId = context.userId else { throw WebAPIError.unauthorized }
        let service = platform.organizationService(userId: userId).withUserAgent(request.headers[.userAgent])
            .withTraceparent(traceparent)
        let path = context.parameters.getCatchAll().joined(separator: "/")
        let base = baseURL(request)
        if path.isEmpty {
            guard request.method == .get else { throw WebAPIError.badRequest("Use GET on the service root.") }
            return serviceDocument(base: base)
        }
        if path == "WhoAmI" || path == "WhoAmI()" {
            return try await whoAmI(service: service, base: base)
        }
        if path.hasPrefix("EntityDefinitions") {
            return try await EntityDefinitionsEndpoint(platform: platform).handle(request, path: path, base: base)
        }
        if !path.contains("("), !path.contains("/"), platform.hasMessage(path) {
            return try await action(request, name: path, service: service, base: base)
        }
        if path.hasPrefix("RelationshipDefinitions") {
            return try await RelationshipDefinitionsEndpoint(platform: platform).handle(request, path: path, base: base)
        }
        if path.hasSuffix("/$ref") {
            return try await reference(request, path: String(path.dropLast(5)), service: service)
        }
        if request.method == .get, let slash = path.firstIndex(of: "/") {
            return try await related(request, path: path, slash: slash, service: service, base: base)
        }
        if request.method == .post, let slash = path.firstIndex(of: "/") {
            // A bound action: `<set>(<id>)/[Microsoft.Dynamics.CRM.]<MessageName>`, with the row as its Target.
            let (setName, key) = try parseResource(String(path[..<slash]))
            var name = String(path[path.index(after: slash)...])
            if name.hasPrefix("Microsoft.Dynamics.CRM.") { name.removeFirst("Microsoft.Dynamics.CRM.".count) }
            guard let table = platform.metadata.entity(entitySetName: setName), let id = key,
                platform.hasMessage(name) || name == Self.retryNowMessage
            else {
                throw WebAPIError.notFound("Resource not found for the segment '\(path)'.")
            }
            let target = EntityReference(logicalName: table.logicalName, id: id)
            return try await action(request, name: name, target: target, service: service, base: base)
        }
        let (setName, key) = try parseResource(path)
        guard let table = platform.metadata.entity(entitySetName: setName) else {
            throw WebAPIError.notFound("Resource not found for the segment '\(setName)'.")
        }
        let records = RecordEndpoint(platform: platform, service: service, table: table, base: base)
        switch (request.method, key) {
        case (.get, nil): return try await records.list(request)
        case (.get, let id?): return try await records.get(request, id: id)
        case (.post, nil): return try await records.create(request, context: context)
        case (.patch, let id?): return try await records.update(request, context: context, id: id)
        case (.delete, let id?): return try await records.delete(request, id: id)
        default:
            throw WebAPIError(
                status: .methodNotAllowed,
                code: "0x80060888",
                message: "\(request.method) is not supported on '\(path)'."
            )
        }
    }

    static let traceparent = HTTPField.Name("traceparent")!

    /// The bound action that retries a Waiting or Failed system job now.
    static let retryNowMessage = "conduit_RetryNow"

    /// A custom message as an unbound action (`POST <MessageName>`), or bound to a row (`Target`), with its
    /// parameters as a JSON object of primitives; the results come back the same way (204 when there are none).
    private func action(
        _ request: Request,
        name: String,
        target: EntityReference? = nil,
        service: OrganizationService,
        base: String
    ) async throws
        -> Response
    {
        guard request.method == .post else {
            throw WebAPIError(
                status: .methodNotAllowed,
                code: "0x80060888",
                message: "Call the action \(name) with POST."
            )
        }
        var request = request
        let buffer = try await request.collectBody(upTo: 1 << 20)
        var parameters: ParameterCollection = []
        if let target { parameters.append(key: "Target", value: .entityReference(target)) }
        if buffer.readableBytes > 0 {
            guard case .object(let members) = try JSONParser.parse(Array(buffer.readableBytesView)) else {
                throw WebAPIError.badRequest("The parameters of \(name) must be a JSON object.")
            }
            for (key, value) in members where !key.contains("@") && !(target != nil && key == "Target") {
                switch value {
                case .null: parameters.append(key: key, value: .null)
                case .bool(let flag): parameters.append(key: key, value: .boolean(flag))
                case .string(let text):
                    parameters.append(key: key, value: Guid(text).map { .guid($0) } ?? .string(text))
                case .number(let text):
                    if let number = Int32(text) {
                        parameters.append(key: key, value: .int(number))
                    } else if let number = DotNetDecimal(text) {
                        parameters.append(key: key, value: .decimal(number))
                    } else {
                        throw WebAPIError.badRequest(
                            "The parameter '\(key)' of \(name) is not a number Conduit can read."
                        )
                    }
                case .array, .object:
                    throw WebAPIError.badRequest(
                        "The parameter '\(key)' of \(name) must be a string, number, boolean or null."
                    )
                }
            }
        }
        let response = try await service.execute(OrganizationRequest(name, parameters: parameters))
        guard !response.results.isEmpty else {
            var headers = HTTPFields()
            headers[HTTPField.Name("OData-Version")!] = "4.0"
            return Response(status: .noContent, headers: headers)
        }
        var members: [(String, String)] = [
            ("@odata.context", JSONWriter.quoted(base + "$metadata#Microsoft.Dynamics.CRM.\(name)Response"))
        ]
        for entry in response.results.entries {
            let text: String
            switch entry.value {
            case .null: text = "null"
            case .string(let value): text = JSONWriter.quoted(value)
            case .boolean(let value): text = value ? "true" : "false"
            case .int(let value): text = String(value)
            case .long(let value): text = String(value)
            case .decimal(let value): text = value.description
            case .double(let value): text = value.isFinite ? String(value) : "null"
            case .guid(let value): text = JSONWriter.quoted(value.description)
            case .dateTime(let value): text = JSONWriter.quoted(value.xmlText(localOffsetMinutes: 0))
            default: continue
            }
            members.append((entry.key, text))
        }
        return Self.json(.ok, JSONWriter.object(members))
    }

    /// `POST accounts(id)/contact_customer_accounts/$ref` with `{"@odata.id": ".../contacts(id)"}` (Associate) and
    /// `DELETE accounts(id)/contact_customer_accounts(id)/$ref` (Disassociate).
    private func reference(_ request: Request, path: String, service: OrganizationService) async throws -> Response {
        let parts = path.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { throw WebAPIError.notFound("Resource not found for the segment '\(path)'.") }
        let (setName, key) = try parseResource(parts[0])
        guard let table = platform.metadata.entity(entitySetName: setName), let id = key else {
            throw WebAPIError.notFound("Resource not found for the segment '\(parts[0])'.")
        }
        let target = EntityReference(logicalName: table.logicalName, id: id)
        let json = RecordJSON(metadata: platform.metadata)
        var request = request
        switch request.method {
        case .post:
            let relationship = parts[1]
            let body = try JSONParser.parse(Array(try await request.collectBody(upTo: 1 << 20).readableBytesView))
            guard case .string(let url)? = body["@odata.id"], let related = json.reference(url) else {
                throw WebAPIError.badRequest("The body must be {\"@odata.id\": \"<url of the related row>\"}.")
            }
            _ = try await service.execute(.associate(target, relationship: relationship, related: [related]))
        case .delete:
            let (relationship, relatedKey) = try parseResource(parts[1])
            guard let relatedKey else {
                throw WebAPIError.badRequest("Address the row to disassociate as <relationship>(<id>)/$ref.")
            }
            guard let other = platform.metadata.otherEnd(of: relationship, from: table.logicalName)?.table else {
                throw WebAPIError.badRequest(
                    "There is no relationship named '\(relationship)' on '\(table.logicalName)'."
                )
            }
            let related = EntityReference(logicalName: other, id: relatedKey)
            _ = try await service.execute(.disassociate(target, relationship: relationship, related: [related]))
        default:
            throw WebAPIError(
                status: .methodNotAllowed,
                code: "0x80060888",
                message: "\(request.method) is not supported on $ref."
            )
        }
        var headers = HTTPFields()
        headers[HTTPField.Name("OData-Version")!] = "4.0"
        return Response(status: .noContent, headers: headers)
    }

    /// `GET accounts(id)/contact_customer_accounts` (one-to-many) or `GET accounts(id)/new_account_contact`
    /// (many-to-many): the related rows, with the same query options as a collection.
    private func related(
        _ request: Request,
        path: String,
        slash: String.Index,
        service: OrganizationService,
        base: String
    ) async throws -> Response {
        let (setName, key) = try parseResource(String(path[..<slash]))
        let relationship = String(path[path.index(after: slash)...])
        guard let table = platform.metadata.entity(entitySetName: setName), let id = key else {
            throw WebAPIError.notFound("Resource not found for the segment '\(path[..<slash])'.")
        }
        guard let (otherTable, isCollection) = platform.metadata.otherEnd(of: relationship, from: table.logicalName),
            isCollection
        else {
            throw WebAPIError.notFound(
                "Resource not found for the segment '\(relationship)': '\(table.logicalName)' has no collection-valued navigation property of that name."
            )
        }
        let records = RecordEndpoint(
            platform: platform,
            service: service,
            table: try platform.metadata.require(otherTable),
            base: base
        )
        return try await records.list(
            request,
            related: (EntityReference(logicalName: table.logicalName, id: id), path, relationship)
        )
    }

    /// `contacts` or `contacts(00000000-…)`.
    private func parseResource(_ path: String) throws(WebAPIError) -> (String, Guid?) {
        guard let open = path.firstIndex(of: "(") else {
            guard !path.contains("/") else { throw .notFound("Resource not found for the segment '\(path)'.") }
            return (path, nil)
        }
        guard path.hasSuffix(")") else { throw .notFound("Resource not found for the segment '\(path)'.") }
        let set = String(path[..<open])
        let key = path[path.index(after: open)..<path.index(before: path.endIndex)]
        guard let id = Guid(key) else {
            throw .badRequest("The key '\(key)' is not a GUID (alternate keys are not built yet).")
        }
        return (set, id)
    }

    func baseURL(_ request: Request) -> String {
        "\(request.origin)/\(Self.root)/"
    }

    private func serviceDocument(base: String) -> Response {
        let sets = platform.metadata.all.map { table in
            JSONWriter.object([
                ("name", JSONWriter.quoted(table.entitySetName)), ("kind", JSONWriter.quoted("EntitySet")),
                ("url", JSONWriter.quoted(table.entitySetName)),
            ])
        }
        return Self.json(
            .ok,
            JSONWriter.object([
                ("@odata.context", JSONWriter.quoted(base + "$metadata")),
                ("value", "[" + sets.joined(separator: ",") + "]"),
            ])
        )
    }

    private func whoAmI(service: OrganizationService, base: String) async throws -> Response {
        let user = try await service.retrieve(
            EntityReference(logicalName: "systemuser", id: service.userId),
            columns: .columns(["businessunitid"])
        )
        var unit = Guid.empty
        if case .entityReference(let reference)? = user.attributes["businessunitid"] { unit = reference.id }
        return Self.json(
            .ok,
            JSONWriter.object([
                ("@odata.context", JSONWriter.quoted(base + "$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse")),
                ("BusinessUnitId", JSONWriter.quoted(unit.description)),
                ("UserId", JSONWriter.quoted(service.userId.description)),
                ("OrganizationId", JSONWriter.quoted(platform.organization.id.description)),
            ])
        )
    }

    static func json(_ status: HTTPResponse.Status, _ body: String, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "application/json; odata.metadata=minimal"
        headers[HTTPField.Name("OData-Version")!] = "4.0"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}

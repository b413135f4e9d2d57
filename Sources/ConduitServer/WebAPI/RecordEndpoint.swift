import ConduitContext
import ConduitPlatform
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The requests on one table's collection and rows.
struct RecordEndpoint {
    let platform: Platform
    let service: OrganizationService
    let table: EntityMetadata
    let base: String

    var json: RecordJSON { RecordJSON(metadata: platform.metadata) }

    static let odataEntityId = HTTPField.Name("OData-EntityId")!
    static let preferenceApplied = HTTPField.Name("Preference-Applied")!
    static let prefer = HTTPField.Name("Prefer")!

    private func preferences(_ request: Request) -> (representation: Bool, annotations: Bool, pageSize: Int) {
        let prefer = request.headers[values: Self.prefer].joined(separator: ",").lowercased()
        var pageSize = WebAPIController.defaultPageSize
        if let range = prefer.range(of: "odata.maxpagesize=") {
            let digits = prefer[range.upperBound...].prefix { $0.isNumber }
            if let size = Int(digits), size > 0 { pageSize = min(size, WebAPIController.defaultPageSize) }
        }
        return (prefer.contains("return=representation"), prefer.contains("odata.include-annotations"), pageSize)
    }

    /// `GET <set>`, or with `related`, `GET <set of the target>(<id>)/<relationship>`: the rows of this table related
    /// to the target.
    func list(
        _ request: Request,
        related: (target: EntityReference, path: String, relationship: String)? = nil
    )
        async throws -> Response
    {
        let options = try ODataQueryOptions.parse(queryString: request.uri.query ?? "")
        let preferences = preferences(request)
        let page = options.skipToken.flatMap { Int($0) } ?? 1
        let query = try ODataQueryTranslator(table: table).query(options, pageSize: preferences.pageSize, page: page)
        let collection =
            if let related {
                try await service.retrieveRelated(related.target, relationship: related.relationship, query: query)
            } else {
                try await service.retrieveMultiple(query)
            }
        let rows = collection.entities.map { entity in
            JSONWriter.object(
                json.members(of: entity, table: table, select: options.select, annotations: preferences.annotations)
            )
        }
        var context = base + "$metadata#" + table.entitySetName
        if let select = options.select { context += "(" + select.joined(separator: ",") + ")" }
        var members: [(String, String)] = [("@odata.context", JSONWriter.quoted(context))]
        if options.count { members.append(("@odata.count", String(collection.totalRecordCount))) }
        members.append(("value", "[" + rows.joined(separator: ",") + "]"))
        if collection.moreRecords {
            var query = (request.uri.query ?? "").split(separator: "&").filter { !$0.hasPrefix("$skiptoken=") }.joined(
                separator: "&"
            )
            query += (query.isEmpty ? "" : "&") + "$skiptoken=\(page + 1)"
            let path = related?.path ?? table.entitySetName
            members.append(("@odata.nextLink", JSONWriter.quoted(base + path + "?" + query)))
        }
        return WebAPIController.json(.ok, JSONWriter.object(members))
    }

    func get(_ request: Request, id: Guid) async throws -> Response {
        let options = try ODataQueryOptions.parse(queryString: request.uri.query ?? "")
        let columns: ColumnSet
        if let select = options.select {
            columns = .columns(
                try select.map { property throws(WebAPIError) in try ODataQueryTranslator(table: table).column(property)
                }
            )
        } else {
            columns = .all
        }
        let entity = try await service.retrieve(
            EntityReference(logicalName: table.logicalName, id: id),
            columns: columns
        )
        return representation(
            entity,
            select: options.select,
            status: .ok,
            annotations: preferences(request).annotations
        )
    }

    private func representation(
        _ entity: Entity,
        select: [String]?,
        status: HTTPResponse.Status,
        annotations: Bool,
        headers: HTTPFields = [:]
    ) -> Response {
        var context = base + "$metadata#" + table.entitySetName
        if let select { context += "(" + select.joined(separator: ",") + ")" }
        var members: [(String, String)] = [("@odata.context", JSONWriter.quoted(context + "/$entity"))]
        members += json.members(of: entity, table: table, select: select, annotations: annotations)
        return WebAPIController.json(status, JSONWriter.object(members), headers: headers)
    }

    private func body(_ request: Request, context: ConduitRequestContext) async throws -> JSONValue {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: context.maxUploadSize)
        } catch {
            throw WebAPIError(
                status: .contentTooLarge,
                code: "0x8004431a",
                message: "The request body is larger than \(context.maxUploadSize) bytes."
            )
        }
        return try JSONParser.parse(Array(buffer.readableBytesView))
    }

    private func suppressDuplicateDetection(_ request: Request) -> ContextValue {
        .boolean(request.headers[HTTPField.Name("MSCRM.SuppressDuplicateDetection")!]?.lowercased() == "true")
    }

    func create(_ request: Request, context: ConduitRequestContext) async throws -> Response {
        var entity = try json.entity(from: try await body(request, context: context), table: table)
        if case .guid(let id)? = entity.attributes[table.primaryIdAttribute] { entity.id = id }
        let response = try await run(.create(entity), from: request)
        guard case .guid(let id)? = response.results["id"] else {
            throw PlatformError(.unexpected, "Create returned no id.")
        }
        return try await created(request, id: id)
    }

    private func created(_ request: Request, id: Guid) async throws -> Response {
        try await written(request, id: id, representationStatus: .created)
    }

    /// The answer to a write: 204 with `OData-EntityId`, or the row with `Prefer: return=representation`.
    private func written(
        _ request: Request,
        id: Guid,
        representationStatus: HTTPResponse.Status
    ) async throws -> Response {
        var headers = HTTPFields()
        headers[Self.odataEntityId] = base + table.entitySetName + "(\(id))"
        let preferences = preferences(request)
        if preferences.representation {
            headers[Self.preferenceApplied] = "return=representation"
            let entity = try await service.retrieve(EntityReference(logicalName: table.logicalName, id: id))
            return representation(
                entity,
                select: nil,
                status: representationStatus,
                annotations: preferences.annotations,
                headers: headers
            )
        }
        headers[HTTPField.Name("OData-Version")!] = "4.0"
        return Response(status: .noContent, headers: headers)
    }

    /// Runs a Create or Update with the `MSCRM.SuppressDuplicateDetection` header as its parameter.
    private func run(_ request: OrganizationRequest, from http: Request) async throws -> OrganizationResponse {
        var request = request
        request.parameters.append(key: "SuppressDuplicateDetection", value: suppressDuplicateDetection(http))
        return try await service.execute(request)
    }

    /// The version an `If-Match` header asks for; `nil` for none or `*`.
    private func ifMatchVersion(_ request: Request) throws(WebAPIError) -> Int64? {
        guard let ifMatch = request.headers[.ifMatch], ifMatch != "*" else { return nil }
        guard let version = Self.etagVersion(ifMatch) else {
            throw .badRequest("If-Match must be an ETag such as W/\"12345\" or *.")
        }
        return version
    }

    func update(_ request: Request, context: ConduitRequestContext, id: Guid) async throws -> Response {
        var entity = try json.entity(from: try await body(request, context: context), table: table)
        entity.id = id
        let reference = EntityReference(logicalName: table.logicalName, id: id)
        let ifMatch = request.headers[.ifMatch]
        let ifNoneMatch = request.headers[.ifNoneMatch]
        let existing = try await service.retrieveIfExists(reference, columns: .columns(["versionnumber"]))
        if existing == nil {
            if ifMatch != nil {
                throw WebAPIError(
                    PlatformError(.objectDoesNotExist, "\(table.logicalName) With Id = \(id) Does Not Exist")
                )
            }
            _ = try await run(.create(entity), from: request)
            return try await created(request, id: id)
        }
        if ifNoneMatch == "*" {
            throw WebAPIError(
                status: .preconditionFailed,
                code: "0x80040237",
                message: "A record with matching key values already exists."
            )
        }
        _ = try await run(.update(entity, ifVersion: try ifMatchVersion(request)), from: request)
        return try await written(request, id: id, representationStatus: .ok)
    }

    func delete(_ request: Request, id: Guid) async throws -> Response {
        try await service.delete(
            EntityReference(logicalName: table.logicalName, id: id),
            ifVersion: try ifMatchVersion(request)
        )
        var headers = HTTPFields()
        headers[HTTPField.Name("OData-Version")!] = "4.0"
        return Response(status: .noContent, headers: headers)
    }

    /// `W/"12"` → 12.
    static func etagVersion(_ etag: String) -> Int64? {
        var text = Substring(etag.trimmingCharacters(in: .whitespaces))
        if text.hasPrefix("W/") { text = text.dropFirst(2) }
        guard text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 2 else { return nil }
        return Int64(text.dropFirst().dropLast())
    }
}

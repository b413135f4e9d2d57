import ConduitContext
import ConduitPlatform
import ConduitStore
import Foundation
import Hummingbird
import NIOCore
import NIOFoundationCompat
import SQLKit

extension ConsoleController {
    /// A step as the console shows it, with its message, table and handler by name.
    struct Step: Encodable {
        var id: String
        var name: String?
        var message: String?
        var table: String?
        var stage: Int?
        var mode: Int?
        var rank: Int?
        var filteringattributes: String?
        var statecode: Int?
        var endpointId: String?
        var endpointName: String?
        var handler: String?
        var asyncautodelete: Bool?
    }

    /// `GET /api/console/steps[?endpoint=<id>]`.
    func steps(_ request: Request) async throws -> Response {
        var endpoint: Guid?
        if let text = request.uri.queryParameters.get("endpoint"), !text.isEmpty {
            guard let id = Guid(text) else { throw WebAPIError.badRequest("endpoint: '\(text)' is not a GUID.") }
            endpoint = id
        }
        let endpointId = endpoint
        let steps = try await platform.store.withDatabase { db in
            let condition: SQLQueryString = endpointId.map { " WHERE s.eventhandler = \(bind: $0.description)" } ?? ""
            return try await db.raw(
                """
                SELECT s.sdkmessageprocessingstepid AS id, s.name, m.name AS message, \
                f.primaryobjecttypecode AS tablename, s.stage, s.mode, s.rank, s.filteringattributes, s.statecode, \
                e.serviceendpointid AS endpointid, e.name AS endpointname, p.friendlyname AS pluginname, \
                p.typename AS plugintypename, s.asyncautodelete FROM sdkmessageprocessingstep s \
                LEFT JOIN sdkmessage m ON m.sdkmessageid = s.sdkmessageid \
                LEFT JOIN sdkmessagefilter f ON f.sdkmessagefilterid = s.sdkmessagefilterid \
                LEFT JOIN serviceendpoint e ON e.serviceendpointid = s.eventhandler \
                LEFT JOIN plugintype p ON p.plugintypeid = s.eventhandler\(condition) ORDER BY s.name
                """
            ).all().map { row in
                let endpointName = try row.decode(column: "endpointname", as: String?.self)
                let plugin =
                    try row.decode(column: "pluginname", as: String?.self)
                    ?? row.decode(column: "plugintypename", as: String?.self)
                return Step(
                    id: try row.decode(column: "id", as: String.self),
                    name: try row.decode(column: "name", as: String?.self),
                    message: try row.decode(column: "message", as: String?.self),
                    table: try row.decode(column: "tablename", as: String?.self),
                    stage: try row.decode(column: "stage", as: Int?.self),
                    mode: try row.decode(column: "mode", as: Int?.self),
                    rank: try row.decode(column: "rank", as: Int?.self),
                    filteringattributes: try row.decode(column: "filteringattributes", as: String?.self),
                    statecode: try row.decode(column: "statecode", as: Int?.self),
                    endpointId: try row.decode(column: "endpointid", as: String?.self),
                    endpointName: endpointName,
                    handler: endpointName ?? plugin,
                    asyncautodelete: try row.decode(column: "asyncautodelete", as: Int?.self).map { $0 != 0 }
                )
            }
        }
        return try Self.json(["steps": steps])
    }

    struct NewStep: Decodable {
        var name: String?
        var endpointId: String
        var message: String
        var table: String
        var stage: Int32?
        var mode: Int32?
        var rank: Int32?
        var filteringattributes: String?
    }

    /// `POST /api/console/steps`: registers a step whose handler is a service endpoint.
    func addStep(_ request: Request, context: ConduitRequestContext) async throws -> Response {
        let body = try await Self.body(request, as: NewStep.self)
        guard let endpoint = Guid(body.endpointId) else {
            throw WebAPIError.badRequest("endpointId: '\(body.endpointId)' is not a GUID.")
        }
        let service = try service(context)
        let row = try await service.retrieve(
            EntityReference(logicalName: "serviceendpoint", id: endpoint),
            columns: .columns(["name"])
        )
        let endpointName = row.attributes["name"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? "?"
        let filtering = body.filteringattributes?.trimmingCharacters(in: .whitespaces)
        let id = try await service.registerStep(
            body.name?.isEmpty == false
                ? body.name! : "\(endpointName): \(body.message) of \(body.table.lowercased())",
            message: body.message,
            table: body.table.lowercased(),
            stage: body.stage ?? 40,
            mode: body.mode ?? 1,
            rank: body.rank ?? 1,
            handler: EntityReference(logicalName: "serviceendpoint", id: endpoint),
            filteringAttributes: filtering?.isEmpty == false ? filtering : nil
        )
        return try Self.json(["id": id.description], status: .created)
    }

    struct StepChange: Decodable {
        var statecode: Int32?
        var name: String?
        var filteringattributes: String?
        var rank: Int32?
        var mode: Int32?
    }

    /// `PATCH /api/console/steps/{id}`: enables or disables a step (`statecode` 0 or 1), or changes its name,
    /// filtering attributes, rank or mode.
    func changeStep(_ request: Request, context: ConduitRequestContext) async throws -> Response {
        let id = try Self.guid(context)
        let body = try await Self.body(request, as: StepChange.self)
        let service = try service(context)
        let reference = EntityReference(logicalName: "sdkmessageprocessingstep", id: id)
        var attributes: ParameterCollection = []
        if let name = body.name { attributes.append(key: "name", value: .string(name)) }
        if let filtering = body.filteringattributes {
            let trimmed = filtering.trimmingCharacters(in: .whitespaces)
            attributes.append(key: "filteringattributes", value: trimmed.isEmpty ? .null : .string(trimmed))
        }
        if let rank = body.rank { attributes.append(key: "rank", value: .int(rank)) }
        if let mode = body.mode { attributes.append(key: "mode", value: .optionSetValue(OptionSetValue(mode))) }
        if !attributes.isEmpty {
            try await service.update(Entity(logicalName: reference.logicalName, id: id, attributes: attributes))
        }
        if let state = body.statecode {
            guard state == 0 || state == 1 else {
                throw WebAPIError.badRequest("statecode: \(state) is neither 0 (enabled) nor 1 (disabled).")
            }
            try await service.setState(reference, state: state, status: state == 0 ? 1 : 2)
        }
        return Response(status: .noContent)
    }

    /// `DELETE /api/console/steps/{id}`.
    func deleteStep(_ context: ConduitRequestContext) async throws -> Response {
        let id = try Self.guid(context)
        try await service(context).delete(EntityReference(logicalName: "sdkmessageprocessingstep", id: id))
        return Response(status: .noContent)
    }
}

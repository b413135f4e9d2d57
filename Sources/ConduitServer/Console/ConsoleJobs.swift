import ConduitContext
import ConduitPlatform
import ConduitStore
import Foundation
import Hummingbird
import NIOCore
import NIOFoundationCompat
import SQLKit

/// Which system jobs the console's list shows: its query parameters.
struct ConsoleJobFilter: Sendable, Hashable {
    var statuses: [Int32] = []
    var step: Guid?
    var endpoint: Guid?
    var table: String?
    var message: String?
    var since: Int64?
    var until: Int64?
    var search: String?
    var page = 1
    var pageSize = 50

    static let maximumPageSize = 500

    /// Reads `status`, `step`, `endpoint`, `table`, `message`, `since`, `until`, `search`, `page` and `pageSize`;
    /// a value that cannot be used is an error that says which and why.
    init(query: [String: String]) throws(WebAPIError) {
        func value(_ name: String) -> String? {
            guard let text = query[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            return text
        }
        func guid(_ name: String) throws(WebAPIError) -> Guid? {
            guard let text = value(name) else { return nil }
            guard let id = Guid(text) else { throw WebAPIError.badRequest("\(name): '\(text)' is not a GUID.") }
            return id
        }
        func time(_ name: String) throws(WebAPIError) -> Int64? {
            guard let text = value(name) else { return nil }
            guard let ticks = ConsoleText.ticks(text) else {
                throw WebAPIError.badRequest("\(name): '\(text)' is not an ISO 8601 time such as 2026-11-26T15:00:00Z.")
            }
            return ticks
        }
        func number(_ name: String, _ range: ClosedRange<Int>, default fallback: Int) throws(WebAPIError) -> Int {
            guard let text = value(name) else { return fallback }
            guard let number = Int(text), range.contains(number) else {
                throw WebAPIError.badRequest(
                    "\(name): '\(text)' is not a whole number from \(range.lowerBound) to \(range.upperBound)."
                )
            }
            return number
        }
        if let text = value("status") {
            for part in text.split(separator: ",") {
                let trimmed = part.trimmingCharacters(in: .whitespaces)
                guard let code = Int32(trimmed), JobStatus(statusCode: code) != nil else {
                    throw WebAPIError.badRequest(
                        "status: '\(trimmed)' is not a system job statuscode (0, 10, 20, 21, 22, 30, 31 or 32)."
                    )
                }
                statuses.append(code)
            }
        }
        step = try guid("step")
        endpoint = try guid("endpoint")
        table = value("table")?.lowercased()
        message = value("message")
        since = try time("since")
        until = try time("until")
        search = value("search")
        page = try number("page", 1...1_000_000, default: 1)
        pageSize = try number("pageSize", 1...Self.maximumPageSize, default: 50)
    }

    /// ` WHERE …` over `asyncoperation j` for every filter; without the statuses with `statuses: false`.
    func condition(statuses includeStatuses: Bool = true) -> SQLQueryString {
        var sql: SQLQueryString = " WHERE 1 = 1"
        if includeStatuses, !statuses.isEmpty {
            sql.appendLiteral(" AND j.statuscode IN (")
            for (index, code) in statuses.enumerated() {
                if index > 0 { sql.appendLiteral(", ") }
                sql.appendInterpolation(bind: Int(code))
            }
            sql.appendLiteral(")")
        }
        if let step {
            sql.appendInterpolation(" AND j.owningextensionid = \(bind: step.description)" as SQLQueryString)
        }
        if let endpoint {
            sql.appendInterpolation(
                """
                 AND j.owningextensionid IN (SELECT sdkmessageprocessingstepid FROM sdkmessageprocessingstep \
                WHERE eventhandler = \(bind: endpoint.description))
                """ as SQLQueryString
            )
        }
        if let table { sql.appendInterpolation(" AND j.primaryentitytype = \(bind: table)" as SQLQueryString) }
        if let message { sql.appendInterpolation(" AND j.messagename = \(bind: message)" as SQLQueryString) }
        if let since { sql.appendInterpolation(" AND j.createdon >= \(bind: since)" as SQLQueryString) }
        if let until { sql.appendInterpolation(" AND j.createdon < \(bind: until)" as SQLQueryString) }
        if let search {
            let id = Guid(search)?.description ?? search.lowercased()
            sql.appendInterpolation(
                " AND (j.name LIKE \(bind: "%\(search)%") OR j.regardingobjectid = \(bind: id) OR j.asyncoperationid = \(bind: id))"
                    as SQLQueryString
            )
        }
        return sql
    }
}

/// A system job as the console's list shows it.
struct ConsoleJobSummary: Encodable {
    var id: String
    var name: String?
    var statecode: Int?
    var statuscode: Int?
    var status: String
    var operationtype: Int?
    var messagename: String?
    var primaryentitytype: String?
    var regardingobjectid: String?
    var stepId: String?
    var stepName: String?
    var endpointId: String?
    var endpointName: String?
    var createdon: String?
    var startedon: String?
    var completedon: String?
    var postponeuntil: String?
    var retrycount: Int?
    var errorcode: Int?
    var friendlymessage: String?
    var executiontimespan: Double?

    static let columns = """
        j.asyncoperationid, j.name, j.statecode, j.statuscode, j.operationtype, j.messagename, j.primaryentitytype, \
        j.regardingobjectid, j.owningextensionid, s.name AS stepname, e.serviceendpointid AS endpointid, \
        e.name AS endpointname, e.messageformat AS endpointformat, j.createdon, j.startedon, j.completedon, \
        j.postponeuntil, j.retrycount, j.errorcode, j.friendlymessage, j.executiontimespan
        """
    static let joins = """
         FROM asyncoperation j LEFT JOIN sdkmessageprocessingstep s ON s.sdkmessageprocessingstepid = \
        j.owningextensionid LEFT JOIN serviceendpoint e ON e.serviceendpointid = s.eventhandler
        """

    init(row: any SQLRow) throws {
        id = try row.decode(column: "asyncoperationid", as: String.self)
        name = try row.decode(column: "name", as: String?.self)
        statecode = try row.decode(column: "statecode", as: Int?.self)
        statuscode = try row.decode(column: "statuscode", as: Int?.self)
        status = statuscode.flatMap { JobStatus(statusCode: Int32($0))?.description } ?? "Unknown"
        operationtype = try row.decode(column: "operationtype", as: Int?.self)
        messagename = try row.decode(column: "messagename", as: String?.self)
        primaryentitytype = try row.decode(column: "primaryentitytype", as: String?.self)
        regardingobjectid = try row.decode(column: "regardingobjectid", as: String?.self)
        stepId = try row.decode(column: "owningextensionid", as: String?.self)
        stepName = try row.decode(column: "stepname", as: String?.self)
        endpointId = try row.decode(column: "endpointid", as: String?.self)
        endpointName = try row.decode(column: "endpointname", as: String?.self)
        createdon = ConsoleText.iso(try row.decode(column: "createdon", as: Int64?.self))
        startedon = ConsoleText.iso(try row.decode(column: "startedon", as: Int64?.self))
        completedon = ConsoleText.iso(try row.decode(column: "completedon", as: Int64?.self))
        postponeuntil = ConsoleText.iso(try row.decode(column: "postponeuntil", as: Int64?.self))
        retrycount = try row.decode(column: "retrycount", as: Int?.self)
        errorcode = try row.decode(column: "errorcode", as: Int?.self)
        friendlymessage = try row.decode(column: "friendlymessage", as: String?.self)
        executiontimespan = try row.decode(column: "executiontimespan", as: Double?.self)
    }
}

/// A system job as the console's detail page shows it: the summary's columns and the rest.
struct ConsoleJobDetail: Encodable {
    var summary: ConsoleJobSummary
    var message: String?
    var correlationid: String?
    var requestid: String?
    var depth: Int?
    var hostid: String?
    var leaseexpireson: String?
    var traceparent: String?
    var response: String?
    var workflowId: String?
    /// The wire format its endpoint posts in (`binary`, `json`, `xml`), when it has one.
    var postedFormat: String?
    var attempts: [Attempt]
    var contextError: String?

    struct Attempt: Encodable {
        var startedon: String?
        var endedon: String?
        var outcome: String
        var errorcode: Int32?
        var message: String?
    }

    func encode(to encoder: any Encoder) throws {
        try summary.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(message, forKey: Key("message"))
        try container.encode(correlationid, forKey: Key("correlationid"))
        try container.encode(requestid, forKey: Key("requestid"))
        try container.encode(depth, forKey: Key("depth"))
        try container.encode(hostid, forKey: Key("hostid"))
        try container.encode(leaseexpireson, forKey: Key("leaseexpireson"))
        try container.encode(traceparent, forKey: Key("traceparent"))
        try container.encode(response, forKey: Key("response"))
        try container.encode(workflowId, forKey: Key("workflowId"))
        try container.encode(postedFormat, forKey: Key("postedFormat"))
        try container.encode(attempts, forKey: Key("attempts"))
        try container.encode(contextError, forKey: Key("contextError"))
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

extension ConsoleController {
    struct JobPage: Encodable {
        var total: Int
        var page: Int
        var pageSize: Int
        var counts: [String: Int]
        var jobs: [ConsoleJobSummary]
    }

    /// `GET /api/console/jobs`: a page of jobs, newest first, with the counts per status.
    func jobs(_ request: Request) async throws -> Response {
        var query: [String: String] = [:]
        for (name, value) in request.uri.queryParameters { query[String(name)] = String(value) }
        let filter = try ConsoleJobFilter(query: query)
        let page = try await platform.store.withDatabase { db in
            let countRows = try await db.raw(
                "SELECT j.statuscode AS statuscode, COUNT(*) AS n FROM asyncoperation j\(filter.condition(statuses: false)) GROUP BY j.statuscode"
            ).all()
            var counts: [String: Int] = [:]
            for status in JobStatus.allCases { counts[String(status.statusCode)] = 0 }
            var total = 0
            for row in countRows {
                let code = try row.decode(column: "statuscode", as: Int?.self) ?? -1
                let count = try row.decode(column: "n", as: Int.self)
                counts[String(code), default: 0] += count
                if filter.statuses.isEmpty || filter.statuses.contains(Int32(code)) { total += count }
            }
            let rows = try await db.raw(
                """
                SELECT \(unsafeRaw: ConsoleJobSummary.columns)\(unsafeRaw: ConsoleJobSummary.joins)\
                \(filter.condition()) ORDER BY j.sequence DESC LIMIT \(bind: filter.pageSize) \
                OFFSET \(bind: (filter.page - 1) * filter.pageSize)
                """
            ).all()
            return JobPage(
                total: total,
                page: filter.page,
                pageSize: filter.pageSize,
                counts: counts,
                jobs: try rows.map(ConsoleJobSummary.init(row:))
            )
        }
        return try Self.json(page)
    }

    /// `GET /api/console/jobs/{id}`: one job with its run history and its context decoded.
    func job(_ context: ConduitRequestContext) async throws -> Response {
        let id = try Self.guid(context)
        let row = try await platform.store.withDatabase { db in
            try await db.raw(
                """
                SELECT \(unsafeRaw: ConsoleJobSummary.columns), j.message, j.correlationid, j.requestid, j.depth, \
                j.hostid, j.conduit_leaseexpireson, j.conduit_traceparent, j.conduit_response, j.workflowactivationid, \
                j.conduit_attempts, j.data\(unsafeRaw: ConsoleJobSummary.joins) WHERE j.asyncoperationid = \
                \(bind: id.description)
                """
            ).first()
        }
        guard let row else { throw WebAPIError.notFound("No system job has the id \(id).") }
        let data = try row.decode(column: "data", as: String?.self)
        var contextJSON: String?
        var contextXML: String?
        var contextError: String?
        if let data {
            do {
                let decoded = try ContextCodec.decode(Array(data.utf8), format: .json)
                contextJSON = ConsoleText.prettyJSON(data)
                contextXML = ConsoleText.prettyXML(
                    String(decoding: ContextCodec.encode(decoded, format: .xml), as: UTF8.self)
                )
            } catch {
                contextError = "The context of this job cannot be read: \(error)"
            }
        } else {
            contextError = "This job holds no context."
        }
        let detail = ConsoleJobDetail(
            summary: try ConsoleJobSummary(row: row),
            message: try row.decode(column: "message", as: String?.self),
            correlationid: try row.decode(column: "correlationid", as: String?.self),
            requestid: try row.decode(column: "requestid", as: String?.self),
            depth: try row.decode(column: "depth", as: Int?.self),
            hostid: try row.decode(column: "hostid", as: String?.self),
            leaseexpireson: ConsoleText.iso(try row.decode(column: "conduit_leaseexpireson", as: Int64?.self)),
            traceparent: try row.decode(column: "conduit_traceparent", as: String?.self),
            response: try row.decode(column: "conduit_response", as: String?.self),
            workflowId: try row.decode(column: "workflowactivationid", as: String?.self),
            postedFormat: try row.decode(column: "endpointformat", as: Int?.self).flatMap {
                WireFormat(messageFormat: $0)?.rawValue
            },
            attempts: JobAttempt.history(try row.decode(column: "conduit_attempts", as: String?.self)).map {
                ConsoleJobDetail.Attempt(
                    startedon: ConsoleText.iso($0.startedOn),
                    endedon: ConsoleText.iso($0.endedOn),
                    outcome: $0.outcome,
                    errorcode: $0.errorCode,
                    message: $0.message
                )
            },
            contextError: contextError
        )
        // The context goes in as the JSON it is (numbers keep their digits), beside its XML form.
        var body = try Self.encoder.encode(detail)
        body.removeLast()  // the closing brace
        var context = ",\"context\":"
        if let contextJSON, let contextXML {
            let xml = String(decoding: try Self.encoder.encode(contextXML), as: UTF8.self)
            let text = String(decoding: try Self.encoder.encode(contextJSON), as: UTF8.self)
            context += "{\"json\":\(data ?? "null"),\"jsonText\":\(text),\"xml\":\(xml)}"
        } else {
            context += "null"
        }
        body.append(contentsOf: Data((context + "}").utf8))
        return try Self.json(data: body)
    }

    struct JobActionRequest: Decodable {
        var action: String
        var ids: [String]
        var until: String?
    }

    struct JobActionResult: Encodable {
        var id: String
        var ok: Bool
        var statuscode: Int?
        var error: String?
    }

    /// `POST /api/console/jobs/actions`: cancel, pause, resume, postpone or retry jobs, each through the
    /// organization service as the signed-in user (the same rules as the Web API's).
    func jobActions(_ request: Request, context: ConduitRequestContext) async throws -> Response {
        let body = try await Self.body(request, as: JobActionRequest.self)
        guard body.ids.count <= 1_000 else {
            throw WebAPIError.badRequest("At most 1,000 jobs at a time; \(body.ids.count) were given.")
        }
        let service = try service(context)
        let change: (Guid) -> OrganizationRequest
        func update(_ attributes: ParameterCollection) -> (Guid) -> OrganizationRequest {
            { .update(Entity(logicalName: "asyncoperation", id: $0, attributes: attributes)) }
        }
        switch body.action {
        case "cancel": change = update([("statecode", .int(3)), ("statuscode", .int(32))])
        case "pause": change = update([("statecode", .int(1)), ("statuscode", .int(10))])
        case "resume": change = update([("statecode", .int(0))])
        case "postpone":
            guard let text = body.until, let ticks = ConsoleText.ticks(text),
                let until = DotNetDateTime(ticks: ticks, kind: .utc)
            else {
                throw WebAPIError.badRequest("postpone needs 'until', an ISO 8601 time such as 2026-11-27T09:00:00Z.")
            }
            change = update([("postponeuntil", .dateTime(until))])
        case "retry":
            change = {
                OrganizationRequest(
                    "conduit_RetryNow",
                    parameters: [("Target", .entityReference(EntityReference(logicalName: "asyncoperation", id: $0)))]
                )
            }
        default:
            throw WebAPIError.badRequest(
                "action: '\(body.action)' is not one of cancel, pause, resume, postpone, retry."
            )
        }
        var results: [JobActionResult] = []
        for text in body.ids {
            guard let id = Guid(text) else {
                results.append(JobActionResult(id: text, ok: false, error: "'\(text)' is not a GUID."))
                continue
            }
            do {
                _ = try await service.execute(change(id))
                let status = try await platform.store.withDatabase { db in
                    try await db.raw(
                        "SELECT statuscode FROM asyncoperation WHERE asyncoperationid = \(bind: id.description)"
                    ).first()?.decode(column: "statuscode", as: Int?.self)
                }
                results.append(JobActionResult(id: text, ok: true, statuscode: status))
            } catch let error as PlatformError {
                results.append(JobActionResult(id: text, ok: false, error: error.message))
            }
        }
        return try Self.json(["results": results])
    }
}

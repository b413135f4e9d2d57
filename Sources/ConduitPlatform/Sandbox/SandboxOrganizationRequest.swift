import ConduitContext
import Foundation

/// A sandboxed plug-in's organization-service request (`conduit.execute`), as JSON:
///
/// ```json
/// {"message": "Create", "target": {"logicalname": "task", "attributes": {"subject": "Call back", "priority": 2}}}
/// {"message": "Update", "target": {"logicalname": "task", "id": "…", "attributes": {"subject": "Done"}}}
/// {"message": "Upsert", "target": {"logicalname": "task", "id": "…", "attributes": {"subject": "Done"}}}
/// {"message": "Retrieve", "logicalname": "task", "id": "…", "columns": ["subject"]}
/// {"message": "RetrieveMultiple", "logicalname": "task", "columns": ["subject"],
///  "conditions": [{"attribute": "subject", "operator": "BeginsWith", "values": ["Call"]}],
///  "orders": [{"attribute": "createdon", "descending": true}], "top": 10}
/// {"message": "RetrieveMultiple", "logicalname": "task",
///  "filter": {"type": "or", "conditions": [{"attribute": "priority", "operator": "Equal", "values": [2]}],
///             "filters": [{"type": "and", "conditions": […]}]},
///  "count": 50, "page": 2}
/// {"message": "Delete", "logicalname": "task", "id": "…"}
/// {"message": "SetState", "logicalname": "task", "id": "…", "state": 1, "status": 2}
/// {"message": "Assign", "logicalname": "task", "id": "…", "assignee": "<systemuserid>"}
/// {"message": "Associate", "logicalname": "account", "id": "…", "relationship": "contact_customer_accounts",
///  "related": [{"logicalname": "contact", "id": "…"}]}     (and Disassociate)
/// ```
///
/// Attribute values are JSON strings, numbers (whole numbers as Int32/Int64, others as Double), booleans or null;
/// a string that is a GUID stays a string; `{"logicalname": "account", "id": "…"}` is a lookup (EntityReference),
/// `{"value": 2}` a choice (OptionSetValue), `{"money": "12.50"}` a currency amount. Condition operators are the
/// SDK's `ConditionOperator` names Conduit runs: Equal, NotEqual, GreaterThan, GreaterEqual, LessThan, LessEqual,
/// Null, NotNull, BeginsWith, EndsWith, Contains, In. `conditions` are and-ed; `filter` is a group of conditions and
/// groups joined by `and` (the default) or `or`, and-ed with them. `count` rows a page and `page` (from 1) page the
/// rows instead of `top`. Responses: `{"id": "…"}` for Create, `{"id": "…", "created": true|false}` for Upsert,
/// `{"attributes": {…}}` for Retrieve, `{"entities": [{"id": "…", "attributes": {…}}, …], "moreRecords": false}` for
/// RetrieveMultiple (values as they are written, other types as their text), `{}` otherwise.
enum SandboxOrganizationRequest {
    private struct Request: Decodable {
        var message: String
        var target: Target?
        var logicalname: String?
        var id: String?
        var columns: [String]?
        var conditions: [Condition]?
        var orders: [Order]?
        var filter: Filter?
        var top: Int?
        var count: Int?
        var page: Int?
        var state: Int32?
        var status: Int32?
        var assignee: String?
        var relationship: String?
        var related: [Related]?
    }

    private struct Related: Decodable {
        var logicalname: String
        var id: String
    }

    private struct Condition: Decodable {
        var attribute: String
        var `operator`: String
        var values: [Scalar]?
    }

    /// A group of conditions and groups (the SDK's `FilterExpression`).
    private struct Filter: Decodable {
        var type: String?
        var conditions: [Condition]?
        var filters: [Filter]?
    }

    private struct Order: Decodable {
        var attribute: String
        var descending: Bool?
    }

    /// The largest `top` or `count` (and the rows returned without one), as the Web API's.
    static let maximumRows = 5_000
    /// The messages `execute` runs.
    static let messages =
        "Create, Update, Upsert, Retrieve, RetrieveMultiple, Delete, SetState, Assign, Associate, Disassociate"

    private struct Target: Decodable {
        var logicalname: String
        var id: String?
        var attributes: [String: Scalar]?
    }

    /// A JSON attribute value.
    private enum Scalar: Decodable {
        case null
        case boolean(Bool)
        case whole(Int64)
        case number(Double)
        case text(String)
        case reference(EntityReference)
        case option(Int32)
        case money(DotNetDecimal)

        private struct Object: Decodable {
            var logicalname: String?
            var id: String?
            var value: Int32?
            var money: Amount?
        }

        /// A currency amount: a number, or its text (exact).
        private struct Amount: Decodable {
            var text: String
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let text = try? container.decode(String.self) {
                    self.text = text
                } else {
                    self.text = "\(try container.decode(Double.self))"
                }
            }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let object = try? container.decode(Object.self),
                object.logicalname != nil || object.value != nil || object.money != nil
            {
                if let table = object.logicalname {
                    guard let id = object.id.flatMap(Guid.init) else {
                        throw DecodingError.dataCorruptedError(
                            in: container,
                            debugDescription: "a lookup needs a GUID \"id\" beside \"logicalname\""
                        )
                    }
                    self = .reference(EntityReference(logicalName: table, id: id))
                } else if let value = object.value {
                    self = .option(value)
                } else {
                    guard let text = object.money?.text, let amount = DotNetDecimal(text) else {
                        throw DecodingError.dataCorruptedError(
                            in: container,
                            debugDescription: "\"money\" needs an amount (a number or its text)"
                        )
                    }
                    self = .money(amount)
                }
            } else if container.decodeNil() {
                self = .null
            } else if let flag = try? container.decode(Bool.self) {
                self = .boolean(flag)
            } else if let whole = try? container.decode(Int64.self) {
                self = .whole(whole)
            } else if let number = try? container.decode(Double.self) {
                self = .number(number)
            } else if let text = try? container.decode(String.self) {
                self = .text(text)
            } else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription:
                        "not a string, number, boolean, null, lookup ({\"logicalname\",\"id\"}), choice ({\"value\"}) or amount ({\"money\"})"
                )
            }
        }

        var value: ContextValue {
            switch self {
            case .null: .null
            case .boolean(let flag): .boolean(flag)
            case .whole(let whole):
                whole >= Int64(Int32.min) && whole <= Int64(Int32.max) ? .int(Int32(whole)) : .long(whole)
            case .number(let number): .double(number)
            case .text(let text): .string(text)
            case .reference(let reference): .entityReference(reference)
            case .option(let value): .optionSetValue(OptionSetValue(value))
            case .money(let amount): .money(Money(amount))
            }
        }
    }

    static func execute(_ text: String, service: OrganizationService) async throws -> String {
        let request: Request
        do {
            request = try JSONDecoder().decode(Request.self, from: Data(text.utf8))
        } catch {
            throw SandboxError(
                "execute: the request is not a JSON object with a \"message\" (\(Self.messages)) and its members: \(error)"
            )
        }
        switch request.message {
        case "Create", "Update", "Upsert":
            guard let target = request.target else {
                throw SandboxError("execute: \(request.message) needs a \"target\" with a \"logicalname\"")
            }
            var entity = Entity(logicalName: target.logicalname)
            if let id = target.id {
                guard let guid = Guid(id) else { throw SandboxError("execute: '\(id)' is not a GUID") }
                entity.id = guid
            }
            for (name, value) in (target.attributes ?? [:]).sorted(by: { $0.key < $1.key }) {
                entity.attributes.append(key: name, value: value.value)
            }
            if request.message == "Create" {
                let id = try await service.create(entity)
                return Self.json(["id": id.description])
            }
            guard entity.id != .empty else {
                throw SandboxError("execute: \(request.message) needs the target's \"id\"")
            }
            if request.message == "Upsert" {
                let created = try await service.upsert(entity)
                return Self.json(["id": entity.id.description, "created": created])
            }
            try await service.update(entity)
            return "{}"
        case "Retrieve", "Delete", "SetState", "Assign", "Associate", "Disassociate":
            guard let table = request.logicalname, let id = request.id.flatMap(Guid.init) else {
                throw SandboxError("execute: \(request.message) needs \"logicalname\" and a GUID \"id\"")
            }
            let reference = EntityReference(logicalName: table, id: id)
            switch request.message {
            case "Delete":
                try await service.delete(reference)
            case "SetState":
                guard let state = request.state, let status = request.status else {
                    throw SandboxError("execute: SetState needs \"state\" and \"status\" (statecode and statuscode)")
                }
                try await service.setState(reference, state: state, status: status)
            case "Assign":
                guard let assignee = request.assignee.flatMap(Guid.init) else {
                    throw SandboxError("execute: Assign needs \"assignee\", the GUID of a systemuser")
                }
                try await service.assign(reference, to: assignee)
            case "Associate", "Disassociate":
                guard let relationship = request.relationship, let related = request.related, !related.isEmpty else {
                    throw SandboxError(
                        "execute: \(request.message) needs \"relationship\" (its schema name) and \"related\" ([{\"logicalname\", \"id\"}])"
                    )
                }
                var references: [EntityReference] = []
                for row in related {
                    guard let relatedId = Guid(row.id) else { throw SandboxError("execute: '\(row.id)' is not a GUID") }
                    references.append(EntityReference(logicalName: row.logicalname, id: relatedId))
                }
                _ = try await service.execute(
                    request.message == "Associate"
                        ? .associate(reference, relationship: relationship, related: references)
                        : .disassociate(reference, relationship: relationship, related: references)
                )
            default:
                let entity = try await service.retrieve(
                    reference,
                    columns: request.columns.map(ColumnSet.columns) ?? .all
                )
                return Self.json(["attributes": Self.attributes(entity)])
            }
            return "{}"
        case "RetrieveMultiple":
            guard let table = request.logicalname else {
                throw SandboxError("execute: RetrieveMultiple needs \"logicalname\"")
            }
            var paging: PagingInfo?
            if request.count != nil || request.page != nil {
                guard request.top == nil else {
                    throw SandboxError("execute: give \"top\" or \"count\" and \"page\", not both")
                }
                let count = request.count ?? Self.maximumRows
                let page = request.page ?? 1
                guard (1...Self.maximumRows).contains(count), page >= 1 else {
                    throw SandboxError(
                        "execute: \"count\" must be from 1 to \(Self.maximumRows) and \"page\" 1 or more, not \(count) and \(page)"
                    )
                }
                paging = PagingInfo(count: count, pageNumber: page)
            }
            let top = paging == nil ? request.top ?? Self.maximumRows : nil
            if let top, !(1...Self.maximumRows).contains(top) {
                throw SandboxError("execute: \"top\" must be from 1 to \(Self.maximumRows), not \(top)")
            }
            var criteria = FilterExpression(conditions: try Self.conditions(request.conditions))
            if let filter = request.filter { criteria.filters.append(try Self.filter(filter)) }
            let query = QueryExpression(
                entityName: table,
                columnSet: request.columns.map(ColumnSet.columns) ?? .all,
                criteria: criteria,
                orders: (request.orders ?? []).map {
                    OrderExpression($0.attribute, descending: $0.descending ?? false)
                },
                topCount: top,
                pageInfo: paging
            )
            let collection = try await service.retrieveMultiple(query)
            return Self.json([
                "entities": collection.entities.map {
                    ["id": $0.id.description, "attributes": Self.attributes($0)] as [String: Any]
                },
                "moreRecords": collection.moreRecords,
            ])
        default:
            throw SandboxError(
                "execute: the message '\(request.message)' is not one the sandbox runs (\(Self.messages))"
            )
        }
    }

    private static func conditions(_ conditions: [Condition]?) throws -> [ConditionExpression] {
        try (conditions ?? []).map { condition in
            let name = condition.operator.prefix(1).lowercased() + condition.operator.dropFirst()
            guard let op = ConditionExpression.Operator(rawValue: name) else {
                throw SandboxError(
                    "execute: '\(condition.operator)' is not a condition operator the sandbox runs (Equal, NotEqual, GreaterThan, GreaterEqual, LessThan, LessEqual, Null, NotNull, BeginsWith, EndsWith, Contains, In)"
                )
            }
            return ConditionExpression(condition.attribute, op, (condition.values ?? []).map(\.value))
        }
    }

    private static func filter(_ filter: Filter) throws -> FilterExpression {
        let type: FilterExpression.Operator
        switch filter.type?.lowercased() {
        case nil, "and": type = .and
        case "or": type = .or
        case let other?:
            throw SandboxError("execute: a filter's \"type\" is \"and\" or \"or\", not \"\(other)\"")
        }
        return FilterExpression(
            type,
            conditions: try Self.conditions(filter.conditions),
            filters: try (filter.filters ?? []).map(Self.filter)
        )
    }

    private static func attributes(_ entity: Entity) -> [String: Any] {
        var attributes: [String: Any] = [:]
        for pair in entity.attributes { attributes[pair.key] = Self.plain(pair.value) }
        return attributes
    }

    private static func plain(_ value: ContextValue) -> Any {
        switch value {
        case .null: return NSNull()
        case .string(let text): return text
        case .boolean(let flag): return flag
        case .int(let number): return number
        case .long(let number): return number
        case .double(let number): return number
        case .guid(let id): return id.description
        case .optionSetValue(let option): return ["value": option.value]
        case .entityReference(let reference):
            return ["logicalname": reference.logicalName ?? "", "id": reference.id.description]
        case .money(let amount): return ["money": amount.value.description]
        default: return "\(value)"
        }
    }

    private static func json(_ object: [String: Any]) -> String {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map {
            String(decoding: $0, as: UTF8.self)
        } ?? "{}"
    }
}

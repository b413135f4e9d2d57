import ConduitContext
import Foundation

/// A sandboxed plug-in's organization-service request (`conduit.execute`), as JSON:
///
/// ```json
/// {"message": "Create", "target": {"logicalname": "task", "attributes": {"subject": "Call back", "priority": 2}}}
/// {"message": "Update", "target": {"logicalname": "task", "id": "…", "attributes": {"subject": "Done"}}}
/// {"message": "Retrieve", "logicalname": "task", "id": "…", "columns": ["subject"]}
/// {"message": "Delete", "logicalname": "task", "id": "…"}
/// ```
///
/// Attribute values are JSON strings, numbers (whole numbers as Int32/Int64, others as Double), booleans or null;
/// a string that is a GUID stays a string. Responses: `{"id": "…"}` for Create, `{"attributes": {…}}` for
/// Retrieve (strings, numbers, booleans; other types as their text), `{}` otherwise.
enum SandboxOrganizationRequest {
    private struct Request: Decodable {
        var message: String
        var target: Target?
        var logicalname: String?
        var id: String?
        var columns: [String]?
    }

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

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
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
                    debugDescription: "not a string, number, boolean or null"
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
            }
        }
    }

    static func execute(_ text: String, service: OrganizationService) async throws -> String {
        let request: Request
        do {
            request = try JSONDecoder().decode(Request.self, from: Data(text.utf8))
        } catch {
            throw SandboxError(
                "execute: the request is not a JSON object with a \"message\" (Create, Update, Retrieve, Delete) and its members: \(error)"
            )
        }
        switch request.message {
        case "Create", "Update":
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
            guard entity.id != .empty else { throw SandboxError("execute: Update needs the target's \"id\"") }
            try await service.update(entity)
            return "{}"
        case "Retrieve", "Delete":
            guard let table = request.logicalname, let id = request.id.flatMap(Guid.init) else {
                throw SandboxError("execute: \(request.message) needs \"logicalname\" and a GUID \"id\"")
            }
            let reference = EntityReference(logicalName: table, id: id)
            if request.message == "Delete" {
                try await service.delete(reference)
                return "{}"
            }
            let entity = try await service.retrieve(reference, columns: request.columns.map(ColumnSet.columns) ?? .all)
            var attributes: [String: Any] = [:]
            for pair in entity.attributes { attributes[pair.key] = Self.plain(pair.value) }
            return Self.json(["attributes": attributes])
        default:
            throw SandboxError(
                "execute: the message '\(request.message)' is not one the sandbox runs (Create, Update, Retrieve, Delete)"
            )
        }
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
        case .optionSetValue(let option): return option.value
        case .entityReference(let reference): return reference.id.description
        default: return "\(value)"
        }
    }

    private static func json(_ object: [String: Any]) -> String {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map {
            String(decoding: $0, as: UTF8.self)
        } ?? "{}"
    }
}

import ConduitContext
import ConduitPlatform
import HTTPTypes
import Hummingbird
import NIOCore

/// `RelationshipDefinitions`: list the relationships (one-to-many from lookups, many-to-many created at run time)
/// and create a many-to-many relationship, as the Dataverse metadata API does.
struct RelationshipDefinitionsEndpoint {
    let platform: Platform

    static let manyToManyType = "Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata"
    static let oneToManyType = "Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata"

    func handle(_ request: Request, path: String, base: String) async throws -> Response {
        var request = request
        switch (request.method, path) {
        case (.get, "RelationshipDefinitions"):
            let oneToMany = platform.metadata.allOneToMany.map { relationship in
                JSONWriter.object([
                    ("@odata.type", JSONWriter.quoted("#" + Self.oneToManyType)),
                    ("SchemaName", JSONWriter.quoted(relationship.schemaName)),
                    ("RelationshipType", JSONWriter.quoted("OneToManyRelationship")),
                    ("ReferencedEntity", JSONWriter.quoted(relationship.referencedEntity)),
                    ("ReferencingEntity", JSONWriter.quoted(relationship.referencingEntity)),
                    ("ReferencingAttribute", JSONWriter.quoted(relationship.referencingAttribute)),
                ])
            }
            let manyToMany = platform.metadata.allManyToMany.map { JSONWriter.object(Self.members(of: $0)) }
            return WebAPIController.json(
                .ok,
                JSONWriter.object([
                    ("@odata.context", JSONWriter.quoted(base + "$metadata#RelationshipDefinitions")),
                    ("value", "[" + (oneToMany + manyToMany).joined(separator: ",") + "]"),
                ])
            )
        case (.post, "RelationshipDefinitions"):
            let body = try JSONParser.parse(Array(try await request.collectBody(upTo: 1 << 20).readableBytesView))
            let relationship = try Self.manyToMany(from: body)
            try await platform.createRelationship(relationship)
            var headers = HTTPFields()
            headers[HTTPField.Name("OData-EntityId")!] = base + "RelationshipDefinitions(\(relationship.metadataId))"
            headers[HTTPField.Name("OData-Version")!] = "4.0"
            return Response(status: .noContent, headers: headers)
        default:
            throw WebAPIError(
                status: .methodNotAllowed,
                code: "0x80060888",
                message: "\(request.method) is not supported on '\(path)'."
            )
        }
    }

    static func members(of relationship: ManyToManyRelationshipMetadata) -> [(String, String)] {
        [
            ("@odata.type", JSONWriter.quoted("#" + manyToManyType)),
            ("MetadataId", JSONWriter.quoted(relationship.metadataId.description)),
            ("SchemaName", JSONWriter.quoted(relationship.schemaName)),
            ("RelationshipType", JSONWriter.quoted("ManyToManyRelationship")),
            ("Entity1LogicalName", JSONWriter.quoted(relationship.entity1LogicalName)),
            ("Entity2LogicalName", JSONWriter.quoted(relationship.entity2LogicalName)),
            ("IntersectEntityName", JSONWriter.quoted(relationship.intersectEntityName)),
            ("Entity1IntersectAttribute", JSONWriter.quoted(relationship.entity1IntersectAttribute)),
            ("Entity2IntersectAttribute", JSONWriter.quoted(relationship.entity2IntersectAttribute)),
            ("Entity1NavigationPropertyName", JSONWriter.quoted(relationship.schemaName)),
            ("Entity2NavigationPropertyName", JSONWriter.quoted(relationship.schemaName)),
        ]
    }

    /// The body Dataverse takes: `@odata.type` ManyToManyRelationshipMetadata, `SchemaName`, `Entity1LogicalName`,
    /// `Entity2LogicalName` and optionally `IntersectEntityName`.
    static func manyToMany(from body: JSONValue) throws(WebAPIError) -> ManyToManyRelationshipMetadata {
        guard case .object = body else { throw .badRequest("The relationship definition must be a JSON object.") }
        switch body["@odata.type"] {
        case .string(let type) where type.hasSuffix(manyToManyType):
            break
        case .string(let type) where type.hasSuffix(oneToManyType):
            throw .badRequest(
                "One-to-many relationships come from lookup columns: add a Lookup column through EntityDefinitions(LogicalName='…')/Attributes."
            )
        default:
            throw .badRequest("Set \"@odata.type\": \"\(manyToManyType)\" to create a many-to-many relationship.")
        }
        func text(_ name: String) throws(WebAPIError) -> String {
            guard case .string(let value)? = body[name], !value.isEmpty else {
                throw .badRequest("The relationship definition needs \(name) (a string).")
            }
            return value
        }
        var intersect: String?
        if case .string(let value)? = body["IntersectEntityName"] { intersect = value }
        return ManyToManyRelationshipMetadata(
            schemaName: try text("SchemaName"),
            entity1LogicalName: try text("Entity1LogicalName"),
            entity2LogicalName: try text("Entity2LogicalName"),
            intersectEntityName: intersect
        )
    }
}

import Foundation
import Testing

@testable import ConduitContext

/// Unknown members and unknown `__type` names survive a decode → encode round trip (the `IExtensibleDataObject`
/// idea) instead of failing or vanishing.
@Suite("unknown members and types")
struct ExtensionDataTests {
    static let fixture = "webhook-update-msdyn_agentstatus-async-postop.json"

    /// The fixture with an unknown top-level member, an unknown member inside an entity, an unknown `__type`
    /// in InputParameters and an explicit null for a newer optional member.
    static func extendedJSON() throws -> [UInt8] {
        // The compact form, so the replacements below match whatever the fixture's layout.
        let compact = ContextCodec.encode(
            try ContextCodec.decode(try Fixtures.jsonContext(fixture), format: .json),
            format: .json
        )
        var text = String(decoding: compact, as: UTF8.self)
        text = text.replacingOccurrences(
            of: #""IsExecutingOffline":false,"#,
            with: #""IsApplicationUser":true,"IsExecutingOffline":false,"#
        )
        text = text.replacingOccurrences(
            of: #""LogicalName":"msdyn_agentstatus","#,
            with: #""LogicalName":"msdyn_agentstatus","NewEntityMember":{"A":[1,2.5,"x"],"B":null},"#
        )
        text = text.replacingOccurrences(
            of: #""InputParameters":["#,
            with:
                #""InputParameters":[{"key":"Query","value":{"__type":"QueryExpression:http:\/\/schemas.microsoft.com\/xrm\/2011\/Contracts","ColumnSet":{"AllColumns":true,"Columns":[]},"EntityName":"account","TopCount":null}},"#
        )
        text = text.replacingOccurrences(
            of: #""UserAzureActiveDirectoryObjectId":"00000000-0000-0000-0000-000000000000""#,
            with: #""UserAzureActiveDirectoryObjectId":null"#
        )
        return Array(text.utf8)
    }

    @Test("JSON keeps unknown members, unknown types and explicit nulls in place")
    func json() throws {
        let input = try Self.extendedJSON()
        let context = try ContextCodec.decode(input, format: .json)
        #expect(context.extensionData.members.map(\.name) == ["IsApplicationUser", "UserAzureActiveDirectoryObjectId"])
        guard case .unknown(let query)? = context.inputParameters["Query"] else {
            Issue.record("the QueryExpression was not kept as an unknown value")
            return
        }
        #expect(query.type?.name == "QueryExpression")
        let output = ContextCodec.encode(context, format: .json)
        #expect(OrderedJSON.difference(try OrderedJSON.parse(input), try OrderedJSON.parse(output)) == nil)
    }

    @Test("XML and binary keep them too", arguments: [WireFormat.xml, .binary])
    func xmlAndBinary(format: WireFormat) throws {
        let context = try ContextCodec.decode(try Self.extendedJSON(), format: .json)
        let body = ContextCodec.encode(context, format: format)
        let back = try ContextCodec.decode(body, format: format)
        #expect(ContextCodec.encode(back, format: format) == body)
        #expect(back.extensionData.members.map(\.name) == ["IsApplicationUser", "UserAzureActiveDirectoryObjectId"])
        guard case .unknown(let query)? = back.inputParameters["Query"] else {
            Issue.record("the QueryExpression was not kept as an unknown value")
            return
        }
        #expect(query.type == ContractName(name: "QueryExpression", namespace: XMLNamespaces.contracts))
        #expect(back.userAzureActiveDirectoryObjectId == nil)
    }

    @Test("an unknown member read from XML is written back in XML unchanged")
    func xmlUnknownElement() throws {
        let base = String(decoding: ContextCodec.encode(Samples.context(with: .int(1)), format: .xml), as: UTF8.self)
        let input = base.replacingOccurrences(
            of: "<IsExecutingOffline>",
            with:
                #"<IsApplicationUser>true</IsApplicationUser><Future xmlns:x="urn:x"><x:Inner i:type="x:T">5</x:Inner></Future><IsExecutingOffline>"#
        )
        let context = try ContextCodec.decode(Array(input.utf8), format: .xml)
        #expect(context.extensionData.members.count == 2)
        let output = String(decoding: ContextCodec.encode(context, format: .xml), as: UTF8.self)
        #expect(output.contains("<IsApplicationUser>true</IsApplicationUser>"))
        #expect(output.contains(#"<Future><a:Inner i:type="a:T" xmlns:a="urn:x">5</a:Inner></Future>"#))
    }
}

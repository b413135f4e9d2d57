import ConduitContext
import ConduitPlatform
import ConduitTestSupport
import Foundation
import HTTPTypes
import Testing

@Suite("Web API")
struct WebAPITests {
    @Test("no request runs without a valid key", arguments: TestBackend.available)
    func authentication(backend: TestBackend) async throws {
        try await ServerHarness.run(backend) { s in
            let none = try await s.send(.get, "contacts", authorized: false)
            #expect(none.status == .unauthorized)
            #expect(none.errorCode == "0x80072560")
            let bad = try await s.send(
                .get,
                "contacts",
                headers: ["Authorization": "Bearer cdt_wrong"],
                authorized: false
            )
            #expect(bad.status == .unauthorized)
            let created = try await s.send(.post, "contacts", body: #"{"firstname":"x"}"#, authorized: false)
            #expect(created.status == .unauthorized)
            #expect(try await s.send(.get, "contacts").json["value"] as? [Any] != nil)
        }
    }

    @Test("create, read, update, upsert and delete over HTTP", arguments: TestBackend.available)
    func crud(backend: TestBackend) async throws {
        try await ServerHarness.run(backend) { s in
            let account = try await s.send(
                .post,
                "accounts",
                body: #"{"name":"Contoso","revenue":1234.5000,"numberofemployees":12}"#
            )
            #expect(account.status == .noContent)
            let accountId = try #require(ServerHarness.id(account))
            let created = try await s.send(
                .post,
                "contacts",
                body:
                    #"{"firstname":"Ada","lastname":"Lovelace","birthdate":"1815-12-10T00:00:00Z","gendercode":2,"parentcustomerid_account@odata.bind":"/accounts(\#(accountId))"}"#,
                headers: ["Prefer": "return=representation"]
            )
            #expect(created.status == .created)
            let contact = created.json
            #expect(contact["fullname"] as? String == "Ada Lovelace")
            #expect(contact["_parentcustomerid_value"] as? String == accountId.description)
            #expect(contact["@odata.etag"] as? String == "W/\"1\"")
            #expect((contact["@odata.context"] as? String)?.hasSuffix("$metadata#contacts/$entity") == true)
            let id = try #require((contact["contactid"] as? String).flatMap { Guid($0) })

            let read = try await s.send(
                .get,
                "contacts(\(id))?$select=fullname,gendercode",
                headers: ["Prefer": #"odata.include-annotations="*""#]
            )
            #expect(read.status == .ok)
            #expect(read.json["gendercode@OData.Community.Display.V1.FormattedValue"] as? String == "Female")
            #expect(read.json["lastname"] == nil)

            let patch = try await s.send(
                .patch,
                "contacts(\(id))",
                body: #"{"jobtitle":"Analyst"}"#,
                headers: ["If-Match": "W/\"1\""]
            )
            #expect(patch.status == .noContent)
            let stale = try await s.send(
                .patch,
                "contacts(\(id))",
                body: #"{"jobtitle":"Engineer"}"#,
                headers: ["If-Match": "W/\"1\""]
            )
            #expect(stale.status == .preconditionFailed)
            #expect(stale.errorCode == "0x80060882")
            #expect(try await s.send(.get, "contacts(\(id))").json["jobtitle"] as? String == "Analyst")

            let newId = Guid.random()
            let upsert = try await s.send(.patch, "contacts(\(newId))", body: #"{"firstname":"Grace"}"#)
            #expect(upsert.status == .noContent)
            #expect(ServerHarness.id(upsert) == newId)
            let mustExist = try await s.send(
                .patch,
                "contacts(\(Guid.random()))",
                body: #"{"firstname":"X"}"#,
                headers: ["If-Match": "*"]
            )
            #expect(mustExist.status == .notFound)

            #expect(try await s.send(.delete, "contacts(\(id))").status == .noContent)
            let gone = try await s.send(.get, "contacts(\(id))")
            #expect(gone.status == .notFound)
            #expect(gone.errorCode == "0x80040217")
            #expect(gone.errorMessage == "contact With Id = \(id) Does Not Exist")
        }
    }

    @Test("queries: $select, $filter, $orderby, $top, $count and server paging", arguments: TestBackend.available)
    func queries(backend: TestBackend) async throws {
        try await ServerHarness.run(backend) { s in
            for index in 1...7 {
                _ = try await s.send(
                    .post,
                    "accounts",
                    body: #"{"name":"Account \#(index)","numberofemployees":\#(index * 10)}"#
                )
            }
            let filtered = try await s.send(
                .get,
                "accounts?$select=name,numberofemployees&$filter=numberofemployees%20ge%2030%20and%20contains(name,'count')&$orderby=numberofemployees%20desc&$top=2&$count=true"
            )
            #expect(filtered.status == .ok, "\(filtered.body)")
            let rows = filtered.json["value"] as? [[String: Any]] ?? []
            #expect(rows.map { $0["name"] as? String } == ["Account 7", "Account 6"])
            #expect(
                (filtered.json["@odata.context"] as? String)?.hasSuffix("$metadata#accounts(name,numberofemployees)")
                    == true
            )
            var names: [String] = []
            var next: String? = "accounts?$select=name&$orderby=name"
            var pages = 0
            while let path = next {
                let relative = path.range(of: "/api/").map { String(path[$0.lowerBound...]) } ?? path
                let page = try await s.send(.get, relative, headers: ["Prefer": "odata.maxpagesize=3"])
                #expect(page.status == .ok, "\(page.body)")
                names += (page.json["value"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                next = page.json["@odata.nextLink"] as? String
                pages += 1
                if pages > 5 { break }
            }
            #expect(pages == 3)
            #expect(names == (1...7).map { "Account \($0)" })
        }
    }

    @Test("bad input gets a Dataverse-shaped error and changes nothing", arguments: TestBackend.available)
    func badInput(backend: TestBackend) async throws {
        try await ServerHarness.run(backend) { s in
            let cases: [(HTTPRequest.Method, String, String?, HTTPResponse.Status, String)] = [
                (.get, "nosuchtables", nil, .notFound, "Resource not found for the segment 'nosuchtables'"),
                (
                    .post, "contacts", #"{"nosuchcolumn":1}"#, .badRequest,
                    "Could not find a property named 'nosuchcolumn'"
                ),
                (
                    .post, "contacts", #"{"numberofchildren":"two"}"#, .badRequest,
                    "Cannot convert a string to the type of 'numberofchildren'"
                ),
                (.post, "contacts", #"{"firstname": "#, .badRequest, "not valid JSON"),
                (.post, "contacts", #"["not an object"]"#, .badRequest, "must be a JSON object"),
                (.get, "contacts?$filter=firstname%20eq", nil, .badRequest, "$filter"),
                (
                    .get, "contacts?$filter=nosuch%20eq%201", nil, .badRequest,
                    "Could not find a property named 'nosuch'"
                ),
                (.get, "contacts(not-a-guid)", nil, .badRequest, "is not a GUID"),
                (.post, "contacts", #"{"gendercode":99}"#, .badRequest, "99 is not a valid value for 'gendercode'"),
            ]
            for (method, path, body, status, message) in cases {
                let reply = try await s.send(method, path, body: body)
                #expect(reply.status == status, "\(path): \(reply.body)")
                #expect(reply.errorMessage?.contains(message) == true, "\(path): \(reply.body)")
                #expect(reply.errorCode?.hasPrefix("0x") == true)
            }
            let large = "{\"description\":\"" + String(repeating: "x", count: 17 * 1024 * 1024) + "\"}"
            let tooLarge = try await s.send(.post, "contacts", body: large)
            #expect(tooLarge.status == .contentTooLarge)
            #expect((try await s.send(.get, "contacts").json["value"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("WhoAmI, EntityDefinitions and steps registered through the API", arguments: TestBackend.available)
    func customizationAndSteps(backend: TestBackend) async throws {
        try await ServerHarness.run(backend) { s in
            let who = try await s.send(.get, "WhoAmI")
            #expect(who.json["UserId"] as? String == s.platform.administratorId.description)
            #expect(who.json["OrganizationId"] as? String == s.platform.organization.id.description)

            let table = try await s.send(
                .post,
                "EntityDefinitions",
                body:
                    #"{"@odata.type":"Microsoft.Dynamics.CRM.EntityMetadata","SchemaName":"new_Project","DisplayName":{"LocalizedLabels":[{"Label":"Project","LanguageCode":1033}]},"OwnershipType":"UserOwned","Attributes":[{"@odata.type":"Microsoft.Dynamics.CRM.StringAttributeMetadata","AttributeType":"String","SchemaName":"new_Name","IsPrimaryName":true,"MaxLength":100}]}"#
            )
            #expect(table.status == .noContent, "\(table.body)")
            let column = try await s.send(
                .post,
                "EntityDefinitions(LogicalName='new_project')/Attributes",
                body: #"{"@odata.type":"Microsoft.Dynamics.CRM.MoneyAttributeMetadata","SchemaName":"new_Budget"}"#
            )
            #expect(column.status == .noContent, "\(column.body)")
            let project = try await s.send(.post, "new_projects", body: #"{"new_name":"Apollo","new_budget":25000.50}"#)
            #expect(project.status == .noContent, "\(project.body)")

            // An async step on Create of new_project, registered as the Plug-in Registration Tool does.
            let pluginType = try await s.send(
                .post,
                "plugintypes",
                body: #"{"name":"Demo.Async","typename":"Demo.Async"}"#
            )
            let pluginTypeId = try #require(ServerHarness.id(pluginType))
            let filter = Platform.messageFilterId(message: "Create", table: "new_project")
            let step = try await s.send(
                .post,
                "sdkmessageprocessingsteps",
                body:
                    #"{"name":"Demo: Create of new_project","stage":40,"mode":1,"rank":1,"supporteddeployment":0,"sdkmessageid@odata.bind":"/sdkmessages(\#(Platform.messageId("Create")))","sdkmessagefilterid@odata.bind":"/sdkmessagefilters(\#(filter))","eventhandler_plugintype@odata.bind":"/plugintypes(\#(pluginTypeId))"}"#
            )
            #expect(step.status == .noContent, "\(step.body)")
            _ = try await s.send(.post, "new_projects", body: #"{"new_name":"Gemini"}"#)
            let jobs = try await s.send(
                .get,
                "asyncoperations?$select=name,messagename,statecode,statuscode,operationtype"
            )
            let rows = jobs.json["value"] as? [[String: Any]] ?? []
            #expect(rows.count == 1)
            #expect(rows.first?["messagename"] as? String == "Create")
            #expect(rows.first?["statecode"] as? Int == 0)
            #expect(rows.first?["operationtype"] as? Int == 1)
        }
    }
}

@Suite("Web API relationships")
struct WebAPIRelationshipTests {
    @Test("associate and disassociate with $ref", arguments: TestBackend.available)
    func references(backend: TestBackend) async throws {
        try await ServerHarness.run(backend) { s in
            let account = try #require(
                ServerHarness.id(try await s.send(.post, "accounts", body: #"{"name":"Contoso"}"#))
            )
            let contact = try #require(
                ServerHarness.id(try await s.send(.post, "contacts", body: #"{"firstname":"Ada"}"#))
            )
            let associate = try await s.send(
                .post,
                "accounts(\(account))/contact_customer_accounts/$ref",
                body: #"{"@odata.id":"http://localhost/api/data/v9.2/contacts(\#(contact))"}"#
            )
            #expect(associate.status == .noContent, "\(associate.body)")
            #expect(
                try await s.send(.get, "contacts(\(contact))").json["_parentcustomerid_value"] as? String
                    == account.description
            )
            let disassociate = try await s.send(
                .delete,
                "accounts(\(account))/contact_customer_accounts(\(contact))/$ref"
            )
            #expect(disassociate.status == .noContent, "\(disassociate.body)")
            #expect(try await s.send(.get, "contacts(\(contact))").json["_parentcustomerid_value"] is NSNull)
            let unknown = try await s.send(
                .post,
                "accounts(\(account))/nothing/$ref",
                body: #"{"@odata.id":"contacts(\#(contact))"}"#
            )
            #expect(unknown.status == .badRequest)
            #expect(unknown.errorMessage == "There is no relationship named 'nothing'.")
        }
    }

    @Test(
        "many-to-many: RelationshipDefinitions, $ref, and related rows through navigation properties",
        arguments: TestBackend.available
    )
    func manyToMany(backend: TestBackend) async throws {
        try await ServerHarness.run(backend) { s in
            let definition = """
                {"@odata.type":"Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata","SchemaName":"new_account_contact",
                 "Entity1LogicalName":"account","Entity2LogicalName":"contact"}
                """
            let created = try await s.send(.post, "RelationshipDefinitions", body: definition)
            #expect(created.status == .noContent, "\(created.body)")
            #expect(created.headers[HTTPField.Name("OData-EntityId")!]?.contains("RelationshipDefinitions(") == true)
            let twice = try await s.send(.post, "RelationshipDefinitions", body: definition)
            #expect(twice.status == .preconditionFailed || twice.status == .badRequest, "\(twice.body)")
            let oneToMany = try await s.send(
                .post,
                "RelationshipDefinitions",
                body: #"{"@odata.type":"Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata","SchemaName":"x"}"#
            )
            #expect(oneToMany.status == .badRequest)
            #expect(oneToMany.errorMessage?.contains("lookup columns") == true)
            let unknownTable = try await s.send(
                .post,
                "RelationshipDefinitions",
                body:
                    #"{"@odata.type":"Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata","SchemaName":"new_x","Entity1LogicalName":"account","Entity2LogicalName":"nothing"}"#
            )
            #expect(unknownTable.status == .notFound || unknownTable.status == .badRequest, "\(unknownTable.body)")
            let list = try await s.send(.get, "RelationshipDefinitions")
            let names = (list.json["value"] as? [[String: Any]])?.compactMap { $0["SchemaName"] as? String } ?? []
            #expect(names.contains("new_account_contact"))
            #expect(names.contains("contact_customer_accounts"))

            let account = try #require(
                ServerHarness.id(try await s.send(.post, "accounts", body: #"{"name":"Contoso"}"#))
            )
            var contacts: [Guid] = []
            for name in ["Ada", "Grace", "Edsger"] {
                contacts.append(
                    try #require(
                        ServerHarness.id(try await s.send(.post, "contacts", body: #"{"firstname":"\#(name)"}"#))
                    )
                )
            }
            for contact in contacts {
                let associate = try await s.send(
                    .post,
                    "accounts(\(account))/new_account_contact/$ref",
                    body: #"{"@odata.id":"http://localhost/api/data/v9.2/contacts(\#(contact))"}"#
                )
                #expect(associate.status == .noContent, "\(associate.body)")
            }
            let again = try await s.send(
                .post,
                "accounts(\(account))/new_account_contact/$ref",
                body: #"{"@odata.id":"contacts(\#(contacts[0]))"}"#
            )
            #expect(again.status == .preconditionFailed || again.status == .badRequest, "\(again.body)")
            let related = try await s.send(
                .get,
                "accounts(\(account))/new_account_contact?$select=firstname&$orderby=firstname&$count=true",
                headers: ["Prefer": "odata.maxpagesize=2"]
            )
            #expect(related.status == .ok, "\(related.body)")
            let firstPage = (related.json["value"] as? [[String: Any]])?.compactMap { $0["firstname"] as? String }
            #expect(firstPage == ["Ada", "Edsger"])
            #expect(related.json["@odata.count"] as? Int == 3)
            let next = try #require(related.json["@odata.nextLink"] as? String)
            #expect(next.contains("accounts(\(account))/new_account_contact?"))
            let fromContact = try await s.send(.get, "contacts(\(contacts[1]))/new_account_contact?$select=name")
            #expect((fromContact.json["value"] as? [[String: Any]])?.first?["name"] as? String == "Contoso")

            let disassociate = try await s.send(
                .delete,
                "accounts(\(account))/new_account_contact(\(contacts[0]))/$ref"
            )
            #expect(disassociate.status == .noContent, "\(disassociate.body)")
            let after = try await s.send(.get, "accounts(\(account))/new_account_contact?$select=firstname")
            #expect((after.json["value"] as? [[String: Any]])?.count == 2)

            // One-to-many, from the referenced side.
            let child = try #require(
                ServerHarness.id(
                    try await s.send(
                        .post,
                        "contacts",
                        body: #"{"firstname":"Kid","parentcustomerid_account@odata.bind":"accounts(\#(account))"}"#
                    )
                )
            )
            let children = try await s.send(.get, "accounts(\(account))/contact_customer_accounts?$select=firstname")
            #expect(
                (children.json["value"] as? [[String: Any]])?.first?["contactid"] as? String == child.description,
                "\(children.body)"
            )
            let nowhere = try await s.send(.get, "accounts(\(account))/nothing")
            #expect(nowhere.status == .notFound)
        }
    }
}

@Suite("Web API actions")
struct WebAPIActionTests {
    @Test("a custom message runs as an unbound action", arguments: TestBackend.available)
    func customMessage(backend: TestBackend) async throws {
        try await ServerHarness.run(backend) { s in
            s.platform.registerMessage("new_Greet") { request, services in
                guard case .string(let name)? = request.parameters["Name"] else {
                    throw PlatformError(.invalidArgument, "new_Greet needs a Name.")
                }
                let id = try await services.organizationService.create(
                    Entity(logicalName: "account", attributes: [("name", .string("Greeted \(name)"))])
                )
                return [("Greeting", .string("Hello, \(name)")), ("AccountId", .guid(id))]
            }
            let reply = try await s.send(.post, "new_Greet", body: #"{"Name":"Ada"}"#)
            #expect(reply.status == .ok, "\(reply.body)")
            #expect(reply.json["Greeting"] as? String == "Hello, Ada")
            #expect(
                (reply.json["@odata.context"] as? String)?.hasSuffix("#Microsoft.Dynamics.CRM.new_GreetResponse")
                    == true
            )
            let accounts = try await s.send(.get, "accounts?$select=name")
            #expect((accounts.json["value"] as? [[String: Any]])?.first?["name"] as? String == "Greeted Ada")
            let missing = try await s.send(.post, "new_Greet", body: "{}")
            #expect(missing.status == .badRequest)
            #expect(missing.errorMessage == "new_Greet needs a Name.")
        }
    }
}

import ConduitContext
import ConduitPlatform
import ConduitTestSupport
import Foundation
import Testing

@Suite("records and the organization service")
struct RecordTests {
    @Test("create, retrieve, update, delete a contact", arguments: TestBackend.available)
    func crud(backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            let id = try await h.service.create(
                Entity(
                    logicalName: "contact",
                    attributes: [
                        ("firstname", .string("Ada")), ("lastname", .string("Lovelace")),
                        ("annualincome", .money(Money(DotNetDecimal("1234.5600")!))),
                        ("numberofchildren", .int(2)), ("donotemail", .boolean(true)),
                        ("gendercode", .optionSetValue(OptionSetValue(2))),
                        ("birthdate", .dateTime(DotNetDateTime(xmlText: "1815-12-10T00:00:00Z")!)),
                    ]
                )
            )
            let reference = EntityReference(logicalName: "contact", id: id)
            let row = try await h.service.retrieve(reference)
            #expect(row.attributes["fullname"] == .string("Ada Lovelace"))
            #expect(row.attributes["annualincome"] == .money(Money(DotNetDecimal("1234.5600")!)))
            #expect(row.attributes["numberofchildren"] == .int(2))
            #expect(row.attributes["donotemail"] == .boolean(true))
            #expect(row.attributes["gendercode"] == .optionSetValue(OptionSetValue(2)))
            #expect(row.formattedValues["gendercode"] == "Female")
            #expect(row.attributes["statecode"] == .optionSetValue(OptionSetValue(0)))
            #expect(row.attributes["statuscode"] == .optionSetValue(OptionSetValue(1)))
            #expect(
                row.attributes["ownerid"]
                    == .entityReference(EntityReference(logicalName: "systemuser", id: h.platform.administratorId))
            )
            #expect(row.rowVersion == "1")

            try await h.service.update(
                Entity(logicalName: "contact", id: id, attributes: [("lastname", .string("King"))])
            )
            let updated = try await h.service.retrieve(reference, columns: .columns(["fullname", "versionnumber"]))
            #expect(updated.attributes["fullname"] == .string("Ada King"))
            #expect(updated.rowVersion == "2")

            try await h.service.delete(reference)
            let error = await #expect(throws: PlatformError.self) { try await h.service.retrieve(reference) }
            #expect(error?.code == .objectDoesNotExist)
            #expect(error?.message == "contact With Id = \(id) Does Not Exist")
        }
    }

    @Test(
        "a create with the id of an existing row is refused as a duplicate, on every database",
        arguments: TestBackend.available
    )
    func duplicateId(_ backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            let id = try await h.service.create(
                Entity(logicalName: "account", attributes: [("name", .string("First"))])
            )
            let error = await #expect(throws: PlatformError.self) {
                try await h.service.create(
                    Entity(logicalName: "account", id: id, attributes: [("name", .string("Again"))])
                )
            }
            #expect(error?.code == .duplicateRecord, "\(String(describing: error))")
            #expect(error?.message == "A record with the id \(id) already exists in 'account'.")
            let kept = try await h.service.retrieve(EntityReference(logicalName: "account", id: id))
            #expect(kept.attributes["name"] == .string("First"))
        }
    }

    @Test("bad input is refused with a Dataverse-shaped error and changes nothing", arguments: TestBackend.available)
    func badInput(backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            let cases: [(Entity, PlatformError.Code, String)] = [
                (
                    Entity(logicalName: "contact", attributes: [("nosuchcolumn", .string("x"))]),
                    .attributeDoesNotExist, "doesn't contain attribute with Name = 'nosuchcolumn'"
                ),
                (
                    Entity(logicalName: "contact", attributes: [("numberofchildren", .string("two"))]),
                    .invalidArgument, "must be a whole number"
                ),
                (
                    Entity(logicalName: "contact", attributes: [("gendercode", .optionSetValue(OptionSetValue(7)))]),
                    .invalidArgument, "7 is not a valid value for 'gendercode'"
                ),
                (
                    Entity(
                        logicalName: "contact",
                        attributes: [("firstname", .string(String(repeating: "x", count: 51)))]
                    ), .invalidArgument, "above its maximum length of 50"
                ),
                (
                    Entity(logicalName: "contact", attributes: [("createdon", .dateTime(.now()))]), .invalidArgument,
                    "set by the platform"
                ),
                (Entity(logicalName: "nosuchtable"), .entityDoesNotExist, "The table 'nosuchtable' does not exist."),
            ]
            for (entity, code, message) in cases {
                let error = await #expect(throws: PlatformError.self) { try await h.service.create(entity) }
                #expect(error?.code == code)
                #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
            }
            let all = try await h.service.retrieveMultiple(QueryExpression(entityName: "contact"))
            #expect(all.entities.isEmpty)
        }
    }

    @Test("optimistic concurrency on versionnumber", arguments: TestBackend.available)
    func concurrency(backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            let id = try await h.service.create(Entity(logicalName: "account", attributes: [("name", .string("A"))]))
            try await h.service.update(
                Entity(logicalName: "account", id: id, attributes: [("name", .string("B"))]),
                ifVersion: 1
            )
            let error = await #expect(throws: PlatformError.self) {
                try await h.service.update(
                    Entity(logicalName: "account", id: id, attributes: [("name", .string("C"))]),
                    ifVersion: 1
                )
            }
            #expect(error?.code == .concurrencyVersionMismatch)
            let row = try await h.service.retrieve(EntityReference(logicalName: "account", id: id))
            #expect(row.attributes["name"] == .string("B"))
        }
    }

    @Test("queries: filter, order, top, paging, count", arguments: TestBackend.available)
    func queries(backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            for index in 1...12 {
                _ = try await h.service.create(
                    Entity(
                        logicalName: "account",
                        attributes: [
                            ("name", .string("Account \(String(format: "%02d", index))")),
                            ("numberofemployees", .int(Int32(index * 10))),
                            ("revenue", .money(Money(DotNetDecimal("\(index * 1000).50")!))),
                        ]
                    )
                )
            }
            var query = QueryExpression(
                entityName: "account",
                columnSet: .columns(["name", "numberofemployees"]),
                criteria: FilterExpression(conditions: [
                    ConditionExpression("numberofemployees", .greaterThan, [.int(30)])
                ]),
                orders: [OrderExpression("numberofemployees", descending: true)],
                topCount: 3
            )
            var result = try await h.service.retrieveMultiple(query)
            #expect(
                result.entities.map { $0.attributes["name"] }
                    == ["Account 12", "Account 11", "Account 10"].map { .string($0) }
            )
            query.topCount = nil
            query.pageInfo = PagingInfo(count: 4, pageNumber: 2, returnTotalRecordCount: true)
            result = try await h.service.retrieveMultiple(query)
            #expect(result.entities.count == 4)
            #expect(result.moreRecords)
            #expect(result.totalRecordCount == 9)
            let contains = try await h.service.retrieveMultiple(
                QueryExpression(
                    entityName: "account",
                    criteria: FilterExpression(
                        .or,
                        conditions: [
                            ConditionExpression("name", .contains, [.string("unt 0")]),
                            ConditionExpression("revenue", .greaterEqual, [.decimal(DotNetDecimal("12000")!)]),
                        ]
                    )
                )
            )
            #expect(contains.entities.count == 10)
            let caseInsensitive = try await h.service.retrieveMultiple(
                QueryExpression(
                    entityName: "account",
                    criteria: FilterExpression(conditions: [
                        ConditionExpression("name", .equal, [.string("ACCOUNT 05")])
                    ])
                )
            )
            #expect(caseInsensitive.entities.count == 1)
        }
    }

    @Test("custom tables and columns created at run time", arguments: TestBackend.available)
    func customTables(backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            try await h.platform.createTable(
                EntityMetadata(
                    logicalName: "new_project",
                    entitySetName: "new_projects",
                    primaryNameAttribute: "new_name",
                    isCustom: true,
                    columns: [AttributeMetadata("new_budget", .money, isCustom: true)]
                )
            )
            try await h.platform.addColumn(
                AttributeMetadata("new_code", .string, maxLength: 10, isCustom: true),
                to: "new_project"
            )
            let id = try await h.service.create(
                Entity(
                    logicalName: "new_project",
                    attributes: [
                        ("new_name", .string("Apollo")), ("new_budget", .money(Money(DotNetDecimal(25)))),
                        ("new_code", .string("AP")),
                    ]
                )
            )
            let row = try await h.service.retrieve(EntityReference(logicalName: "new_project", id: id))
            #expect(row.attributes["new_code"] == .string("AP"))
            #expect(h.platform.metadata.entity(entitySetName: "new_projects")?.logicalName == "new_project")
            let error = await #expect(throws: PlatformError.self) {
                try await h.platform.createTable(
                    EntityMetadata(logicalName: "Bad Name", entitySetName: "x", columns: [])
                )
            }
            #expect(error?.code == .invalidArgument)
        }
    }
}

@Suite("relationships")
struct RelationshipTests {
    @Test(
        "Associate and Disassociate set and clear the lookups of a one-to-many relationship",
        arguments: TestBackend.available
    )
    func associate(backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            let account = try await h.service.create(
                Entity(logicalName: "account", attributes: [("name", .string("Contoso"))])
            )
            let contacts = try await [1, 2].asyncMap { index in
                try await h.service.create(
                    Entity(logicalName: "contact", attributes: [("firstname", .string("C\(index)"))])
                )
            }
            let target = EntityReference(logicalName: "account", id: account)
            let related = contacts.map { EntityReference(logicalName: "contact", id: $0) }
            _ = try await h.service.execute(
                .associate(target, relationship: "contact_customer_accounts", related: related)
            )
            for id in contacts {
                let row = try await h.service.retrieve(EntityReference(logicalName: "contact", id: id))
                #expect(row.attributes["parentcustomerid"] == .entityReference(target))
            }
            _ = try await h.service.execute(
                .disassociate(target, relationship: "contact_customer_accounts", related: [related[0]])
            )
            let first = try await h.service.retrieve(related[0])
            #expect(first.attributes["parentcustomerid"] == nil)
            let second = try await h.service.retrieve(related[1])
            #expect(second.attributes["parentcustomerid"] == .entityReference(target))
            let error = await #expect(throws: PlatformError.self) {
                _ = try await h.service.execute(
                    .associate(target, relationship: "no_such_relationship", related: related)
                )
            }
            #expect(error?.message == "There is no relationship named 'no_such_relationship'.")
        }
    }
}

@Suite("many-to-many relationships")
struct ManyToManyTests {
    @Test(
        "Associate, Disassociate, related rows, the duplicate error, Delete leaving the pairs, and steps on Associate",
        arguments: TestBackend.available
    )
    func manyToMany(backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            let relationship = ManyToManyRelationshipMetadata(
                schemaName: "new_account_contact",
                entity1LogicalName: "account",
                entity2LogicalName: "contact"
            )
            try await h.platform.createRelationship(relationship)
            #expect(relationship.intersectEntityName == "new_account_contact")
            #expect(relationship.entity1IntersectAttribute == "accountid")
            let key = "m2m-\(backend)"
            try await h.registerStep(
                "record associate",
                plugin: "Recording",
                message: "Associate",
                table: "none",
                stage: 40,
                configuration: "\(key)|associate"
            )
            let accounts = try await ["A", "B"].asyncMap { name in
                try await h.service.create(Entity(logicalName: "account", attributes: [("name", .string(name))]))
            }
            let contacts = try await [1, 2, 3].asyncMap { index in
                try await h.service.create(
                    Entity(logicalName: "contact", attributes: [("lastname", .string("C\(index)"))])
                )
            }
            let a = EntityReference(logicalName: "account", id: accounts[0])
            let b = EntityReference(logicalName: "account", id: accounts[1])
            let c = contacts.map { EntityReference(logicalName: "contact", id: $0) }
            _ = try await h.service.execute(.associate(a, relationship: "new_account_contact", related: [c[0], c[1]]))
            // From the other side too: contact 3 with account B.
            _ = try await h.service.execute(.associate(c[2], relationship: "new_account_contact", related: [b]))

            func related(_ target: EntityReference, _ table: String) async throws -> Set<Guid> {
                let rows = try await h.service.retrieveRelated(
                    target,
                    relationship: "new_account_contact",
                    query: QueryExpression(entityName: table)
                )
                return Set(rows.entities.map(\.id))
            }
            #expect(try await related(a, "contact") == [contacts[0], contacts[1]])
            #expect(try await related(b, "contact") == [contacts[2]])
            #expect(try await related(c[0], "account") == [accounts[0]])

            let seen = PluginLog.contexts(key)
            #expect(seen.count == 2)
            #expect(seen.first?.messageName == "Associate")
            #expect(seen.first?.inputParameters["RelatedEntities"] == .entityReferenceCollection([c[0], c[1]]))

            let duplicate = await #expect(throws: PlatformError.self) {
                _ = try await h.service.execute(.associate(c[0], relationship: "new_account_contact", related: [a]))
            }
            #expect(duplicate?.code == .duplicateRecord)
            let wrongTable = await #expect(throws: PlatformError.self) {
                _ = try await h.service.execute(.associate(a, relationship: "new_account_contact", related: [b]))
            }
            #expect(wrongTable?.code == .invalidArgument)
            let missing = await #expect(throws: PlatformError.self) {
                _ = try await h.service.execute(
                    .associate(
                        a,
                        relationship: "new_account_contact",
                        related: [EntityReference(logicalName: "contact", id: Guid.random())]
                    )
                )
            }
            #expect(missing?.code == .objectDoesNotExist)

            _ = try await h.service.execute(.disassociate(a, relationship: "new_account_contact", related: [c[0]]))
            #expect(try await related(a, "contact") == [contacts[1]])
            try await h.service.delete(c[1])
            #expect(try await related(a, "contact").isEmpty)

            let again = await #expect(throws: PlatformError.self) {
                try await h.platform.createRelationship(relationship)
            }
            #expect(again?.code == .duplicateRecord)
            let badName = await #expect(throws: PlatformError.self) {
                try await h.platform.createRelationship(
                    ManyToManyRelationshipMetadata(
                        schemaName: "bad name",
                        entity1LogicalName: "account",
                        entity2LogicalName: "contact"
                    )
                )
            }
            #expect(badName?.code == .invalidArgument)
        }
    }

    @Test("a table related to itself", arguments: TestBackend.available)
    func selfReferencing(backend: TestBackend) async throws {
        try await PlatformHarness.run(backend) { h in
            let relationship = ManyToManyRelationshipMetadata(
                schemaName: "new_account_account",
                entity1LogicalName: "account",
                entity2LogicalName: "account"
            )
            try await h.platform.createRelationship(relationship)
            #expect(relationship.entity1IntersectAttribute == "accountidone")
            #expect(relationship.entity2IntersectAttribute == "accountidtwo")
            let ids = try await ["A", "B"].asyncMap { name in
                try await h.service.create(Entity(logicalName: "account", attributes: [("name", .string(name))]))
            }
            let a = EntityReference(logicalName: "account", id: ids[0])
            let b = EntityReference(logicalName: "account", id: ids[1])
            _ = try await h.service.execute(.associate(a, relationship: "new_account_account", related: [b]))
            let reverse = await #expect(throws: PlatformError.self) {
                _ = try await h.service.execute(.associate(b, relationship: "new_account_account", related: [a]))
            }
            #expect(reverse?.code == .duplicateRecord)
            _ = try await h.service.execute(.disassociate(b, relationship: "new_account_account", related: [a]))
            let rows = try await h.service.retrieveRelated(
                a,
                relationship: "new_account_account",
                query: QueryExpression(entityName: "account")
            )
            #expect(rows.entities.isEmpty)
        }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}

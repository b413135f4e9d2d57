@testable import ConduitContext

/// Contexts built by hand for tests.
enum Samples {
    static let guid1 = Guid("6d81597f-0f9f-e711-8122-000d3aa2331c")!
    static let guid2 = Guid("75c2dd85-e89e-e711-8122-000d3aa2331c")!

    /// A context carrying `value` as the only input parameter, named `v`.
    static func context(with value: ContextValue) -> RemoteExecutionContext {
        var context = RemoteExecutionContext()
        context.messageName = "Update"
        context.primaryEntityName = "contact"
        context.primaryEntityId = guid1
        context.inputParameters = [("v", value)]
        context.operationCreatedOn = DotNetDateTime(unixMilliseconds: 1_506_409_448_000, kind: .utc)!
        return context
    }

    /// One of every value type the model has.
    static var everyValue: [(name: String, value: ContextValue)] {
        let reference = EntityReference(logicalName: "systemuser", id: guid2, name: "Joe")
        let entity = Entity(
            logicalName: "contact",
            id: guid1,
            attributes: [("firstname", .string("James")), ("age", .int(42))],
            formattedValues: [("age", "42")]
        )
        return [
            ("null", .null),
            ("string", .string("a <b> & \"c\" / d é \u{2028}")),
            ("empty string", .string("")),
            ("true", .boolean(true)),
            ("false", .boolean(false)),
            ("int", .int(-2_147_483_648)),
            ("long", .long(9_000_000_000)),
            ("double", .double(1.5e20)),
            ("decimal", .decimal(DotNetDecimal("12.5000")!)),
            ("guid", .guid(guid1)),
            ("utc date", .dateTime(DotNetDateTime(xmlText: "2024-07-24T10:28:25.1234567Z")!)),
            ("local date", .dateTime(DotNetDateTime(xmlText: "2017-09-26T00:04:08-07:00")!)),
            ("entity", .entity(entity)),
            ("entity reference", .entityReference(reference)),
            ("option set value", .optionSetValue(OptionSetValue(100_000_001))),
            ("money", .money(Money(DotNetDecimal("60000.0000")!))),
            ("entity collection", .entityCollection(EntityCollection(entities: [entity], entityName: "contact"))),
            (
                "aliased value",
                .aliasedValue(
                    AliasedValue(entityLogicalName: "account", attributeLogicalName: "name", value: .string("Contoso"))
                )
            ),
            ("option set collection", .optionSetValueCollection([OptionSetValue(1), OptionSetValue(2)])),
            ("entity reference collection", .entityReferenceCollection([reference])),
            ("key value pair", .keyValuePair(KeyValuePair(key: "contact", value: "Update"))),
            (
                "object array",
                .array(
                    ContextArray(
                        itemType: .anyType,
                        items: [
                            .keyValuePair(KeyValuePair(key: "lead", value: "Create")), .string("x"), .int(3),
                        ]
                    )
                )
            ),
            ("entity array", .array(ContextArray(itemType: .entity, items: [.entity(entity)]))),
        ]
    }
}

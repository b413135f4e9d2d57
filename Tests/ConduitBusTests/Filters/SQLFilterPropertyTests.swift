import ConduitBus
import Foundation
import Testing

@Suite("Property names and scopes")
struct SQLFilterPropertyTests {
    static let claim = "http://schemas.microsoft.com/xrm/2011/Claims/EntityLogicalName"

    @Test("The Dataverse claims filter matches an account message")
    func dataverseMatches() throws {
        let filter = try SQLFilter("\"\(Self.claim)\" = 'account'")
        #expect(filter.matches(message([Self.claim: "account"])))
    }

    @Test("The Dataverse claims filter does not match other entities or a message without the claim")
    func dataverseDoesNotMatch() throws {
        let filter = try SQLFilter("\"\(Self.claim)\" = 'account'")
        #expect(!filter.matches(message([Self.claim: "contact"])))
        #expect(!filter.matches(message([Self.claim: "Account"])))
        #expect(!filter.matches(message(["EntityLogicalName": "account"])))
        #expect(try filter.evaluate(message()) == nil)
    }

    @Test("Bracketed names hold spaces, dashes, colons and slashes")
    func bracketed() throws {
        let named = message(["Property With Space": 1, "HR-EmployeeID": 2, "a:b/c": 3])
        #expect(try matches("[Property With Space] = 1", named))
        #expect(try matches("[HR-EmployeeID] = 2", named))
        #expect(try matches("[a:b/c] = 3", named))
        #expect(try matches("user.[a:b/c] = 3", named))
    }

    @Test("Doubling escapes the closing bracket and the double quote")
    func escapedDelimiters() throws {
        let named = message(["a]b": 1, "Contoso \"&\" Northwind": 2])
        #expect(try matches("[a]]b] = 1", named))
        #expect(try matches("\"Contoso \"\"&\"\" Northwind\" = 2", named))
    }

    @Test("A quoted name is a property, not a string")
    func quotedIsProperty() throws {
        #expect(try matches("\"x\" = 'x'", message(["x": "x"])))
        #expect(try evaluate("\"x\" = 'x'") == nil)
    }

    @Test("No scope means user scope")
    func defaultScope() throws {
        let labelled = message(["Label": "user"], system: [.label: "system"])
        #expect(try matches("Label = 'user'", labelled))
        #expect(try matches("user.Label = 'user'", labelled))
        #expect(try matches("sys.Label = 'system'", labelled))
        #expect(try matches("USER.label = 'user' AND SYS.label = 'system'", labelled))
    }

    @Test("Property names are case-insensitive; an exact spelling wins")
    func caseInsensitiveNames() throws {
        #expect(try matches("COLOR = 'red' AND Color = 'red'", message(["color": "red"])))
        #expect(try matches("Color = 'b'", message(["color": "a", "Color": "b"])))
        #expect(try matches("COLOR = 'a'", message(["color": "b", "Color": "a"])))
    }

    @Test("Subject is Label, and the current .NET names of system properties are accepted")
    func systemAliases() throws {
        let date = Date(timeIntervalSince1970: 1_700_000_000)
        let sample = message(system: [.label: "x", .scheduledEnqueueTimeUtc: .date(date)])
        #expect(try matches("sys.Subject = 'x' AND sys.Label = 'x'", sample))
        #expect(try matches("sys.ScheduledEnqueueTime = sys.ScheduledEnqueueTimeUtc", sample))
        #expect(SystemProperty(name: "transactionPartitionKey") == .viaPartitionKey)
        #expect(SystemProperty(name: "nonsense") == nil)
    }

    @Test("Every system property is reachable", arguments: SystemProperty.allCases)
    func everySystemProperty(property: SystemProperty) throws {
        #expect(try matches("sys.\(property.name) IS NULL"))
        #expect(try matches("sys.[\(property.name)] IS NOT NULL", message(system: [property: "set"])))
    }

    @Test("Documentation examples on system properties")
    func documentedSystemExamples() throws {
        let sample = message(
            ["tag": "queue", "StoreId": "Store8"],
            system: [.messageId: "xxxx", .to: "Store6", .sequenceNumber: 42, .deliveryCount: 1]
        )
        #expect(try matches("sys.messageid = 'xxxx'", sample))
        #expect(try matches("sys.Label LIKE '%bus%' OR user.tag IN ('queue', 'topic', 'subscription')", sample))
        #expect(try matches("sys.To IN ('Store5','Store6','Store7') OR StoreId = 'Store8'", sample))
        #expect(try matches("sys.SequenceNumber > 40 AND sys.DeliveryCount = 1", sample))
    }

    @Test("property() and p() look a name up at evaluation")
    func propertyFunction() throws {
        let sample = message(["color": "red", "which": "color", "a b": 1], system: [.label: "L"])
        #expect(try matches("property('color') = 'red'", sample))
        #expect(try matches("p(which) = 'red'", sample))
        #expect(try matches("P('a' + ' b') = 1", sample))
        #expect(try matches("property('sys.Label') = 'L'", sample))
        #expect(try matches("property('user.color') = 'red'", sample))
        #expect(try evaluate("property('nothing') = 1", on: sample) == nil)
    }

    @Test("Unicode letters and digits make regular identifiers")
    func unicodeIdentifiers() throws {
        #expect(try matches("größe_2 = 3 AND 名前 = 'x'", message(["größe_2": 3, "名前": "x"])))
    }

    @Test("Names that look like keywords need delimiters, and words like set and p are ordinary names")
    func keywordLikeNames() throws {
        #expect(try matches("[AND] = 1 AND \"not\" = 2", message(["AND": 1, "not": 2])))
        #expect(try matches("set = 1 AND p = 2 AND newid = 3", message(["set": 1, "p": 2, "newid": 3])))
    }
}

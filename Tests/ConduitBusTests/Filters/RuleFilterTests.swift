import ConduitBus
import Foundation
import Testing

@Suite("Rule filters and their stored form")
struct RuleFilterTests {
    @Test("True and false filters")
    func boolean() {
        #expect(RuleFilter.true.matches(message()))
        #expect(!RuleFilter.false.matches(message()))
    }

    @Test("A SQL rule filter: true matches, unknown does not, an evaluation error is reported by evaluate")
    func sql() throws {
        let filter = RuleFilter.sql(try SQLFilter("a = 1"))
        #expect(filter.matches(message(["a": 1])))
        #expect(!filter.matches(message()))
        #expect(!filter.matches(message(["a": "x"])))
        #expect(throws: FilterError.self) { try filter.evaluate(message(["a": "x"])) }
    }

    @Test(
        "Every kind round-trips through JSON",
        arguments: [
            RuleFilter.true, .false,
            .sql(try! SQLFilter("\"http://schemas.microsoft.com/xrm/2011/Claims/EntityLogicalName\" = 'account'")),
            .sql(
                try! SQLFilter("a > @min", parameters: ["@min": 2.5, "@when": .date(Date(timeIntervalSince1970: 5))])
            ),
            .correlation(CorrelationFilter(correlationId: "c", subject: "s", properties: ["n": 1, "b": true])),
        ]
    )
    func roundTrip(filter: RuleFilter) throws {
        let data = try JSONEncoder().encode(filter)
        #expect(try JSONDecoder().decode(RuleFilter.self, from: data) == filter)
    }

    @Test("The stored form is readable JSON")
    func storedForm() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = try encoder.encode(RuleFilter.sql(try SQLFilter("color = 'red'")))
        #expect(String(decoding: data, as: UTF8.self) == #"{"expression":"color = 'red'","type":"sql"}"#)
        let trueData = try encoder.encode(RuleFilter.true)
        #expect(String(decoding: trueData, as: UTF8.self) == #"{"type":"true"}"#)
    }

    @Test("A stored SQL text that no longer parses fails to decode with the parse error")
    func corruptStoredText() {
        let data = Data(#"{"type":"sql","expression":"a = "}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(RuleFilter.self, from: data) }
    }

    @Test("An unknown stored type fails to decode")
    func unknownType() {
        let data = Data(#"{"type":"regex"}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(RuleFilter.self, from: data) }
    }

    @Test("Filter values of every type round-trip through JSON")
    func values() throws {
        let values: [PropertyValue] = [
            .null, "s", 42, 2.5, true, .date(Date(timeIntervalSince1970: 1_700_000_000)),
            .duration(.seconds(90) + .milliseconds(5)), .uuid(UUID()), .double(.infinity), .double(-.infinity),
        ]
        let data = try JSONEncoder().encode(values)
        #expect(try JSONDecoder().decode([PropertyValue].self, from: data) == values)
        let nan = try JSONDecoder().decode(PropertyValue.self, from: JSONEncoder().encode(PropertyValue.double(.nan)))
        if case .double(let value) = nan {
            #expect(value.isNaN)
        } else {
            Issue.record("NaN decoded as \(nan)")
        }
    }

    @Test("SQL filters compare and hash by text and parameters")
    func sqlEquality() throws {
        #expect(try SQLFilter("a = 1") == SQLFilter("a = 1"))
        #expect(try SQLFilter("a = 1") != SQLFilter("a=1"))
        #expect(try Set([SQLFilter("a = 1"), SQLFilter("a = 1")]).count == 1)
        #expect(try SQLFilter("a = 1").description == "a = 1")
    }
}

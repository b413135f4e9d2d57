import ConduitBus
import Foundation
import Testing

@Suite("SQL rule actions")
struct SQLRuleActionTests {
    @Test("The documentation's example: halve, remove, set a system property")
    func documentedExample() throws {
        let action = try SQLRuleAction("SET quantity = quantity / 2; REMOVE priority;SET sys.CorrelationId = 'low';")
        var order = message(["quantity": 10, "priority": "high", "color": "red"])
        try action.apply(to: &order)
        #expect(order.userProperties == ["quantity": 5, "color": "red"])
        #expect(order[system: .correlationId] == "low")
    }

    @Test("SET creates a property and SET sys.Label sets the subject")
    func setNew() throws {
        let result = try SQLRuleAction("SET source = 'routedOrders'; SET sys.Label = 'x'").applied(to: message())
        #expect(result.userProperties == ["source": "routedOrders"])
        #expect(result[system: .label] == "x")
    }

    @Test("Semicolons are optional and may repeat; keywords ignore case")
    func separators() throws {
        let result = try SQLRuleAction(";; set a = 1 SET b = 2;;remove a;").applied(to: message())
        #expect(result.userProperties == ["b": 2])
    }

    @Test("Statements run in order and see earlier changes")
    func sequential() throws {
        let result = try SQLRuleAction("SET a = 1; SET b = a + 1; SET a = b * 10").applied(to: message())
        #expect(result.userProperties == ["a": 20, "b": 2])
    }

    @Test("SET keeps an existing name's spelling and widens an integer into a double property")
    func setExisting() throws {
        let result = try SQLRuleAction("SET PRICE = 3; SET Count = 2.5").applied(
            to: message(["price": 1.5, "count": 1])
        )
        #expect(result.userProperties == ["price": .double(3), "count": .double(2.5)])
    }

    @Test("SET from a missing property stores null, and REMOVE of a missing one is fine")
    func unknownValues() throws {
        let result = try SQLRuleAction("SET a = missing + 1; REMOVE alsoMissing").applied(to: message())
        #expect(result.userProperties == ["a": .null])
    }

    @Test("REMOVE removes every spelling of a user property")
    func removeAllSpellings() throws {
        let result = try SQLRuleAction("REMOVE color").applied(to: message(["color": 1, "COLOR": 2, "other": 3]))
        #expect(result.userProperties == ["other": 3])
    }

    @Test("Settable system properties: set, remove, and null unsets")
    func systemProperties() throws {
        let action = try SQLRuleAction(
            "SET sys.To = 'q2'; SET sys.Subject = sys.Label + '!'; REMOVE sys.SessionId; SET sys.ReplyTo = NULL;"
                + "SET sys.TimeToLive = sys.TimeToLive + sys.TimeToLive"
        )
        let start = message(
            system: [.label: "hi", .sessionId: "s", .replyTo: "r", .timeToLive: .duration(.seconds(30))]
        )
        let result = try action.applied(to: start)
        #expect(
            result.systemProperties == [.to: "q2", .label: "hi!", .timeToLive: .duration(.seconds(60))]
        )
    }

    @Test("A system property needs a value of its type; the message is left unchanged")
    func systemTypeMismatch() throws {
        let action = try SQLRuleAction("SET a = 1; SET sys.Label = 5")
        var sample = message(["b": 2])
        var caught: FilterError?
        do throws(FilterError) {
            try action.apply(to: &sample)
        } catch {
            caught = error
        }
        #expect(caught?.message == "Cannot set system property 'Label' to int64 at offset 25.")
        #expect(sample == message(["b": 2]))
    }

    @Test(
        "Read-only system properties cannot be set or removed",
        arguments: SystemProperty.allCases.filter { !$0.isSettable }
    )
    func readOnly(property: SystemProperty) {
        let error = actionError("SET sys.\(property.name) = 1")
        #expect(error?.message == "System property '\(property.name)' at offset 4 is read-only.")
        #expect(error?.kind == .readOnlyProperty)
        #expect(actionError("REMOVE sys.\(property.name)")?.kind == .readOnlyProperty)
    }

    @Test(
        "Malformed actions",
        arguments: [
            ("", "Expected SET or REMOVE at offset 0 but found end of input."),
            ("a = 1", "Expected SET or REMOVE at offset 0 but found 'a'."),
            ("SET a 1", "Expected '=' at offset 6 but found '1'."),
            ("SET a = 1 b", "Expected ';' or end of input at offset 10 but found 'b'."),
            ("SET a = b = c", "Expected ';' or end of input at offset 10 but found '='."),
            ("SET a = (1 = 1)", "Expected a value at offset 8 but found a condition starting with '('."),
            ("REMOVE 5", "Expected a property name at offset 7 but found '5'."),
            ("SET sys.Nope = 1", "Unknown system property 'Nope' at offset 8."),
        ]
    )
    func malformed(expression: String, expected: String) {
        #expect(actionError(expression)?.message == expected)
    }

    @Test("An action codes as its text and parameters")
    func coding() throws {
        let action = try SQLRuleAction("SET a = @value", parameters: ["@value": 7])
        let data = try JSONEncoder().encode(action)
        let decoded = try JSONDecoder().decode(SQLRuleAction.self, from: data)
        #expect(decoded == action)
        #expect(try decoded.applied(to: message()).userProperties == ["a": 7])
        #expect(decoded.description == "SET a = @value")
    }
}

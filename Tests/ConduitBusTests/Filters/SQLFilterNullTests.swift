import ConduitBus
import Testing

@Suite("NULL, missing properties and three-valued logic")
struct SQLFilterNullTests {
    let sample = message(["present": 1, "empty": .null, "color": "red"])

    @Test("A missing user property is unknown, not an error")
    func missingIsUnknown() throws {
        #expect(try evaluate("missing = 1", on: sample) == nil)
        #expect(try evaluate("missing <> 1", on: sample) == nil)
        #expect(try evaluate("missing + 1 > 0", on: sample) == nil)
        #expect(try evaluate("-missing = 1", on: sample) == nil)
        #expect(try !matches("missing = 1", sample))
        #expect(try !matches("missing <> 1", sample))
    }

    @Test("NOT of unknown is unknown")
    func notUnknown() throws {
        #expect(try evaluate("NOT missing = 1", on: sample) == nil)
        #expect(try !matches("NOT missing = 1", sample))
    }

    @Test(
        "AND follows the documented truth table",
        arguments: [
            ("1=1", "1=1", true as Bool?), ("1=1", "1=0", false), ("1=1", "missing=1", nil),
            ("1=0", "1=1", false), ("1=0", "1=0", false), ("1=0", "missing=1", false),
            ("missing=1", "1=1", nil), ("missing=1", "1=0", false), ("missing=1", "missing=1", nil),
        ]
    )
    func andTable(left: String, right: String, expected: Bool?) throws {
        #expect(try evaluate("\(left) AND \(right)", on: sample) == expected)
    }

    @Test(
        "OR follows the documented truth table",
        arguments: [
            ("1=1", "1=1", true as Bool?), ("1=1", "1=0", true), ("1=1", "missing=1", true),
            ("1=0", "1=1", true), ("1=0", "1=0", false), ("1=0", "missing=1", nil),
            ("missing=1", "1=1", true), ("missing=1", "1=0", nil), ("missing=1", "missing=1", nil),
        ]
    )
    func orTable(left: String, right: String, expected: Bool?) throws {
        #expect(try evaluate("\(left) OR \(right)", on: sample) == expected)
    }

    @Test("IS NULL is true for a missing property and for a null value")
    func isNull() throws {
        #expect(try matches("missing IS NULL", sample))
        #expect(try matches("empty IS NULL", sample))
        #expect(try !matches("present IS NULL", sample))
        #expect(try matches("present IS NOT NULL", sample))
        #expect(try !matches("empty IS NOT NULL", sample))
        #expect(try matches("missing + 1 IS NULL", sample))
        #expect(try matches("NULL IS NULL"))
    }

    @Test("EXISTS is true for a present property, even a null one")
    func exists() throws {
        #expect(try matches("EXISTS(present)", sample))
        #expect(try matches("EXISTS (empty)", sample))
        #expect(try !matches("EXISTS(missing)", sample))
        #expect(try matches("NOT EXISTS(missing)", sample))
        #expect(try matches("EXISTS([COLOR])", sample))
    }

    @Test("EXISTS on a system property is true when it is set")
    func existsSystem() throws {
        let labelled = message(system: [.label: "x"])
        #expect(try matches("EXISTS(sys.Label)", labelled))
        #expect(try !matches("EXISTS(sys.CorrelationId)", labelled))
    }

    @Test("An unset system property is null, not an error")
    func unsetSystemProperty() throws {
        #expect(try matches("sys.CorrelationId IS NULL"))
        #expect(try evaluate("sys.CorrelationId = 'x'") == nil)
    }

    @Test("A comparison with the NULL constant is unknown")
    func nullConstant() throws {
        #expect(try evaluate("present = NULL", on: sample) == nil)
        #expect(try evaluate("NULL = NULL") == nil)
    }

    @Test("IN: unknown for a null operand, and for no match with a null item")
    func inWithNull() throws {
        #expect(try evaluate("missing IN (1, 2)", on: sample) == nil)
        #expect(try evaluate("missing NOT IN (1, 2)", on: sample) == nil)
        #expect(try evaluate("present IN (1, NULL)", on: sample) == true)
        #expect(try evaluate("present IN (2, NULL)", on: sample) == nil)
        #expect(try evaluate("present NOT IN (2, NULL)", on: sample) == nil)
        #expect(try evaluate("present NOT IN (2, 3)", on: sample) == true)
    }

    @Test("LIKE with any unknown operand is unknown")
    func likeWithNull() throws {
        #expect(try evaluate("missing LIKE '%'", on: sample) == nil)
        #expect(try evaluate("color LIKE missing", on: sample) == nil)
        #expect(try evaluate("color LIKE 'r%' ESCAPE missing", on: sample) == nil)
        #expect(try evaluate("missing NOT LIKE '%'", on: sample) == nil)
    }
}

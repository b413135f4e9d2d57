import ConduitBus
import Testing

@Suite("LIKE patterns")
struct SQLFilterLikeTests {
    @Test(
        "% matches any run, _ exactly one character",
        arguments: [
            ("'bus' LIKE 'bus'", true), ("'bus' LIKE 'bu'", false), ("'service bus' LIKE '%bus%'", true),
            ("'bus' LIKE '%bus%'", true), ("'omnibus stop' LIKE '%bus%'", true), ("'train' LIKE '%bus%'", false),
            ("'abc' LIKE 'a_c'", true), ("'abbc' LIKE 'a_c'", false), ("'ac' LIKE 'a_c'", false),
            ("'abc' LIKE '___'", true), ("'abc' LIKE '__'", false), ("'' LIKE '%'", true), ("'' LIKE '_'", false),
            ("'abc' LIKE 'a%'", true), ("'abc' LIKE '%c'", true), ("'abc' LIKE '%b'", false),
            ("'aXbXc' LIKE 'a%b%c'", true), ("'abcabd' LIKE '%abd'", true), ("'a%c' LIKE 'a%%c'", true),
        ]
    )
    func wildcards(expression: String, expected: Bool) throws {
        #expect(try matches(expression) == expected)
    }

    @Test("LIKE is case-sensitive")
    func caseSensitive() throws {
        #expect(try !matches("'Bus' LIKE 'bus'"))
    }

    @Test("ESCAPE makes %, _ and itself literal")
    func escape() throws {
        #expect(try matches("'ABC%' LIKE 'ABC\\%' ESCAPE '\\'"))
        #expect(try !matches("'ABCD' LIKE 'ABC\\%' ESCAPE '\\'"))
        #expect(try matches("'a_c' LIKE 'a!_c' ESCAPE '!'"))
        #expect(try !matches("'abc' LIKE 'a!_c' ESCAPE '!'"))
        #expect(try matches("'a!c' LIKE 'a!!c' ESCAPE '!'"))
        #expect(try matches("'100%' LIKE '%#%' ESCAPE '#'"))
    }

    @Test("Without ESCAPE a backslash is an ordinary character")
    func noEscape() throws {
        #expect(try matches("'a\\bc' LIKE 'a\\%'"))
    }

    @Test("NOT LIKE negates")
    func notLike() throws {
        #expect(try matches("'train' NOT LIKE '%bus%'"))
        #expect(try !matches("'bus' NOT LIKE 'b%'"))
    }

    @Test("Pattern and escape may be expressions")
    func expressions() throws {
        let patterned = message(["name": "order-17", "prefix": "order"])
        #expect(try matches("name LIKE prefix + '-%'", patterned))
        #expect(try matches("name LIKE p('prefix') + '-1_'", patterned))
    }

    @Test("LIKE on system properties, as in the documentation's example")
    func systemProperty() throws {
        #expect(try matches("sys.Label LIKE '%bus%'", message(system: [.label: "my bus label"])))
        #expect(try matches("sys.correlationid like 'abc-%'", message(system: [.correlationId: "abc-1"])))
    }

    @Test("A pathological pattern stays fast")
    func pathological() throws {
        let text = String(repeating: "a", count: 2_000)
        let pattern = String(repeating: "%a", count: 50) + "%b"
        #expect(try !matches("name LIKE '\(pattern)'", message(["name": .string(text)])))
    }
}

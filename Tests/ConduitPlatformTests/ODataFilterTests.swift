import ConduitPlatform
import Testing

/// The `$filter` grammar: operators, precedence, functions, literals and parameter aliases.
@Suite("OData $filter")
struct ODataFilterTests {
    typealias Support = ODataTestSupport

    static let a = Support.compare("a", .eq, .integer(1))
    static let b = Support.compare("b", .eq, .integer(2))
    static let c = Support.compare("c", .eq, .integer(3))
    static let d = Support.compare("d", .eq, .integer(4))

    @Test("every comparison operator", arguments: ODataComparison.allCases)
    func comparison(comparison: ODataComparison) throws {
        #expect(
            try Support.filter("revenue \(comparison.rawValue) 100000")
                == Support.compare("revenue", comparison, .integer(100000))
        )
    }

    @Test("a value on the left is moved to the right, the operator mirrored", arguments: ODataComparison.allCases)
    func literalOnTheLeft(comparison: ODataComparison) throws {
        #expect(
            try Support.filter("5 \(comparison.rawValue) revenue")
                == Support.compare("revenue", comparison.mirrored, .integer(5))
        )
    }

    @Test("mirrored operators")
    func mirrored() throws {
        #expect(try Support.filter("5 lt revenue") == Support.compare("revenue", .gt, .integer(5)))
        #expect(try Support.filter("5 le revenue") == Support.compare("revenue", .ge, .integer(5)))
        #expect(try Support.filter("'x' ne name") == Support.compare("name", .ne, .string("x")))
        #expect(try Support.filter("null eq name") == Support.compare("name", .eq, .null))
    }

    @Test("and binds tighter than or; not tighter than and")
    func precedence() throws {
        #expect(try Support.filter("a eq 1 or b eq 2 and c eq 3") == .or(Self.a, .and(Self.b, Self.c)))
        #expect(try Support.filter("a eq 1 and b eq 2 or c eq 3") == .or(.and(Self.a, Self.b), Self.c))
        #expect(try Support.filter("(a eq 1 or b eq 2) and c eq 3") == .and(.or(Self.a, Self.b), Self.c))
        #expect(try Support.filter("a eq 1 and (b eq 2 or c eq 3)") == .and(Self.a, .or(Self.b, Self.c)))
        #expect(try Support.filter("not (a eq 1) and b eq 2") == .and(.not(Self.a), Self.b))
        #expect(try Support.filter("not (a eq 1 or b eq 2)") == .not(.or(Self.a, Self.b)))
        let contains = ODataFilter.function(.contains, property: "name", "x")
        #expect(try Support.filter("not contains(name,'x') or a eq 1") == .or(.not(contains), Self.a))
        #expect(try Support.filter("not not contains(name,'x')") == .not(.not(contains)))
    }

    @Test("chains of one operator group to the left, balanced")
    func chains() throws {
        #expect(try Support.filter("a eq 1 and b eq 2 and c eq 3") == .and(.and(Self.a, Self.b), Self.c))
        #expect(try Support.filter("a eq 1 or b eq 2 or c eq 3") == .or(.or(Self.a, Self.b), Self.c))
        #expect(
            try Support.filter("a eq 1 and b eq 2 and c eq 3 and d eq 4")
                == .and(.and(Self.a, Self.b), .and(Self.c, Self.d))
        )
        #expect(try Support.filter("((a eq 1))") == Self.a)
    }

    @Test("whitespace: runs of spaces and tabs; parentheses may touch and, or and not")
    func whitespace() throws {
        #expect(try Support.filter("   a   eq\t1   ") == Self.a)
        #expect(try Support.filter("( a eq 1 )") == Self.a)
        #expect(try Support.filter("(a eq 1)and(b eq 2)") == .and(Self.a, Self.b))
        #expect(try Support.filter("(a eq 1)or(b eq 2)") == .or(Self.a, Self.b))
        #expect(try Support.filter("not(a eq 1)") == .not(Self.a))
        #expect(try Support.parse("$filter=a%09eq%091").filter == Self.a)
    }

    @Test("string functions", arguments: ODataStringFunction.allCases)
    func functions(function: ODataStringFunction) throws {
        let expected = ODataFilter.function(function, property: "name", "abc")
        #expect(try Support.filter("\(function.rawValue)(name,'abc')") == expected)
        #expect(try Support.filter("\(function.rawValue)( name , 'abc' )") == expected)
        #expect(try Support.filter("not \(function.rawValue)(name,'abc')") == .not(expected))
        #expect(try Support.filter("\(function.rawValue)(name,'')") == .function(function, property: "name", ""))
    }

    @Test("null")
    func null() throws {
        #expect(try Support.filter("name eq null") == Support.compare("name", .eq, .null))
        #expect(try Support.filter("name ne null") == Support.compare("name", .ne, .null))
    }

    @Test(
        "literals",
        arguments: [
            ("'abc'", ODataLiteral.string("abc")),
            ("'O''Neil'", .string("O'Neil")),
            ("''''", .string("'")),
            ("''", .string("")),
            ("'(sample)'", .string("(sample)")),
            ("'a and b eq c'", .string("a and b eq c")),
            ("'Zoë & Co; 100%'", .string("Zoë & Co; 100%")),
            ("0", .integer(0)),
            ("-7", .integer(-7)),
            ("+7", .integer(7)),
            ("007", .integer(7)),
            ("9223372036854775807", .integer(Int64.max)),
            ("-9223372036854775808", .integer(Int64.min)),
            ("9223372036854775808", .decimal("9223372036854775808")),
            ("12.50", .decimal("12.50")),
            ("-3.5", .decimal("-3.5")),
            ("+5.0", .decimal("+5.0")),
            ("1e3", .decimal("1e3")),
            ("1.5E+2", .decimal("1.5E+2")),
            ("2.5e-3", .decimal("2.5e-3")),
            ("true", .boolean(true)),
            ("false", .boolean(false)),
            ("null", .null),
            ("5B2D6A1C-0000-ABCD-1234-00000000000A", .guid("5b2d6a1c-0000-abcd-1234-00000000000a")),
            ("abcdef01-2345-6789-abcd-ef0123456789", .guid("abcdef01-2345-6789-abcd-ef0123456789")),
            ("2024-01-31", .date("2024-01-31")),
            ("2024-02-29", .date("2024-02-29")),
            ("2000-02-29", .date("2000-02-29")),
            ("2024-01-31T10:00:00Z", .dateTime("2024-01-31T10:00:00Z")),
            ("2024-01-31T10:00Z", .dateTime("2024-01-31T10:00Z")),
            ("2024-01-31T23:59:59.1234567Z", .dateTime("2024-01-31T23:59:59.1234567Z")),
            ("2024-01-31T10:00:00+01:00", .dateTime("2024-01-31T10:00:00+01:00")),
            ("2024-01-31T10:00:00-05:30", .dateTime("2024-01-31T10:00:00-05:30")),
            ("2024-01-31t10:00:00z", .dateTime("2024-01-31T10:00:00Z")),
            ("0001-01-01T00:00:00.000000000001Z", .dateTime("0001-01-01T00:00:00.000000000001Z")),
        ]
    )
    func literal(text: String, value: ODataLiteral) throws {
        #expect(try Support.filter("x eq \(text)") == Support.compare("x", .eq, value))
        #expect(try Support.filter("\(text) eq x") == Support.compare("x", .eq, value))
    }

    @Test("a guid compared with a lookup column, as Dataverse writes it")
    func lookup() throws {
        #expect(
            try Support.parse("$filter=_parentcustomerid_value%20eq%2049b0be2e-d01c-ed11-b83e-000d3a572421").filter
                == Support.compare("_parentcustomerid_value", .eq, .guid("49b0be2e-d01c-ed11-b83e-000d3a572421"))
        )
    }

    @Test("an offset's '+' must be encoded as %2B")
    func encodedOffset() throws {
        #expect(
            try Support.parse("$filter=createdon%20gt%202024-01-31T10:00:00%2B01:00").filter
                == Support.compare("createdon", .gt, .dateTime("2024-01-31T10:00:00+01:00"))
        )
    }

    @Test("parameter aliases stand for values and columns")
    func aliases() throws {
        #expect(try Support.filter("name eq @p1", "&@p1='x'") == Support.compare("name", .eq, .string("x")))
        #expect(try Support.filter("revenue gt @p1", "&@p1=5") == Support.compare("revenue", .gt, .integer(5)))
        #expect(try Support.filter("@p1 gt 5", "&@p1=revenue") == Support.compare("revenue", .gt, .integer(5)))
        #expect(try Support.filter("@p1 lt revenue", "&@p1=5") == Support.compare("revenue", .gt, .integer(5)))
        #expect(
            try Support.filter("@p1 eq @p2", "&@p2=%20'a'%20&@p1=name") == Support.compare("name", .eq, .string("a"))
        )
        #expect(
            try Support.filter("contains(@col,@text)", "&@col=name&@text='O''Neil'")
                == .function(.contains, property: "name", "O'Neil")
        )
        #expect(try Support.filter("name eq @p1", "&%40p1=%27x%27") == Support.compare("name", .eq, .string("x")))
        #expect(try Support.filter("name eq @unset") == Support.compare("name", .eq, .null))
        #expect(try Support.filter("a eq 1", "&@unused=[1,2]") == Self.a)
    }

    @Test(
        "descriptions are OData text",
        arguments: [
            ("name eq 'O''Neil'", "name eq 'O''Neil'"),
            ("5 lt revenue", "revenue gt 5"),
            ("a eq 1 and b eq 2 or c eq 3", "(a eq 1 and b eq 2) or c eq 3"),
            ("a eq 1 and b eq 2 and c eq 3", "(a eq 1 and b eq 2) and c eq 3"),
            ("not contains(name,'x')", "not contains(name,'x')"),
            ("not (a eq 1)", "not (a eq 1)"),
            ("startswith(name,'it''s')", "startswith(name,'it''s')"),
            ("x eq 2024-01-31T10:00:00Z or x eq null", "x eq 2024-01-31T10:00:00Z or x eq null"),
            ("x eq 1.5E+2", "x eq 1.5E+2"),
        ]
    )
    func description(text: String, expected: String) throws {
        let filter = try #require(try Support.filter(text))
        #expect(filter.description == expected)
        #expect(try Support.filter(filter.description) == filter)
    }

    @Test("a long chain of terms stays a shallow tree")
    func longChain() throws {
        let terms = (0..<1000).map { "a eq \($0)" }
        let filter = try #require(try Support.filter(terms.joined(separator: " or ")))
        #expect(Self.depth(filter) == 11)
        #expect(try Support.filter(filter.description) == filter)
    }

    static func depth(_ filter: ODataFilter) -> Int {
        switch filter {
        case .and(let left, let right), .or(let left, let right): 1 + max(depth(left), depth(right))
        case .not(let inner): 1 + depth(inner)
        case .compare, .function: 1
        }
    }
}

import ConduitPlatform
import Testing

/// Malformed `$filter` values and parameter aliases, each with its exact error. Positions count characters of the
/// decoded value.
@Suite("OData $filter errors")
struct ODataFilterErrorTests {
    static let cases: [ODataErrorCase] = [
        .filter("", 0, "expected an expression"),
        .filter("%20%20", 2, "expected an expression"),
        .filter("statecode eq", 12, "expected a value after 'eq'"),
        .filter("statecode%20eq%20", 13, "expected a value after 'eq'"),
        .filter("name eq #", 8, "expected a value after 'eq'"),
        .filter("name eq )", 8, "expected a value after 'eq'"),
        .filter("#", 0, "expected an expression"),
        .filter("()", 1, "expected an expression"),
        .filter("name", 4, "expected an operator (eq, ne, gt, ge, lt, le) after 'name'"),
        .filter("name foo 'a'", 5, "expected an operator (eq, ne, gt, ge, lt, le) after 'name'"),
        .filter("'a' = name", 4, "expected an operator (eq, ne, gt, ge, lt, le) after ''a''"),
        .filter("name EQ 'a'", 5, "'EQ' must be lowercase ('eq')"),
        .filter("name eq 'a' AND b eq 1", 12, "'AND' must be lowercase ('and')"),
        .filter("(name eq 'a' Or b eq 1)", 13, "'Or' must be lowercase ('or')"),
        .filter("name eq True", 8, "'True' must be lowercase ('true')"),
        .filter("name eq NULL", 8, "'NULL' must be lowercase ('null')"),
        .filter("NOT contains(name,'a')", 0, "'NOT' must be lowercase ('not')"),
        .filter("Contains(name,'a')", 0, "'Contains' must be lowercase ('contains')"),
        .filter(
            "name eq 'O'Bryan'",
            11,
            "unexpected character 'B' after a string (a quote inside a string is written '')"
        ),
        .filter("name eq 'abc", 8, "unterminated string starting"),
        .filter("name eq '", 8, "unterminated string starting"),
        .filter("(name eq 'a'", 12, "expected 'and', 'or' or ')'"),
        .filter("(name eq 'a' x", 13, "expected 'and', 'or' or ')'"),
        .filter("name eq 'a')", 11, "unexpected ')'"),
        .filter("name eq 'a' or", 14, "expected an expression after 'or'"),
        .filter("name eq 'a' and ", 16, "expected an expression after 'and'"),
        .filter("name eq 'a' and )", 16, "expected an expression after 'and'"),
        .filter("name eq 'a'and b eq 1", 11, "expected a space before 'and'"),
        .filter("a eq 1 andb eq 1", 7, "expected 'and', 'or' or the end of the expression"),
        .filter("a eq 1 and'x' eq b", 10, "expected a space after 'and'"),
        .filter("a eq 1 eq 2", 7, "expected 'and', 'or' or the end of the expression"),
        .filter("a eq 'x' #", 9, "expected 'and', 'or' or the end of the expression"),
        .filter("a eq'x'", 4, "expected a space after 'eq'"),
        .filter("'x'eq a", 3, "expected a space before 'eq'"),
        .filter("name eq 'a'b", 11, "unexpected character 'b' after a string (a quote inside a string is written '')"),
        .filter("a eq 1 and not a eq 1", 15, "expected '(' or a function call after 'not'"),
        .filter("not name eq 'a'", 4, "expected '(' or a function call after 'not'"),
        .filter("not", 3, "expected an expression after 'not'"),
        .filter("not ", 4, "expected an expression after 'not'"),
        .filter("tolower(name) eq 'a'", 0, "function 'tolower' is not supported yet"),
        .filter("name eq toupper('a')", 8, "function 'toupper' is not supported yet"),
        .filter("foo(name)", 0, "unknown function 'foo'"),
        .filter("contains (name,'a')", 8, "no space is allowed between 'contains' and '('"),
        .filter("a eq INF", 5, "'INF' is not supported"),
        .filter("a eq true'x'", 9, "unexpected character '''"),
        .filter("a eq null.x", 9, "unexpected character '.'"),
        .filter("NaN lt a", 0, "'NaN' is not supported"),
        .filter("a eq -INF", 5, "invalid number '-INF'"),
        .filter("a eq duration'P1D'", 5, "typed literals such as duration'…' are not supported"),
        .filter("$it/name eq 'a'", 0, "expected an expression"),
        .filter("contains(name,'a') eq true", 19, "expected 'and', 'or' or the end of the expression"),
        .filter("x eq contains(name,'a')", 5, "'contains' cannot be compared; use it as a condition of its own"),
        .filter(
            "Microsoft.Dynamics.CRM.Today(PropertyName='createdon')",
            0,
            "Dataverse query function 'Microsoft.Dynamics.CRM.Today' is not supported yet"
        ),
        .filter(
            "not Microsoft.Dynamics.CRM.In(PropertyName='name',PropertyValues=['a'])",
            4,
            "Dataverse query function 'Microsoft.Dynamics.CRM.In' is not supported yet"
        ),
        .filter("name.first eq 1", 0, "qualified name 'name.first' is not supported"),
        .filter("primarycontactid/fullname eq 'x'", 16, "navigation paths ('/') are not supported yet"),
        .filter(
            "contact_customer_accounts/any(o:contains(o/name,'x'))",
            25,
            "navigation paths ('/') are not supported yet"
        ),
        .filter("firstname eq lastname", 0, "comparing two columns is not supported yet"),
        .filter("1 eq 1", 0, "a comparison needs a column on one side"),
        .filter("null eq null", 0, "a comparison needs a column on one side"),
        .filter("revenue in (1,2)", 8, "operator 'in' is not supported yet"),
        .filter("revenue add 5 gt 10", 8, "operator 'add' is not supported yet"),
        .filter("a eq 1 has 2", 7, "operator 'has' is not supported yet"),
        .filter("revenue gt 12abc", 11, "invalid number '12abc'"),
        .filter("revenue gt 1.", 11, "invalid number '1.'"),
        .filter("revenue gt 1e", 11, "invalid number '1e'"),
        .filter("revenue gt -", 11, "invalid number '-'"),
        .filter("revenue gt - 5", 11, "invalid number '-'"),
        .filter("revenue gt 1.5.5", 11, "invalid number '1.5.5'"),
        .filter("revenue gt .5", 11, "expected a value after 'gt'"),
        .filter("d eq 2024-02-30", 5, "invalid date '2024-02-30'"),
        .filter("d eq 2023-02-29", 5, "invalid date '2023-02-29'"),
        .filter("d eq 2024-13-01", 5, "invalid date '2024-13-01'"),
        .filter("d eq 2024-1-1", 5, "invalid date '2024-1-1'"),
        .filter("d eq 2024-01-31x", 5, "invalid date '2024-01-31x'"),
        .filter("d eq 2024-01-31T25:00:00Z", 5, "invalid date-time '2024-01-31T25:00:00Z'"),
        .filter("d eq 2024-01-31T10:60Z", 5, "invalid date-time '2024-01-31T10:60Z'"),
        .filter("d eq 2024-01-31T10:00:00.Z", 5, "invalid date-time '2024-01-31T10:00:00.Z'"),
        .filter("d eq 2024-01-31T10:00:00%2B1:00", 5, "invalid date-time '2024-01-31T10:00:00+1:00'"),
        .filter("d eq 2024-01-31T10:00:00.1234567890123Z", 5, "invalid date-time '2024-01-31T10:00:00.1234567890123Z'"),
        .filter("d eq 2024-01-31T10:00:00Zx", 5, "invalid date-time '2024-01-31T10:00:00Zx'"),
        .filter(
            "d eq 2024-01-31T10:00:00",
            5,
            "the date-time '2024-01-31T10:00:00' needs a time zone: 'Z' or an offset (write '+' as %2B)"
        ),
        .filter(
            "d eq 2024-01-31T10:00:00+01:00",
            5,
            "the date-time '2024-01-31T10:00:00' needs a time zone: 'Z' or an offset (write '+' as %2B)"
        ),
        .filter(
            "id eq 5b2d6a1c-0000-abcd-1234-00000000000ax",
            6,
            "invalid guid '5b2d6a1c-0000-abcd-1234-00000000000ax'"
        ),
        .filter("id eq 5b2d6a1c-0000-abcd-1234", 6, "invalid number '5b2d6a1c-0000-abcd-1234'"),
        .filter("contains(name)", 13, "expected ',' after the first argument of 'contains'"),
        .filter("contains('abc',name)", 9, "expected a column name as the first argument of 'contains'"),
        .filter("startswith(,'a')", 11, "expected a column name as the first argument of 'startswith'"),
        .filter("endswith(name,5)", 14, "expected a string as the second argument of 'endswith'"),
        .filter("contains(name,null)", 14, "expected a string as the second argument of 'contains'"),
        .filter("contains(name,)", 14, "expected a string as the second argument of 'contains'"),
        .filter("contains(name,@p1)", 14, "expected a string as the second argument of 'contains'"),
        .filter("contains(name,@p1)&@p1=5", 14, "expected a string as the second argument of 'contains'"),
        .filter("contains(name,'a'", 17, "expected ')' to close 'contains('"),
        .filter("contains(name,'a',1)", 17, "expected ')' to close 'contains('"),
        .filter("name eq nämé", 9, "unexpected character U+00E4"),
        .filter("name eq @", 9, "expected a parameter alias name after '@'"),
        .filter("name eq @p1'x'", 11, "unexpected character '''"),
        .filter("contains(@p1,'a')", 9, "parameter alias '@p1' has no value"),
        .filter("contains(@p1,'a')&@p1='x'", 9, "parameter alias '@p1' must name a column"),
        ODataErrorCase("$filter=name eq @p1&@p1=", "@p1", 0, "@p1: expected a value at position 0"),
        ODataErrorCase(
            "$filter=name eq @p1&@p1=@p2&@p2=1",
            "@p1",
            0,
            "@p1: a parameter alias cannot refer to another alias at position 0"
        ),
        ODataErrorCase(
            "$filter=name eq @p1&@p1=['a']",
            "@p1",
            0,
            "@p1: arrays and objects are not supported yet at position 0"
        ),
        ODataErrorCase("$filter=name eq @p1&@p1='a' x", "@p1", 4, "@p1: unexpected 'x' after the value at position 4"),
        ODataErrorCase("$filter=name eq @p1&@p1=nope(", "@p1", 0, "@p1: unknown function 'nope' at position 0"),
    ]

    @Test("$filter errors", arguments: cases)
    func filter(_ expected: ODataErrorCase) { expected.check() }
}

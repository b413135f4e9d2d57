import ConduitPlatform
import Testing

/// Malformed query strings, `$select` and `$orderby` values, each with its exact error.
@Suite("OData query errors")
struct ODataQueryErrorTests {
    static let queryCases: [ODataErrorCase] = [
        .query("$foo=1", "$foo", "unknown query option '$foo'"),
        .query("$=1", "$", "unknown query option '$'"),
        .query("$Top=1", "$Top", "unknown query option '$Top' (query option names are lowercase: '$top')"),
        .query(
            "$FILTER=a%20eq%201",
            "$FILTER",
            "unknown query option '$FILTER' (query option names are lowercase: '$filter')"
        ),
        .query("$skip=10", "$skip", "query option '$skip' is not supported"),
        .query("$search=x", "$search", "query option '$search' is not supported"),
        .query("$top=1&$top=2", "$top", "query option '$top' is given more than once"),
        .query(
            "$filter=a%20eq%201&$top=1&%24filter=a%20eq%201",
            "$filter",
            "query option '$filter' is given more than once"
        ),
        .query("@p1=1&@p1=2", "@p1", "parameter alias '@p1' is given more than once"),
        .query("@1=2", "@1", "invalid parameter alias name '@1'"),
        .query("@=2", "@", "invalid parameter alias name '@'"),
        .query("@p-1=2", "@p-1", "invalid parameter alias name '@p-1'"),
        .query("=5", "", "a query option has no name: '=5'"),
        .query("$top=5001", "$top", "$top must be an integer from 0 to 5000"),
        .query("$top=-1", "$top", "$top must be an integer from 0 to 5000"),
        .query("$top=", "$top", "$top must be an integer from 0 to 5000"),
        .query("$top", "$top", "$top must be an integer from 0 to 5000"),
        .query("$top=1.5", "$top", "$top must be an integer from 0 to 5000"),
        .query("$top=%2B5", "$top", "$top must be an integer from 0 to 5000"),
        .query("$top=99999999999999999999999", "$top", "$top must be an integer from 0 to 5000"),
        .query("$top=٣", "$top", "$top must be an integer from 0 to 5000"),
        .query("$count=yes", "$count", "$count must be true or false"),
        .query("$count=True", "$count", "$count must be true or false"),
        .query("$count=", "$count", "$count must be true or false"),
        .query("$skiptoken=", "$skiptoken", "$skiptoken must not be empty"),
        .query("$expand=", "$expand", "$expand must not be empty"),
        .query("$apply", "$apply", "$apply must not be empty"),
    ]

    /// Malformed percent-encoding: positions count characters of the raw, still-encoded value.
    static let decodingCases: [ODataErrorCase] = [
        ODataErrorCase("$filter=name%2", "$filter", 4, "$filter: malformed percent-encoding '%2' at position 4"),
        ODataErrorCase("$filter=%ZZname", "$filter", 0, "$filter: malformed percent-encoding '%ZZ' at position 0"),
        ODataErrorCase("$filter=a%20eq%20%", "$filter", 9, "$filter: malformed percent-encoding '%' at position 9"),
        ODataErrorCase(
            "$filter=%C3%28",
            "$filter",
            0,
            "$filter: the percent-encoded bytes at position 0 are not UTF-8"
        ),
        ODataErrorCase(
            "$filter=x%20eq%20'%FF'",
            "$filter",
            10,
            "$filter: the percent-encoded bytes at position 10 are not UTF-8"
        ),
        ODataErrorCase("%2=1", "%2", 0, "query option name: malformed percent-encoding '%2' at position 0"),
        ODataErrorCase("%24top=%G0", "$top", 0, "$top: malformed percent-encoding '%G0' at position 0"),
    ]

    static let listCases: [ODataErrorCase] = [
        .option("$select", "", 0, "expected a column name"),
        .option("$select", "name,", 5, "expected a column name"),
        .option("$select", "name,,fullname", 5, "expected a column name"),
        .option("$select", "*", 0, "'*' is not supported; leave out $select to get all columns"),
        .option("$select", "name;fullname", 4, "expected ',' or the end"),
        .option("$select", "name fullname", 5, "expected ',' or the end"),
        .option("$select", "1name", 0, "expected a column name"),
        .option("$select", "primarycontactid/fullname", 16, "navigation paths ('/') are not supported yet"),
        ODataErrorCase(
            "$select=" + String(repeating: "n", count: 129),
            "$select",
            0,
            "$select: the name '" + String(repeating: "n", count: 40) + "…' is longer than 128 characters at position 0"
        ),
        .option("$orderby", "", 0, "expected a column name"),
        .option("$orderby", "name,", 5, "expected a column name"),
        .option("$orderby", "name DESC", 5, "'DESC' must be lowercase ('desc')"),
        .option("$orderby", "name descending", 5, "expected 'asc', 'desc', ',' or the end"),
        .option("$orderby", "name;", 4, "expected 'asc', 'desc', ',' or the end"),
        .option("$orderby", "name desc desc", 10, "expected ',' or the end"),
        .option("$orderby", "@p2 asc", 0, "parameter alias '@p2' has no value"),
        .option("$orderby", "@p2&@p2='x'", 0, "parameter alias '@p2' must name a column"),
        .option("$orderby", "'name'", 0, "expected a column name"),
    ]

    @Test("query string errors", arguments: queryCases)
    func query(_ expected: ODataErrorCase) { expected.check() }

    @Test("percent-decoding errors", arguments: decodingCases)
    func decoding(_ expected: ODataErrorCase) { expected.check() }

    @Test("$select and $orderby errors", arguments: listCases)
    func lists(_ expected: ODataErrorCase) { expected.check() }
}

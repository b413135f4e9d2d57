import ConduitPlatform
import Testing

/// The query string as a whole: splitting, percent-decoding and the options other than `$filter`.
@Suite("OData query options")
struct ODataQueryOptionsTests {
    typealias Support = ODataTestSupport

    @Test("an empty query string gives the defaults")
    func empty() throws {
        #expect(try Support.parse("") == ODataQueryOptions())
        #expect(try Support.parse("?") == ODataQueryOptions())
        let options = try Support.parse("")
        #expect(options.select == nil)
        #expect(options.filter == nil)
        #expect(options.orderBy.isEmpty)
        #expect(options.top == nil)
        #expect(options.count == false)
    }

    @Test("a Dataverse sample query, as its samples send it")
    func dataverseSample() throws {
        let options = try Support.parse(
            "$select=fullname&$filter=contains(fullname,'(sample)')&$orderby=createdon%20desc&$top=3"
        )
        #expect(
            options
                == ODataQueryOptions(
                    select: ["fullname"],
                    filter: .function(.contains, property: "fullname", "(sample)"),
                    orderBy: [ODataOrder(property: "createdon", descending: true)],
                    top: 3
                )
        )
    }

    @Test("the parameterised-alias sample of the Dataverse Web API query data sample")
    func dataverseAliasSample() throws {
        let options = try Support.parse(
            "$select=fullname,jobtitle,annualincome&$filter=contains(@p1,'(sample)')%20"
                + "&$orderby=@p2%20asc,%20@p3%20desc&@p1=fullname&@p2=jobtitle&@p3=annualincome"
        )
        #expect(options.select == ["fullname", "jobtitle", "annualincome"])
        #expect(options.filter == .function(.contains, property: "fullname", "(sample)"))
        #expect(
            options.orderBy == [
                ODataOrder(property: "jobtitle"), ODataOrder(property: "annualincome", descending: true),
            ]
        )
    }

    @Test("everything percent-encoded, as a browser's address bar sends it")
    func browserEncoded() throws {
        let options = try Support.parse(
            "%24select=name%2Crevenue&%24filter=name%20eq%20%27O%27%27Neil%27%20and%20revenue%20gt%205"
                + "&%24orderby=name&%24count=true"
        )
        #expect(options.select == ["name", "revenue"])
        #expect(
            options.filter
                == .and(
                    Support.compare("name", .eq, .string("O'Neil")),
                    Support.compare("revenue", .gt, .integer(5))
                )
        )
        #expect(options.orderBy == [ODataOrder(property: "name")])
        #expect(options.count)
    }

    @Test("'+' is a space, and '%2B' a plus")
    func plusIsSpace() throws {
        let options = try Support.parse("$filter=name+eq+'a+b'&$orderby=createdon+desc")
        #expect(options.filter == Support.compare("name", .eq, .string("a b")))
        #expect(options.orderBy == [ODataOrder(property: "createdon", descending: true)])
        #expect(try Support.filter("contains(name,'+123')") == .function(.contains, property: "name", "+123"))
    }

    @Test("a leading '?', empty components and custom options")
    func lenientSplitting() throws {
        let options = try Support.parse("?$top=1&&custom=x%ZZ&$count=false&")
        #expect(options == ODataQueryOptions(top: 1, count: false))
    }

    @Test("$select: columns separated by commas, with optional whitespace")
    func select() throws {
        #expect(try Support.parse("$select=name").select == ["name"])
        #expect(
            try Support.parse("$select=name,_parentcustomerid_value,statecode").select == [
                "name", "_parentcustomerid_value", "statecode",
            ]
        )
        #expect(try Support.parse("$select=%20name%20,%20revenue%20").select == ["name", "revenue"])
        #expect(try Support.parse("$select=name%2Crevenue").select == ["name", "revenue"])
        #expect(try Support.parse("$select=name,name").select == ["name", "name"])
    }

    @Test("$orderby: columns with asc or desc")
    func orderBy() throws {
        #expect(
            try Support.parse("$orderby=revenue%20asc,name%20desc").orderBy == [
                ODataOrder(property: "revenue"), ODataOrder(property: "name", descending: true),
            ]
        )
        #expect(try Support.parse("$orderby=name").orderBy == [ODataOrder(property: "name", descending: false)])
        #expect(
            try Support.parse("$orderby=a , b desc ,c").orderBy == [
                ODataOrder(property: "a"), ODataOrder(property: "b", descending: true), ODataOrder(property: "c"),
            ]
        )
        #expect(
            try Support.parse("$orderby=@o%20desc&@o=createdon").orderBy == [
                ODataOrder(property: "createdon", descending: true)
            ]
        )
    }

    @Test("$top from 0 to 5000", arguments: [("0", 0), ("1", 1), ("5000", 5000), ("007", 7), ("0000", 0)])
    func top(text: String, value: Int) throws {
        #expect(try Support.parse("$top=" + text).top == value)
    }

    @Test("$count", arguments: [("true", true), ("false", false)])
    func count(text: String, value: Bool) throws {
        #expect(try Support.parse("$count=" + text).count == value)
    }

    @Test("$skiptoken is decoded and otherwise kept as it is")
    func skipToken() throws {
        let token =
            "%3Ccookie%20pagenumber=%222%22%20pagingcookie=%22%253ccookie%2520page%253d%25221%2522%253e%22"
            + "%20istracking=%22False%22%20/%3E"
        #expect(
            try Support.parse("$skiptoken=" + token).skipToken
                == #"<cookie pagenumber="2" pagingcookie="%3ccookie%20page%3d%221%22%3e" istracking="False" />"#
        )
    }

    @Test("$expand and $apply are kept, decoded")
    func expandAndApply() throws {
        let options = try Support.parse(
            "$expand=primarycontactid($select=fullname;$expand=createdby($select=fullname))"
                + "&$apply=groupby((statecode),aggregate($count%20as%20count))"
        )
        #expect(options.expand == "primarycontactid($select=fullname;$expand=createdby($select=fullname))")
        #expect(options.apply == "groupby((statecode),aggregate($count as count))")
    }

    @Test("every option together")
    func everything() throws {
        let options = try Support.parse(
            "$select=name&$filter=statecode%20eq%200&$orderby=name&$top=10&$count=true&$skiptoken=abc"
                + "&$expand=primarycontactid&$apply=x"
        )
        #expect(
            options
                == ODataQueryOptions(
                    select: ["name"],
                    filter: Support.compare("statecode", .eq, .integer(0)),
                    orderBy: [ODataOrder(property: "name")],
                    top: 10,
                    count: true,
                    skipToken: "abc",
                    expand: "primarycontactid",
                    apply: "x"
                )
        )
    }

    @Test("errors describe themselves by their message")
    func errorDescription() {
        let error = ODataQueryError(option: "$top", message: "$top must be an integer from 0 to 5000")
        #expect(error.description == error.message)
        #expect(error.position == nil)
    }
}

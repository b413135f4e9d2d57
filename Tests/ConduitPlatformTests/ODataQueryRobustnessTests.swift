import ConduitPlatform
import ConduitTestSupport
import Testing

/// Hostile and damaged query strings: each must give options or an `ODataQueryError`, never a crash or a hang.
@Suite("OData query robustness")
struct ODataQueryRobustnessTests {
    typealias Support = ODataTestSupport

    static let seeds = [
        "$select=fullname&$filter=contains(fullname,'(sample)')&$orderby=createdon%20desc&$top=3",
        "$select=fullname,jobtitle,annualincome&$filter=contains(@p1,'(sample)')%20"
            + "&$orderby=@p2%20asc,%20@p3%20desc&@p1=fullname&@p2=jobtitle&@p3=annualincome",
        "$filter=(contains(name,'sample')%20or%20contains(name,'test'))%20and%20revenue%20gt%205000&$count=true",
        "$filter=not%20startswith(name,'O''Neil')%20and%20_parentcustomerid_value%20eq%20"
            + "49b0be2e-d01c-ed11-b83e-000d3a572421&$top=5000",
        "$filter=createdon%20ge%202024-01-31T10:00:00.123%2B01:00%20or%20birthdate%20eq%202024-02-29"
            + "%20or%20revenue%20le%20-12.50%20or%201.5E%2B2%20lt%20price&$select=name",
        "%24filter=name%20eq%20%27caf%C3%A9%27%20and%20statecode%20ne%20null&%24orderby=name",
        "$filter=a eq @v and (b ne true or not (c gt 2 and d lt 3e3))&@v='x'&$skiptoken=%3Ccookie%20page=%222%22/%3E",
        "$expand=primarycontactid($select=fullname)&$apply=groupby((statecode))&$filter=endswith(name,'Inc.')",
    ]

    /// Characters and words that make or break the grammar.
    static let fragments = [
        "'", "''", "(", ")", ",", "%", "%2", "%20", "%27", "%C3", "+", "&", "=", "@", "$", "/", ".", "-", "*", "\u{0}",
        " and ", " or ", "not ", " eq ", " gt ", "null", "true", "@p1", "$filter=", "contains(", "0", "9", "e", "T",
        "Z", ":", "é", "\t",
    ]

    @Test("seeded mutations of valid queries fail cleanly or parse to filters that print and parse back")
    func mutations() throws {
        var random = SeededRandom(seed: 0x0DA7_A000)
        var parsed = 0
        var rejected = 0
        for seed in Self.seeds {
            #expect(Support.error(seed) == nil, "seed does not parse: \(seed)")
        }
        for iteration in 0..<5_000 {
            let query = Self.mutate(Self.seeds[iteration % Self.seeds.count], using: &random)
            let options: ODataQueryOptions
            do {
                options = try Support.parse(query)
            } catch {
                rejected += 1
                #expect(!error.message.isEmpty)
                if let position = error.position { #expect(position >= 0) }
                continue
            }
            parsed += 1
            if let filter = options.filter {
                #expect(
                    try Support.filter(filter.description) == filter,
                    "iteration \(iteration): \(query) prints as \(filter.description)"
                )
            }
        }
        #expect(parsed + rejected == 5_000)
        #expect(parsed > 250, "some mutations should still parse")
        #expect(rejected > 2_500, "most mutations should be caught")
    }

    @Test("nesting up to the limit parses; deeper nesting is an error, however deep")
    func nesting() throws {
        let limit = ODataQueryOptions.maximumNestingDepth
        func parenthesised(_ depth: Int) -> String {
            "$filter=" + String(repeating: "(", count: depth) + "a eq 1" + String(repeating: ")", count: depth)
        }
        #expect(try Support.parse(parenthesised(limit)).filter == Support.compare("a", .eq, .integer(1)))
        for depth in [limit + 1, 5_000, 16_000] {
            let error = try #require(Support.error(parenthesised(depth)))
            #expect(error.message == "$filter: expressions are nested deeper than 100 levels at position 101")
        }
        func negated(_ depth: Int) -> String {
            "$filter=" + String(repeating: "not ", count: depth) + "contains(a,'b')"
        }
        #expect(try Support.parse(negated(limit)).filter != nil)
        let error = try #require(Support.error(negated(limit + 1)))
        #expect(error.message == "$filter: expressions are nested deeper than 100 levels at position 404")
        #expect(Support.error(negated(8_000)) != nil)
        #expect(Support.error("$filter=" + String(repeating: "not(", count: 7_000)) != nil)
    }

    @Test("the query string is at most 32 KB")
    func length() throws {
        let prefix = "$filter=name%20eq%20'"
        let fits = prefix + String(repeating: "x", count: ODataQueryOptions.maximumQueryLength - prefix.count - 1) + "'"
        #expect(fits.utf8.count == 32_768)
        #expect(try Support.parse(fits).filter != nil)
        let error = try #require(Support.error(fits + "&"))
        #expect(error == ODataQueryError(option: "", message: "the query string is longer than 32768 bytes"))
    }

    @Test(
        "hostile inputs fail cleanly",
        arguments: [
            String(repeating: "%", count: 30_000),
            String(repeating: "&", count: 30_000),
            String(repeating: "=", count: 30_000),
            "$filter=" + String(repeating: "'", count: 30_001),
            "$filter=a eq " + String(repeating: "9", count: 30_000),
            "$filter=" + String(repeating: "a", count: 30_000) + " eq 1",
            "$select=" + String(repeating: "a,", count: 15_000),
            "$filter=" + String(repeating: "a eq 1 and ", count: 2_500),
            "$filter=" + String(repeating: ")", count: 30_000),
            "$filter=a eq @a&@a=" + String(repeating: "[", count: 30_000),
            "$filter=%00%01%02%7F",
            "$filter=a eq '\u{0}'",
        ]
    )
    func hostile(query: String) {
        _ = Support.error(query)
    }

    @Test("a filter of thousands of terms near the length limit parses")
    func manyTerms() throws {
        let terms = (0..<600).map { _ in "accountid eq 49b0be2e-d01c-ed11-b83e-000d3a572421" }
        let query = "$filter=" + terms.joined(separator: " or ")
        #expect(query.utf8.count <= ODataQueryOptions.maximumQueryLength)
        let filter = try #require(try Support.parse(query).filter)
        #expect(ODataFilterTests.depth(filter) <= 11)
    }

    /// Damages `query` in the ways hand edits and truncating transports do.
    static func mutate(_ query: String, using random: inout SeededRandom) -> String {
        var scalars = Array(query.unicodeScalars)
        for _ in 0..<Int.random(in: 1...3, using: &random) {
            let position = Int.random(in: 0...scalars.count, using: &random)
            let fragment = Array((fragments.randomElement(using: &random) ?? "").unicodeScalars)
            switch Int.random(in: 0..<6, using: &random) {
            case 0:
                scalars.removeSubrange(position...)
            case 1:
                scalars.insert(contentsOf: fragment, at: position)
            case 2:
                let end = min(scalars.count, position + Int.random(in: 1...8, using: &random))
                scalars.removeSubrange(position..<end)
            case 3:
                let end = min(scalars.count, position + Int.random(in: 1...16, using: &random))
                scalars.insert(contentsOf: scalars[position..<end], at: position)
            case 4:
                let end = min(scalars.count, position + fragment.count)
                scalars.replaceSubrange(position..<end, with: fragment)
            default:
                if position < scalars.count {
                    scalars[position] = Unicode.Scalar(UInt8.random(in: 0x20...0x7E, using: &random))
                }
            }
        }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}

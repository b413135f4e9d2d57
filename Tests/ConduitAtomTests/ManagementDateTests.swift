import Foundation
import Testing

@testable import ConduitAtom

@Suite("xs:dateTime values")
struct ManagementDateTests {
    @Test(
        "parses the times Azure and the SDKs write",
        arguments: [
            ("2021-10-21T05:18:38.873Z", utc(2021, 10, 21, 5, 18, 38, ms: 873)),
            ("2021-10-21T05:18:38Z", utc(2021, 10, 21, 5, 18, 38)),
            ("2020-12-03T18:23:31.040Z", utc(2020, 12, 3, 18, 23, 31, ms: 40)),
            ("2020-07-05T11:12:13", utc(2020, 7, 5, 11, 12, 13)),
            ("2021-10-21T07:18:38+02:00", utc(2021, 10, 21, 5, 18, 38)),
            ("2021-10-21T00:18:38-05:00", utc(2021, 10, 21, 5, 18, 38)),
            ("2024-02-29T23:59:59Z", utc(2024, 2, 29, 23, 59, 59)),
        ] as [(String, Date)]
    )
    func parses(text: String, expected: Date) throws {
        let date = try #require(ManagementDate.parse(text))
        #expect(abs(date.timeIntervalSince(expected)) < 0.000_001)
    }

    @Test("keeps seven fraction digits to within a microsecond")
    func sevenDigits() throws {
        let date = try #require(ManagementDate.parse("2021-10-21T05:21:19.1411164Z"))
        #expect(abs(date.timeIntervalSince(utc(2021, 10, 21, 5, 21, 19)) - 0.141_116_4) < 0.000_001)
    }

    @Test("reads .NET DateTime.MinValue, with and without a zone")
    func minValue() throws {
        #expect(ManagementDate.parse("0001-01-01T00:00:00Z") == ManagementDate.minValue)
        #expect(ManagementDate.parse("0001-01-01T00:00:00") == ManagementDate.minValue)
        #expect(ManagementDate.parse("0001-01-01T00:00:00.000Z") == ManagementDate.minValue)
        #expect(ManagementDate.format(ManagementDate.minValue) == "0001-01-01T00:00:00Z")
    }

    @Test(
        "formats as Azure does",
        arguments: [
            (utc(2021, 10, 21, 5, 18, 38, ms: 873), "2021-10-21T05:18:38.873Z", "2021-10-21T05:18:38Z"),
            (utc(2021, 10, 21, 5, 18, 39, ms: 770), "2021-10-21T05:18:39.77Z", "2021-10-21T05:18:39Z"),
            (utc(2021, 10, 21, 5, 18, 38), "2021-10-21T05:18:38Z", "2021-10-21T05:18:38Z"),
            (utc(1999, 12, 31, 23, 59, 59, ms: 999), "1999-12-31T23:59:59.999Z", "1999-12-31T23:59:59Z"),
            (utc(1900, 3, 1, 0, 0, 0), "1900-03-01T00:00:00Z", "1900-03-01T00:00:00Z"),
        ] as [(Date, String, String)]
    )
    func formats(date: Date, full: String, wholeSeconds: String) {
        #expect(ManagementDate.format(date) == full)
        #expect(ManagementDate.formatWholeSeconds(date) == wholeSeconds)
    }

    @Test("formatting then parsing gives the same instant")
    func roundTrips() throws {
        for date in [utc(2021, 1, 1, 0, 0, 0, ms: 1), utc(2038, 1, 19, 3, 14, 8, ms: 500), utc(1970, 1, 1, 0, 0, 0)] {
            let parsed = try #require(ManagementDate.parse(ManagementDate.format(date)))
            #expect(abs(parsed.timeIntervalSince(date)) < 0.000_001)
        }
    }

    @Test(
        "rejects what is not a date and time",
        arguments: [
            "", "abc", "2021-10-21", "2021-10-21 05:18:38Z", "2021-13-01T00:00:00Z", "2021-02-29T00:00:00Z",
            "2021-10-21T24:00:00Z", "2021-10-21T05:60:00Z", "2021-10-21T05:18:38.Z", "2021-10-21T05:18:38+2:00",
            "0000-01-01T00:00:00Z", "2021-10-21T05:18:38Zjunk",
        ]
    )
    func rejects(text: String) {
        #expect(ManagementDate.parse(text) == nil)
    }
}

import Testing

@testable import ConduitAtom

@Suite("ISO 8601 durations")
struct ISO8601DurationTests {
    @Test(
        "parses the forms the SDKs and Azure write",
        arguments: [
            ("PT1M", ISO8601Duration.minutes(1).ticks),
            ("P14D", ISO8601Duration.days(14).ticks),
            ("PT0.5S", 5_000_000),
            ("P10675199DT2H48M5.4775807S", Int64.max),
            ("P10675199DT2H48M5.477539S", Int64.max - 4_775_807 + 4_775_390),
            (
                "P1DT2H3M",
                ISO8601Duration.days(1).ticks + ISO8601Duration.hours(2).ticks + ISO8601Duration.minutes(3).ticks
            ),
            ("PT13S", 130_000_000),
            ("PT11M2S", ISO8601Duration.minutes(11).ticks + 20_000_000),
            ("PT1H", ISO8601Duration.hours(1).ticks),
            ("P2D", ISO8601Duration.days(2).ticks),
            ("P1W", ISO8601Duration.days(7).ticks),
            ("P1Y", ISO8601Duration.days(365).ticks),
            ("P1M", ISO8601Duration.days(30).ticks),
            ("-PT5S", -50_000_000),
            ("  PT1M\r\n", ISO8601Duration.minutes(1).ticks),
            ("PT1.123456789S", 11_234_567),
            ("PT0,25S", 2_500_000),
            ("P0D", 0),
            ("PT0S", 0),
        ] as [(String, Int64)]
    )
    func parses(text: String, ticks: Int64) throws {
        #expect(try ISO8601Duration(parsing: text).ticks == ticks)
    }

    @Test(
        "formats like .NET XmlConvert, as Azure returns durations",
        arguments: [
            (ISO8601Duration.minutes(1), "PT1M"),
            (ISO8601Duration.days(14), "P14D"),
            (ISO8601Duration(ticks: 5_000_000), "PT0.5S"),
            (ISO8601Duration.maximum, "P10675199DT2H48M5.4775807S"),
            (ISO8601Duration.zero, "PT0S"),
            (ISO8601Duration.minutes(10), "PT10M"),
            (ISO8601Duration.hours(1), "PT1H"),
            (
                ISO8601Duration(ticks: ISO8601Duration.days(1).ticks + ISO8601Duration.hours(2).ticks + 1),
                "P1DT2H0.0000001S"
            ),
            (ISO8601Duration.seconds(-90), "-PT1M30S"),
            (ISO8601Duration(ticks: .min), "-P10675199DT2H48M5.4775808S"),
            (ISO8601Duration(ticks: 1_230_000), "PT0.123S"),
        ] as [(ISO8601Duration, String)]
    )
    func formats(duration: ISO8601Duration, text: String) {
        #expect(duration.description == text)
    }

    @Test("formatting then parsing gives the same duration")
    func roundTrips() throws {
        var ticks: Int64 = 1
        while ticks < Int64.max / 7 {
            for value in [ticks, -ticks, ticks + 3_333_333] {
                let duration = ISO8601Duration(ticks: value)
                #expect(try ISO8601Duration(parsing: duration.description) == duration)
            }
            ticks *= 7
        }
        #expect(try ISO8601Duration(parsing: ISO8601Duration.maximum.description).isMaximum)
    }

    @Test(
        "rejects malformed text with a reason",
        arguments: [
            ("", "the text is empty"),
            ("1M", "expected 'P' at offset 0"),
            ("P", "it has no components"),
            ("PT", "'T' must be followed by hours, minutes or seconds"),
            ("PT1X", "unexpected character 'X' at offset 3, expected a unit designator"),
            ("P1H", "'H' at offset 2 must come after 'T'"),
            ("PT1D", "'D' at offset 3 must come before 'T'"),
            ("P1.5D", "only seconds may have a fractional part"),
            ("PT1M1H", "'H' at offset 5 is repeated or out of order"),
            ("P1D1D", "'D' at offset 4 is repeated or out of order"),
            ("PT.5S", "unexpected character '.' at offset 2, expected a number"),
            ("PT1.S", "expected digits after the decimal point at offset 3"),
            ("PTT1S", "'T' appears twice"),
            ("PT5", "the number at offset 2 has no unit designator"),
            ("P99999999999999999999D", "the number at offset 1 is too large"),
            ("P10675199DT2H48M5.4775808S", "the duration exceeds the largest value, P10675199DT2H48M5.4775807S"),
            ("P20000000D", "the duration exceeds the largest value, P10675199DT2H48M5.4775807S"),
            ("abc", "expected 'P' at offset 0"),
        ] as [(String, String)]
    )
    func rejects(text: String, reason: String) {
        #expect(throws: ISO8601Duration.ParseError(input: text, reason: reason)) {
            try ISO8601Duration(parsing: text)
        }
    }

    @Test("the parse error reads as a sentence")
    func errorDescription() {
        let error = ISO8601Duration.ParseError(input: "PT1X", reason: "unexpected character 'X' at offset 3")
        #expect(error.description == "'PT1X' is not a valid ISO 8601 duration: unexpected character 'X' at offset 3")
    }

    @Test("converts to seconds and Swift durations, and saturates")
    func conversions() {
        #expect(ISO8601Duration(ticks: 5_000_000).timeInterval == 0.5)
        #expect(ISO8601Duration.minutes(2).duration == .seconds(120))
        #expect(ISO8601Duration(ticks: 15).duration == .nanoseconds(1_500))
        #expect(ISO8601Duration(timeInterval: 1.25) == ISO8601Duration(ticks: 12_500_000))
        #expect(ISO8601Duration(timeInterval: .infinity).isMaximum)
        #expect(ISO8601Duration(timeInterval: .nan) == .zero)
        #expect(ISO8601Duration.days(.max).isMaximum)
        #expect(ISO8601Duration.seconds(.min).ticks == .min)
        #expect(ISO8601Duration.minutes(1) < ISO8601Duration.minutes(2))
    }
}

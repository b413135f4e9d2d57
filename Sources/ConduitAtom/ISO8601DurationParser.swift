/// The scanner behind ``ISO8601Duration/init(parsing:)``; see there for the accepted grammar.
struct ISO8601DurationParser {
    private let input: String
    private let bytes: [UInt8]
    private var index = 0

    init(text: String) {
        self.input = text
        self.bytes = Array(text.trimmingXMLWhitespace().utf8)
    }

    /// Returns the duration in ticks.
    mutating func parse() throws(ISO8601Duration.ParseError) -> Int64 {
        guard !bytes.isEmpty else {
            throw failure("the text is empty")
        }
        var negative = false
        if bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        guard index < bytes.count, bytes[index] == UInt8(ascii: "P") else {
            throw failure("expected 'P' at offset \(index)")
        }
        index += 1

        var total: Int64 = 0
        var componentCount = 0
        var inTimePart = false
        var timeComponentCount = 0
        var lastRank = -1
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "T") {
                guard !inTimePart else {
                    throw failure("'T' appears twice")
                }
                inTimePart = true
                index += 1
                continue
            }
            let component = try parseComponent(inTimePart: inTimePart, lastRank: &lastRank)
            let (sum, overflow) = total.addingReportingOverflow(component)
            guard !overflow else {
                throw failure("the duration exceeds the largest value, P10675199DT2H48M5.4775807S")
            }
            total = sum
            componentCount += 1
            if inTimePart {
                timeComponentCount += 1
            }
        }
        guard !inTimePart || timeComponentCount > 0 else {
            throw failure("'T' must be followed by hours, minutes or seconds")
        }
        guard componentCount > 0 else {
            throw failure("it has no components")
        }
        return negative ? -total : total
    }

    /// Reads one `n[.fraction]X` component and returns its length in ticks.
    private mutating func parseComponent(
        inTimePart: Bool,
        lastRank: inout Int
    ) throws(ISO8601Duration.ParseError) -> Int64 {
        let start = index
        var whole: Int64 = 0
        while index < bytes.count, let digit = digitValue(bytes[index]) {
            let (times, overflowA) = whole.multipliedReportingOverflow(by: 10)
            let (plus, overflowB) = times.addingReportingOverflow(digit)
            guard !overflowA, !overflowB else {
                throw failure("the number at offset \(start) is too large")
            }
            whole = plus
            index += 1
        }
        guard index > start else {
            throw failure(unexpectedCharacterReason(expected: "a number"))
        }
        var fractionTicks: Int64 = 0
        var hasFraction = false
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") || bytes[index] == UInt8(ascii: ",") {
            hasFraction = true
            index += 1
            let fractionStart = index
            var scale: Int64 = ISO8601Duration.ticksPerSecond
            while index < bytes.count, let digit = digitValue(bytes[index]) {
                scale /= 10
                fractionTicks += digit * scale
                index += 1
            }
            guard index > fractionStart else {
                throw failure("expected digits after the decimal point at offset \(fractionStart - 1)")
            }
        }
        guard index < bytes.count else {
            throw failure("the number at offset \(start) has no unit designator")
        }
        let designator = bytes[index]
        let (rank, unit) = try unit(for: designator, inTimePart: inTimePart)
        guard rank > lastRank else {
            throw failure("'\(Character(Unicode.Scalar(designator)))' at offset \(index) is repeated or out of order")
        }
        guard !hasFraction || designator == UInt8(ascii: "S") else {
            throw failure("only seconds may have a fractional part")
        }
        lastRank = rank
        index += 1
        let (product, overflow) = whole.multipliedReportingOverflow(by: unit)
        let (sum, overflowSum) = product.addingReportingOverflow(fractionTicks)
        guard !overflow, !overflowSum else {
            throw failure("the duration exceeds the largest value, P10675199DT2H48M5.4775807S")
        }
        return sum
    }

    /// The ordering rank and the tick length of a unit designator.
    private func unit(for designator: UInt8, inTimePart: Bool) throws(ISO8601Duration.ParseError) -> (Int, Int64) {
        switch (designator, inTimePart) {
        case (UInt8(ascii: "Y"), false):
            return (0, 365 * ISO8601Duration.ticksPerDay)
        case (UInt8(ascii: "M"), false):
            return (1, 30 * ISO8601Duration.ticksPerDay)
        case (UInt8(ascii: "W"), false):
            return (2, 7 * ISO8601Duration.ticksPerDay)
        case (UInt8(ascii: "D"), false):
            return (3, ISO8601Duration.ticksPerDay)
        case (UInt8(ascii: "H"), true):
            return (4, ISO8601Duration.ticksPerHour)
        case (UInt8(ascii: "M"), true):
            return (5, ISO8601Duration.ticksPerMinute)
        case (UInt8(ascii: "S"), true):
            return (6, ISO8601Duration.ticksPerSecond)
        case (UInt8(ascii: "H"), false), (UInt8(ascii: "S"), false):
            throw failure("'\(Character(Unicode.Scalar(designator)))' at offset \(index) must come after 'T'")
        case (UInt8(ascii: "Y"), true), (UInt8(ascii: "W"), true), (UInt8(ascii: "D"), true):
            throw failure("'\(Character(Unicode.Scalar(designator)))' at offset \(index) must come before 'T'")
        default:
            throw failure(unexpectedCharacterReason(expected: "a unit designator"))
        }
    }

    private func digitValue(_ byte: UInt8) -> Int64? {
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
            return nil
        }
        return Int64(byte - UInt8(ascii: "0"))
    }

    private func unexpectedCharacterReason(expected: String) -> String {
        guard index < bytes.count else {
            return "expected \(expected) at the end"
        }
        let byte = bytes[index]
        let shown =
            byte < 0x80 ? String(Character(Unicode.Scalar(byte))) : "0x" + String(byte, radix: 16, uppercase: true)
        return "unexpected character '\(shown)' at offset \(index), expected \(expected)"
    }

    private func failure(_ reason: String) -> ISO8601Duration.ParseError {
        ISO8601Duration.ParseError(input: input, reason: reason)
    }
}

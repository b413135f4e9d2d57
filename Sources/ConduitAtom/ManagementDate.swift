import Foundation

/// Reads and writes the `xs:dateTime` values of the management API (`CreatedAt`, `published`, …).
///
/// Azure writes times such as `2021-10-21T05:18:38.873Z`, `2021-10-21T05:21:19.1411164Z` and, for "never",
/// `0001-01-01T00:00:00Z` or `0001-01-01T00:00:00` (no zone). Parsing accepts any number of fraction digits
/// and `Z`, `±hh:mm` or no zone (read as UTC). The proleptic Gregorian calendar is used, as .NET does.
public enum ManagementDate {
    /// .NET's `DateTime.MinValue`, `0001-01-01T00:00:00Z`, which Azure writes for "never" (e.g. `AccessedAt`).
    public static let minValue = Date(timeIntervalSince1970: Double(daysFromCivil(year: 1, month: 1, day: 1) * 86_400))

    /// Parses an `xs:dateTime`; returns nil when the text is not one.
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.trimmingXMLWhitespace().utf8)
        var scanner = DateScanner(bytes: bytes)
        guard let year = scanner.number(digits: 4), scanner.skip("-"),
            let month = scanner.number(digits: 2), scanner.skip("-"),
            let day = scanner.number(digits: 2), scanner.skip("T") || scanner.skip("t"),
            let hour = scanner.number(digits: 2), scanner.skip(":"),
            let minute = scanner.number(digits: 2), scanner.skip(":"),
            let second = scanner.number(digits: 2)
        else {
            return nil
        }
        guard year >= 1, (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
            hour < 24, minute < 60, second < 60
        else {
            return nil
        }
        var fraction = 0.0
        if scanner.skip(".") {
            guard let digits = scanner.digitRun(), !digits.isEmpty else {
                return nil
            }
            fraction = Double("0." + digits) ?? 0
        }
        var offsetSeconds: Int64 = 0
        if scanner.skip("Z") || scanner.skip("z") {
            offsetSeconds = 0
        } else if let sign = scanner.sign() {
            guard let offsetHours = scanner.number(digits: 2), scanner.skip(":"),
                let offsetMinutes = scanner.number(digits: 2), offsetHours <= 14, offsetMinutes < 60
            else {
                return nil
            }
            offsetSeconds = sign * (offsetHours * 3_600 + offsetMinutes * 60)
        }
        guard scanner.atEnd else {
            return nil
        }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// Formats a time as Azure does for entity properties: UTC, up to six fraction digits with trailing zeros
    /// trimmed, e.g. `2021-10-21T05:18:38.873Z` or `2021-10-21T05:18:38Z`.
    public static func format(_ date: Date) -> String {
        let (seconds, micros) = split(date)
        let base = formatSeconds(seconds)
        guard micros > 0 else {
            return base + "Z"
        }
        var digits = String(micros)
        digits = String(repeating: "0", count: 6 - digits.count) + digits
        while digits.hasSuffix("0") {
            digits.removeLast()
        }
        return base + "." + digits + "Z"
    }

    /// Formats a time to whole seconds, as Azure writes Atom `published` and `updated`: `2021-10-21T05:18:38Z`.
    public static func formatWholeSeconds(_ date: Date) -> String {
        formatSeconds(split(date).seconds) + "Z"
    }

    /// Whole Unix seconds (floored) and the remaining microseconds (rounded).
    private static func split(_ date: Date) -> (seconds: Int64, micros: Int64) {
        let interval = date.timeIntervalSince1970
        guard interval.isFinite, abs(interval) < 1e15 else {
            return (0, 0)
        }
        let whole = interval.rounded(.down)
        var seconds = Int64(whole)
        var micros = Int64(((interval - whole) * 1_000_000).rounded())
        if micros >= 1_000_000 {
            seconds += 1
            micros -= 1_000_000
        }
        return (seconds, micros)
    }

    private static func formatSeconds(_ unixSeconds: Int64) -> String {
        let days = floorDivide(unixSeconds, 86_400)
        let secondOfDay = unixSeconds - days * 86_400
        let (year, month, day) = civilFromDays(days)
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T" + pad(secondOfDay / 3_600, 2) + ":"
            + pad(secondOfDay % 3_600 / 60, 2) + ":" + pad(secondOfDay % 60, 2)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    private static func isLeapYear(_ year: Int64) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    private static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2:
            return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11:
            return 30
        default:
            return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let adjustedYear = month <= 2 ? year - 1 : year
        let era = (adjustedYear >= 0 ? adjustedYear : adjustedYear - 399) / 400
        let yearOfEra = adjustedYear - era * 400
        let shiftedMonth = (month + 9) % 12
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01.
    private static func civilFromDays(_ days: Int64) -> (Int64, Int64, Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }
}

/// A cursor over the ASCII bytes of a date.
private struct DateScanner {
    let bytes: [UInt8]
    var index = 0

    var atEnd: Bool {
        index == bytes.count
    }

    mutating func skip(_ character: Unicode.Scalar) -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(character.value) else {
            return false
        }
        index += 1
        return true
    }

    mutating func sign() -> Int64? {
        if skip("+") {
            return 1
        }
        return skip("-") ? -1 : nil
    }

    mutating func number(digits count: Int) -> Int64? {
        guard index + count <= bytes.count else {
            return nil
        }
        var value: Int64 = 0
        for byte in bytes[index..<index + count] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
                return nil
            }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        index += count
        return value
    }

    mutating func digitRun() -> String? {
        let start = index
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            index += 1
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }
}

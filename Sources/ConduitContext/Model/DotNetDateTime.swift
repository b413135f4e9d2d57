/// A .NET `System.DateTime`: 100-nanosecond ticks since 0001-01-01 and a kind.
///
/// The kind decides how each format writes it, and is kept so a value is written back the way it came:
/// - ``Kind/utc``: JSON `\/Date(ms)\/`, XML `2017-09-26T06:44:08Z`.
/// - ``Kind/local(offsetMinutes:)``: JSON `\/Date(ms-0700)\/`, XML `2017-09-25T23:44:08-07:00`. `ticks` hold the
///   UTC instant; the offset is the writer's zone offset that JSON and XML carry. The .NET binary format has no room
///   for it, so a local value read from binary has `offsetMinutes == nil` and is written with the encoder's zone.
/// - ``Kind/unspecified``: XML `2017-09-26T06:44:08` (no suffix). `ticks` hold the wall-clock time.
public struct DotNetDateTime: Hashable, Sendable, CustomStringConvertible {
    /// How the value relates to UTC.
    public enum Kind: Hashable, Sendable {
        /// `DateTimeKind.Utc`.
        case utc
        /// `DateTimeKind.Local`, with the writer's UTC offset in minutes when the format carried one.
        case local(offsetMinutes: Int?)
        /// `DateTimeKind.Unspecified`.
        case unspecified
    }

    /// Ticks (100 ns) since 0001-01-01T00:00:00: the UTC instant for `.utc` and `.local`, the wall-clock time for
    /// `.unspecified`.
    public var ticks: Int64
    /// The kind.
    public var kind: Kind

    /// Ticks at 1970-01-01T00:00:00Z.
    public static let unixEpochTicks: Int64 = 621_355_968_000_000_000
    /// The largest valid tick count (9999-12-31T23:59:59.9999999).
    public static let maxTicks: Int64 = 3_155_378_975_999_999_999

    /// Creates a value. Returns `nil` if `ticks` is outside 0001-01-01…9999-12-31.
    public init?(ticks: Int64, kind: Kind) {
        guard ticks >= 0, ticks <= DotNetDateTime.maxTicks else { return nil }
        self.ticks = ticks
        self.kind = kind
    }

    /// A UTC value from milliseconds since the Unix epoch.
    public init?(unixMilliseconds: Int64, kind: Kind = .utc) {
        let (product, overflow) = unixMilliseconds.multipliedReportingOverflow(by: 10_000)
        guard !overflow else { return nil }
        self.init(ticks: product &+ DotNetDateTime.unixEpochTicks, kind: kind)
    }

    /// Milliseconds since the Unix epoch of `ticks` (floored, as .NET's JSON writer does).
    public var unixMilliseconds: Int64 {
        let delta = ticks - DotNetDateTime.unixEpochTicks
        return delta >= 0 ? delta / 10_000 : (delta - 9_999) / 10_000
    }

    /// The ISO 8601 text the XML format uses.
    public var description: String { xmlText(localOffsetMinutes: 0) }

    /// The `xs:dateTime` text .NET's `XmlConvert` writes with `RoundtripKind`: fraction digits only when non-zero
    /// (trailing zeros dropped), `Z` for UTC, `±hh:mm` for local, nothing for unspecified.
    /// - Parameter localOffsetMinutes: used for a local value whose offset is unknown.
    public func xmlText(localOffsetMinutes: Int) -> String {
        var wall = ticks
        var suffix = ""
        switch kind {
        case .utc:
            suffix = "Z"
        case .unspecified:
            break
        case .local(let known):
            let offset = known ?? localOffsetMinutes
            wall = ticks + Int64(offset) * 600_000_000
            let sign = offset < 0 ? "-" : "+"
            suffix = sign + DotNetDateTime.pad(abs(offset) / 60, 2) + ":" + DotNetDateTime.pad(abs(offset) % 60, 2)
        }
        let parts = DotNetDateTime.civil(fromTicks: wall)
        var text =
            DotNetDateTime.pad(parts.year, 4) + "-" + DotNetDateTime.pad(parts.month, 2) + "-"
            + DotNetDateTime.pad(parts.day, 2) + "T" + DotNetDateTime.pad(parts.hour, 2) + ":"
            + DotNetDateTime.pad(parts.minute, 2) + ":" + DotNetDateTime.pad(parts.second, 2)
        if parts.fraction != 0 {
            var fraction = DotNetDateTime.pad(parts.fraction, 7)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        return text + suffix
    }

    /// Parses `xs:dateTime` text (`yyyy-MM-ddTHH:mm:ss[.f…][Z|±hh:mm]`). More than seven fraction digits are
    /// truncated. Returns `nil` for anything else.
    public init?(xmlText text: some StringProtocol) {
        let b = Array(text.utf8)
        func number(_ start: Int, _ count: Int) -> Int? {
            guard start + count <= b.count else { return nil }
            var value = 0
            for i in start..<start + count {
                guard b[i] >= 48, b[i] <= 57 else { return nil }
                value = value * 10 + Int(b[i] - 48)
            }
            return value
        }
        guard b.count >= 19, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            b[10] == UInt8(ascii: "T"), b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
            let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
            year >= 1, (1...12).contains(month), day >= 1, day <= DotNetDateTime.daysIn(month: month, year: year),
            hour < 24, minute < 60, second < 60
        else { return nil }
        var index = 19
        var fraction = 0
        if index < b.count, b[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < b.count, b[index] >= 48, b[index] <= 57 {
                if digits < 7 { fraction = fraction * 10 + Int(b[index] - 48) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in min(digits, 7)..<7 { fraction *= 10 }
        }
        let wall =
            DotNetDateTime.ticks(year: year, month: month, day: day)
            + Int64(hour * 3600 + minute * 60 + second) * 10_000_000 + Int64(fraction)
        if index == b.count {
            self.init(ticks: wall, kind: .unspecified)
        } else if b[index] == UInt8(ascii: "Z"), index + 1 == b.count {
            self.init(ticks: wall, kind: .utc)
        } else if b[index] == UInt8(ascii: "+") || b[index] == UInt8(ascii: "-"), index + 6 == b.count,
            b[index + 3] == UInt8(ascii: ":"), let hours = number(index + 1, 2), let minutes = number(index + 4, 2),
            hours <= 14, minutes < 60
        {
            let offset = (hours * 60 + minutes) * (b[index] == UInt8(ascii: "-") ? -1 : 1)
            self.init(ticks: wall - Int64(offset) * 600_000_000, kind: .local(offsetMinutes: offset))
        } else {
            return nil
        }
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Ticks at midnight of a proleptic Gregorian date.
    static func ticks(year: Int, month: Int, day: Int) -> Int64 {
        // days from civil (H. Hinnant), shifted to 0001-01-01
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let daysFromUnix = era * 146_097 + doe - 719_468
        return Int64(daysFromUnix) * 864_000_000_000 + unixEpochTicks
    }

    struct Civil {
        var year, month, day, hour, minute, second, fraction: Int
    }

    static func civil(fromTicks ticks: Int64) -> Civil {
        let days = Int(ticks / 864_000_000_000)
        let rest = ticks % 864_000_000_000
        let z = days - 719_162 + 719_468  // days since 0000-03-01
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        let seconds = Int(rest / 10_000_000)
        return Civil(
            year: year,
            month: month,
            day: day,
            hour: seconds / 3600,
            minute: seconds / 60 % 60,
            second: seconds % 60,
            fraction: Int(rest % 10_000_000)
        )
    }
}

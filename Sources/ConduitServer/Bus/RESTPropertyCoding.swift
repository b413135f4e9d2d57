import ConduitBus
import Foundation

/// User properties as the Service Bus REST API carries them (reference §1.4): one header each, typed by its
/// form — quoted text is a string (or a date, if it is an RFC 1123 date), unquoted `true`/`false` a Boolean, an
/// integer an Int64, a number a Double; anything else is refused. In a batch they are JSON values.
enum RESTPropertyCoding {
    /// The value of a user-property header.
    /// - Throws: a message for a value that is neither quoted nor a Boolean or number.
    static func parse(header value: String) throws(RESTPropertyError) -> PropertyValue {
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
            let text = String(value.dropFirst().dropLast())
            if let milliseconds = HTTPDate.parse(text) {
                return .date(Date(timeIntervalSince1970: Double(milliseconds) / 1000))
            }
            return .string(text)
        }
        if value == "true" { return .bool(true) }
        if value == "false" { return .bool(false) }
        if let integer = Int64(value) { return .int64(integer) }
        if let number = Double(value), number.isFinite { return .double(number) }
        throw RESTPropertyError(
            "is '\(value.prefix(60))': quote text (\"like this\"), or send true, false or a number"
        )
    }

    /// The header value of a user property; `nil` for a null.
    static func header(_ value: PropertyValue) -> String? {
        switch value {
        case .null: nil
        case .string(let text): "\"\(text)\""
        case .int64(let number): String(number)
        case .double(let number): String(number)
        case .bool(let flag): flag ? "true" : "false"
        case .date(let date): "\"\(HTTPDate.format(Int64(date.timeIntervalSince1970 * 1000)))\""
        case .duration(let duration):
            String(Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
        case .uuid(let id): "\"\(id.uuidString.lowercased())\""
        }
    }

    /// A user property as a JSON value (strings, numbers, Booleans, null; dates as RFC 1123 text).
    static func json(_ value: PropertyValue) -> Any {
        switch value {
        case .null: NSNull()
        case .string(let text): text
        case .int64(let number): number
        case .double(let number): number
        case .bool(let flag): flag
        case .date(let date): HTTPDate.format(Int64(date.timeIntervalSince1970 * 1000))
        case .duration(let duration):
            Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        case .uuid(let id): id.uuidString.lowercased()
        }
    }

    /// A user property from a batch's `UserProperties` object (as `JSONSerialization` reads it).
    static func parse(json value: Any) throws(RESTPropertyError) -> PropertyValue {
        switch value {
        case let text as String:
            return .string(text)
        case let number as NSNumber:
            switch String(cString: number.objCType) {
            case "c", "B": return .bool(number.boolValue)
            case "f", "d": return .double(number.doubleValue)
            default: return .int64(number.int64Value)
            }
        case is NSNull:
            return .null
        default:
            throw RESTPropertyError("must be a string, a number, true, false or null")
        }
    }
}

/// A user property the REST API cannot take.
struct RESTPropertyError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// RFC 1123 dates (`Sun, 06 Nov 1994 08:49:37 GMT`), as the REST API writes broker times, without a
/// `DateFormatter` per call.
enum HTTPDate {
    static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Formats Unix milliseconds.
    static func format(_ milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }

    /// Parses a date in that form to Unix milliseconds; `nil` for anything else.
    static func parse(_ text: String) -> Int64? {
        let fields = text.split(separator: " ")
        guard fields.count == 6, fields[0].count == 4, fields[0].hasSuffix(","),
            days.contains(String(fields[0].dropLast())),
            fields[5] == "GMT", let day = Int32(fields[1]), (1...31).contains(day),
            let month = months.firstIndex(of: String(fields[2])), let year = Int32(fields[3]), year >= 1970
        else { return nil }
        let clock = fields[4].split(separator: ":")
        guard clock.count == 3, let hour = Int32(clock[0]), let minute = Int32(clock[1]), let second = Int32(clock[2]),
            (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = Int32(month)
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        return Int64(timegm(&parts)) * 1000
    }
}

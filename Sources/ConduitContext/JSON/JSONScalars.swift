import Foundation

/// A JSON number token, kept as text until its slot says what it is.
struct JSONNumber {
    var text: String
    /// Has a fraction or an exponent.
    var isFloating: Bool

    /// The .NET value a number becomes in an `object`-typed slot (`DataContractJsonSerializer` rules): integers
    /// become `int`, then `long`, then `decimal`, then `double` as they grow; numbers with a fraction become
    /// `decimal` when they fit, else `double`; numbers with an exponent become `double`.
    static func objectValue(_ number: JSONNumber) -> ContextValue? {
        if !number.isFloating {
            if let value = Int32(number.text) { return .int(value) }
            if let value = Int64(number.text) { return .long(value) }
            if let value = DotNetDecimal(number.text) { return .decimal(value) }
            return Double(number.text).map { .double($0) }
        }
        let hasExponent = number.text.contains(where: { $0 == "e" || $0 == "E" })
        if !hasExponent, let value = DotNetDecimal(number.text) { return .decimal(value) }
        guard let value = Double(number.text), value.isFinite else { return nil }
        return .double(value)
    }

    /// A decimal from text with an exponent (`1E+2`), for declared decimal slots.
    static func decimalFromExponent(_ text: String) -> DotNetDecimal? {
        guard let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }),
            let exponent = Int(text[text.index(after: e)...]),
            abs(exponent) <= 28
        else { return nil }
        var mantissa = String(text[..<e])
        var negative = false
        if mantissa.hasPrefix("-") {
            negative = true
            mantissa.removeFirst()
        }
        var digits = mantissa.replacingOccurrences(of: ".", with: "")
        var scale = mantissa.firstIndex(of: ".").map { mantissa.distance(from: $0, to: mantissa.endIndex) - 1 } ?? 0
        scale -= exponent
        if scale < 0 {
            digits += String(repeating: "0", count: -scale)
            scale = 0
        }
        guard scale <= 28 else { return nil }
        while digits.count <= scale { digits = "0" + digits }
        let split = digits.index(digits.endIndex, offsetBy: -scale)
        let plain = (negative ? "-" : "") + digits[..<split] + (scale > 0 ? "." + digits[split...] : "")
        return DotNetDecimal(plain)
    }
}

/// The `\/Date(ms±hhmm)\/` form.
enum JSONDate {
    /// Parses `/Date(ms)/` or `/Date(ms±hhmm)/` (the escapes already removed). `nil` for other strings.
    static func parse(_ text: String) -> DotNetDateTime? {
        let utf8 = text.utf8
        guard utf8.count >= 9, text.hasPrefix("/Date("), text.hasSuffix(")/") else { return nil }
        let body = Array(utf8.dropFirst(6).dropLast(2))
        var index = 0
        var negative = false
        if index < body.count, body[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        var milliseconds: Int64 = 0
        let digitsStart = index
        while index < body.count, body[index] >= 48, body[index] <= 57 {
            let (times10, o1) = milliseconds.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int64(body[index] - 48))
            guard !o1, !o2 else { return nil }
            milliseconds = sum
            index += 1
        }
        guard index > digitsStart else { return nil }
        if negative { milliseconds = -milliseconds }
        if index == body.count { return DotNetDateTime(unixMilliseconds: milliseconds, kind: .utc) }
        guard body.count - index == 5, body[index] == UInt8(ascii: "+") || body[index] == UInt8(ascii: "-") else {
            return nil
        }
        var hhmm = 0
        for i in (index + 1)..<body.count {
            guard body[i] >= 48, body[i] <= 57 else { return nil }
            hhmm = hhmm * 10 + Int(body[i] - 48)
        }
        guard hhmm / 100 <= 23, hhmm % 100 < 60 else { return nil }
        let offset = (hhmm / 100 * 60 + hhmm % 100) * (body[index] == UInt8(ascii: "-") ? -1 : 1)
        return DotNetDateTime(unixMilliseconds: milliseconds, kind: .local(offsetMinutes: offset))
    }
}

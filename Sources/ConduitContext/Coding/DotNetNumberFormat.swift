import Foundation

/// Number and duration text as .NET writes it.
enum DotNetNumberFormat {
    /// `double.ToString("R", InvariantCulture)` (the shortest text that round-trips), which `XmlConvert` and the
    /// JSON writer use: `2`, `0.1`, `1E-05`, `1.2345678901234568E+17`; `INF`, `-INF`, `NaN` (in JSON too, unquoted,
    /// as .NET writes them).
    static func xml(_ value: Double, isFloat: Bool) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-INF" : "INF" }
        return shortest(value, isFloat: isFloat)
    }

    /// The .NET "R" text of a finite value.
    static func shortest(_ value: Double, isFloat: Bool) -> String {
        if value == 0 { return value.sign == .minus ? "-0" : "0" }
        // Swift prints the shortest round-trip digits; re-lay them out the .NET way.
        let swiftText = isFloat ? Float(value).description : value.description
        var negative = false
        var mantissa = Substring(swiftText)
        if mantissa.hasPrefix("-") {
            negative = true
            mantissa = mantissa.dropFirst()
        }
        var exponent = 0
        if let e = mantissa.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(mantissa[mantissa.index(after: e)...]) ?? 0
            mantissa = mantissa[..<e]
        }
        var integerPart = mantissa
        var fractionPart: Substring = ""
        if let dot = mantissa.firstIndex(of: ".") {
            integerPart = mantissa[..<dot]
            fractionPart = mantissa[mantissa.index(after: dot)...]
        }
        var digits = String(integerPart) + fractionPart
        var pointPosition = integerPart.count + exponent  // digits before the decimal point
        while digits.hasPrefix("0") && digits.count > 1 {
            digits.removeFirst()
            pointPosition -= 1
        }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        let decimalExponent = pointPosition - 1
        var text: String
        // .NET Core 3.0+ "R": scientific when the digit position passes max(digits, 17) (9 for float) or is below -3.
        if pointPosition > max(digits.count, isFloat ? 9 : 17) || pointPosition < -3 {
            text = String(digits.prefix(1))
            if digits.count > 1 { text += "." + digits.dropFirst() }
            text += "E" + (decimalExponent < 0 ? "-" : "+")
            let magnitude = String(abs(decimalExponent))
            text += magnitude.count < 2 ? "0" + magnitude : magnitude
        } else if pointPosition <= 0 {
            text = "0." + String(repeating: "0", count: -pointPosition) + digits
        } else if pointPosition >= digits.count {
            text = digits + String(repeating: "0", count: pointPosition - digits.count)
        } else {
            let split = digits.index(digits.startIndex, offsetBy: pointPosition)
            text = digits[..<split] + "." + digits[split...]
        }
        return negative ? "-" + text : text
    }

    /// Parses XML double text (`INF`, `-INF`, `NaN` and numbers).
    static func parseXMLDouble(_ text: String) -> Double? {
        switch text {
        case "INF", "Infinity": return .infinity
        case "-INF", "-Infinity": return -.infinity
        case "NaN": return .nan
        default:
            guard !text.isEmpty,
                text.utf8.allSatisfy({ byte in
                    (byte >= 48 && byte <= 57) || byte == 43 || byte == 45 || byte == 46 || byte == 69 || byte == 101
                })
            else { return nil }
            return Double(text)
        }
    }

    /// `XmlConvert.ToString(TimeSpan)`: `P1DT2H3M4.5S`, `PT0S`, negative with a leading `-`.
    static func duration(ticks: Int64) -> String {
        if ticks == 0 { return "PT0S" }
        var text = ticks < 0 ? "-P" : "P"
        let magnitude = ticks.magnitude
        let days = magnitude / 864_000_000_000
        var rest = magnitude % 864_000_000_000
        let hours = rest / 36_000_000_000
        rest %= 36_000_000_000
        let minutes = rest / 600_000_000
        rest %= 600_000_000
        let seconds = rest / 10_000_000
        let fraction = rest % 10_000_000
        if days > 0 { text += "\(days)D" }
        if hours > 0 || minutes > 0 || seconds > 0 || fraction > 0 {
            text += "T"
            if hours > 0 { text += "\(hours)H" }
            if minutes > 0 { text += "\(minutes)M" }
            if seconds > 0 || fraction > 0 {
                text += "\(seconds)"
                if fraction > 0 {
                    var digits = DotNetDateTime.pad(Int(fraction), 7)
                    while digits.hasSuffix("0") { digits.removeLast() }
                    text += "." + digits
                }
                text += "S"
            }
        }
        return text
    }
}

/// Base64 for `Bytes*Text` records shown as text.
enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }

    static func decode(_ text: String) -> [UInt8]? {
        Data(base64Encoded: text).map { Array($0) }
    }
}

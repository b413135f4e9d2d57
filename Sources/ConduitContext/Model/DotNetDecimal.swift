/// A .NET `System.Decimal`, kept exactly: a 96-bit integer, a scale (0…28) and a sign.
///
/// The scale is part of the value's identity here, as it is in .NET text output: `60000.0000`
/// and `60000` are written differently, so they compare unequal. Use ``numericallyEquals(_:)`` to
/// compare amounts.
public struct DotNetDecimal: Hashable, Sendable, CustomStringConvertible {
    /// The upper 32 bits of the 96-bit magnitude.
    public var high: UInt32
    /// The lower 64 bits of the 96-bit magnitude.
    public var low: UInt64
    /// The number of digits after the decimal point (0…28).
    public var scale: UInt8
    /// `true` for a negative value (and for .NET's negative zero).
    public var isNegative: Bool

    /// Zero with scale 0.
    public static let zero = DotNetDecimal(0)

    /// Creates a decimal from its parts. Returns `nil` if the scale is above 28.
    public init?(high: UInt32, low: UInt64, scale: UInt8, isNegative: Bool) {
        guard scale <= 28 else { return nil }
        self.high = high
        self.low = low
        self.scale = scale
        self.isNegative = isNegative
    }

    /// Creates a decimal from an integer.
    public init(_ value: Int64) {
        self.high = 0
        self.low = value.magnitude
        self.scale = 0
        self.isNegative = value < 0
    }

    /// Parses .NET invariant decimal text: an optional sign, digits, an optional point and digits
    /// (`-12.5000`). Digits beyond what 96 bits hold are rounded away from the fraction, as .NET does;
    /// an integer part that does not fit returns `nil`.
    public init?(_ text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard let value = bytes.withUnsafeBytes({ DotNetDecimal(utf8: $0) }) else { return nil }
        self = value
    }

    init?(utf8: UnsafeRawBufferPointer) {
        var index = 0
        var negative = false
        if index < utf8.count, utf8[index] == UInt8(ascii: "-") || utf8[index] == UInt8(ascii: "+") {
            negative = utf8[index] == UInt8(ascii: "-")
            index += 1
        }
        var magnitude = UInt128Parts()
        var scale = 0
        var sawDigit = false
        var sawPoint = false
        var truncated = false
        var roundUp = false
        while index < utf8.count {
            let byte = utf8[index]
            if byte == UInt8(ascii: ".") {
                if sawPoint { return nil }
                sawPoint = true
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                sawDigit = true
                let digit = UInt32(byte - UInt8(ascii: "0"))
                if truncated {
                    // further digits are dropped
                } else if let next = magnitude.multipliedBy10Adding(digit), !(sawPoint && scale >= 28) {
                    magnitude = next
                    if sawPoint { scale += 1 }
                } else if sawPoint {
                    truncated = true
                    roundUp = digit >= 5
                } else {
                    return nil
                }
            } else {
                return nil
            }
            index += 1
        }
        guard sawDigit else { return nil }
        if roundUp {
            guard let rounded = magnitude.adding(1) else { return nil }
            magnitude = rounded
        }
        self.high = magnitude.high
        self.low = magnitude.low
        self.scale = UInt8(scale)
        self.isNegative = negative
    }

    /// The invariant text form .NET writes (`decimal.ToString(CultureInfo.InvariantCulture)`): the
    /// scale is kept, so `1.0000000000` stays as it is.
    public var description: String {
        var bytes: [UInt8] = []
        appendText(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    func appendText(to bytes: inout [UInt8]) {
        var digits: [UInt8] = []
        var value = UInt128Parts(high: high, low: low)
        while !value.isZero {
            let (quotient, remainder) = value.dividedBy10()
            digits.append(UInt8(ascii: "0") + UInt8(remainder))
            value = quotient
        }
        while digits.count <= Int(scale) { digits.append(UInt8(ascii: "0")) }
        if isNegative && !(high == 0 && low == 0) { bytes.append(UInt8(ascii: "-")) }
        for (position, digit) in digits.reversed().enumerated() {
            if position == digits.count - Int(scale) { bytes.append(UInt8(ascii: ".")) }
            bytes.append(digit)
        }
    }

    /// `true` when both hold the same amount, whatever their scales (`1.50 == 1.5`).
    public func numericallyEquals(_ other: DotNetDecimal) -> Bool {
        let digits = normalizedDigits
        return digits == other.normalizedDigits && (isNegative == other.isNegative || digits == "0")
    }

    private var normalizedDigits: String {
        var text = DotNetDecimal(high: high, low: low, scale: scale, isNegative: false)!.description
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }
}

/// A 96-bit unsigned magnitude with the arithmetic decimal parsing and printing need.
struct UInt128Parts {
    var high: UInt32 = 0
    var low: UInt64 = 0

    var isZero: Bool { high == 0 && low == 0 }

    func multipliedBy10Adding(_ digit: UInt32) -> UInt128Parts? {
        let lowProduct = low.multipliedFullWidth(by: 10)
        var carry = UInt64(lowProduct.high)
        let (newLow, overflow) = lowProduct.low.addingReportingOverflow(UInt64(digit))
        if overflow { carry += 1 }
        let newHigh = UInt64(high) * 10 + carry
        guard newHigh <= UInt64(UInt32.max) else { return nil }
        return UInt128Parts(high: UInt32(newHigh), low: newLow)
    }

    func adding(_ value: UInt64) -> UInt128Parts? {
        let (newLow, overflow) = low.addingReportingOverflow(value)
        if overflow {
            guard high < UInt32.max else { return nil }
            return UInt128Parts(high: high + 1, low: newLow)
        }
        return UInt128Parts(high: high, low: newLow)
    }

    func dividedBy10() -> (UInt128Parts, UInt32) {
        let highQuotient = high / 10
        let highRemainder = UInt64(high % 10)
        // (highRemainder << 64 | low) / 10
        let (quotient, remainder) = (10 as UInt64).dividingFullWidth((high: highRemainder, low: low))
        return (UInt128Parts(high: highQuotient, low: quotient), UInt32(remainder))
    }
}

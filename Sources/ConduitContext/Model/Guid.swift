/// A .NET `System.Guid`: 16 bytes, written in the hyphenated lower-case "D" form
/// (`6d81597f-0f9f-e711-8122-000d3aa2331c`), as every Dataverse wire format writes it.
///
/// The bytes are kept in the order of the "D" text, so `Guid("…")!.description` gives the same text back.
public struct Guid: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The first eight bytes of the text form, most significant first.
    public var high: UInt64
    /// The last eight bytes of the text form, most significant first.
    public var low: UInt64

    /// The all-zero GUID (`00000000-0000-0000-0000-000000000000`).
    public static let empty = Guid(high: 0, low: 0)

    /// Creates a GUID from the two halves of its text form.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses the "D" (`xxxxxxxx-xxxx-…`), "B" (`{…}`), "P" (`(…)`) and "N" (32 digits) forms, in any case.
    /// Returns `nil` for anything else.
    public init?(_ text: some StringProtocol) {
        var utf8 = Array(text.utf8)
        if utf8.count == 38,
            (utf8.first == UInt8(ascii: "{") && utf8.last == UInt8(ascii: "}"))
                || (utf8.first == UInt8(ascii: "(") && utf8.last == UInt8(ascii: ")"))
        {
            utf8 = Array(utf8[1..<37])
        }
        guard let value = utf8.withUnsafeBufferPointer({ Guid(utf8: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = value
    }

    /// Parses the "D" or "N" form from UTF-8 bytes.
    init?(utf8: UnsafeRawBufferPointer) {
        let hyphenated: Bool
        switch utf8.count {
        case 36: hyphenated = true
        case 32: hyphenated = false
        default: return nil
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        var digits = 0
        for (index, byte) in utf8.enumerated() {
            if hyphenated, index == 8 || index == 13 || index == 18 || index == 23 {
                guard byte == UInt8(ascii: "-") else { return nil }
                continue
            }
            guard let nibble = Guid.hexValue(byte) else { return nil }
            if digits < 16 {
                high = high << 4 | UInt64(nibble)
            } else {
                low = low << 4 | UInt64(nibble)
            }
            digits += 1
        }
        self.init(high: high, low: low)
    }

    /// Creates a GUID from the 16 bytes .NET's `Guid.ToByteArray()` returns (the first three groups
    /// little-endian), the order used by [MC-NBFX] `UuidText` records. Returns `nil` unless there are 16 bytes.
    public init?(dotNetBytes b: some Collection<UInt8>) {
        let a = Array(b)
        guard a.count == 16 else { return nil }
        let ordered: [UInt8] = [a[3], a[2], a[1], a[0], a[5], a[4], a[7], a[6]] + a[8..<16]
        var high: UInt64 = 0
        var low: UInt64 = 0
        for i in 0..<8 { high = high << 8 | UInt64(ordered[i]) }
        for i in 8..<16 { low = low << 8 | UInt64(ordered[i]) }
        self.init(high: high, low: low)
    }

    /// The 16 bytes in .NET `Guid.ToByteArray()` order (first three groups little-endian).
    public var dotNetBytes: [UInt8] {
        var text: [UInt8] = []
        text.reserveCapacity(16)
        for shift in stride(from: 56, through: 0, by: -8) {
            text.append(UInt8(truncatingIfNeeded: high >> UInt64(shift)))
        }
        for shift in stride(from: 56, through: 0, by: -8) {
            text.append(UInt8(truncatingIfNeeded: low >> UInt64(shift)))
        }
        return [text[3], text[2], text[1], text[0], text[5], text[4], text[7], text[6]] + text[8..<16]
    }

    /// The hyphenated lower-case "D" form.
    public var description: String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(36)
        appendText(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the 36 bytes of the "D" form.
    func appendText(to bytes: inout [UInt8]) {
        let hex: StaticString = "0123456789abcdef"
        hex.withUTF8Buffer { digits in
            for i in 0..<32 {
                if i == 8 || i == 12 || i == 16 || i == 20 { bytes.append(UInt8(ascii: "-")) }
                let word = i < 16 ? high : low
                let shift = UInt64(60 - (i % 16) * 4)
                bytes.append(digits[Int((word >> shift) & 0xF)])
            }
        }
    }

    public static func < (lhs: Guid, rhs: Guid) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    /// A random (version 4) GUID.
    public static func random() -> Guid {
        var generator = SystemRandomNumberGenerator()
        var high = generator.next() as UInt64
        var low = generator.next() as UInt64
        high = (high & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return Guid(high: high, low: low)
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

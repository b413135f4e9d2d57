/// Writes the `DataContractJsonSerializer` form: compact, members in contract order, `"__type"` first in polymorphic
/// contract values, `\/` for `/`, `\/Date(ms±hhmm)\/` for dates.
struct JSONContractWriter: ContractWriter {
    private(set) var bytes: [UInt8] = []
    private var needsComma = false
    let options: ContextEncodingOptions

    init(options: ContextEncodingOptions, capacity: Int = 8192) {
        self.options = options
        bytes.reserveCapacity(capacity)
    }

    @inline(__always)
    private mutating func separator() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    mutating func member(_ name: String, namespace: String) {
        separator()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func item(_ name: String, namespace: String) {
        separator()
        needsComma = false
    }

    mutating func writeNull() {
        appendASCII("null")
        needsComma = true
    }

    mutating func writeString(_ value: String, typeHint: Bool) {
        appendQuoted(value)
        needsComma = true
    }

    mutating func writeBool(_ value: Bool, typeHint: Bool) {
        appendASCII(value ? "true" : "false")
        needsComma = true
    }

    mutating func writeInt32(_ value: Int32, typeHint: Bool) {
        appendInteger(Int64(value))
        needsComma = true
    }

    mutating func writeInt64(_ value: Int64, typeHint: Bool) {
        appendInteger(value)
        needsComma = true
    }

    mutating func writeDouble(_ value: Double, typeHint: Bool) {
        appendASCII(DotNetNumberFormat.xml(value, isFloat: false))
        needsComma = true
    }

    mutating func writeDecimal(_ value: DotNetDecimal, typeHint: Bool) {
        value.appendText(to: &bytes)
        needsComma = true
    }

    mutating func writeGuid(_ value: Guid, typeHint: Bool) {
        bytes.append(UInt8(ascii: "\""))
        value.appendText(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    mutating func writeDateTime(_ value: DotNetDateTime, typeHint: Bool) {
        appendASCII("\"\\/Date(")
        let milliseconds: Int64
        var offset: Int?
        switch value.kind {
        case .utc:
            milliseconds = value.unixMilliseconds
        case .local(let known):
            milliseconds = value.unixMilliseconds
            offset = known ?? options.localOffsetMinutes(utcTicks: value.ticks)
        case .unspecified:
            let zoneOffset = options.localOffsetMinutes(utcTicks: value.ticks)
            var utc = value
            utc.ticks -= Int64(zoneOffset) * 600_000_000
            milliseconds = utc.unixMilliseconds
            offset = zoneOffset
        }
        appendInteger(milliseconds)
        if let offset {
            bytes.append(offset < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            let magnitude = abs(offset)
            appendTwoDigits(magnitude / 60)
            appendTwoDigits(magnitude % 60)
        }
        appendASCII(")\\/\"")
        needsComma = true
    }

    mutating func writeEnum(_ value: Int32, name: String?) {
        writeInt32(value, typeHint: false)
    }

    mutating func writeRawNumber(_ text: String) {
        appendASCII(text)
        needsComma = true
    }

    mutating func writeTypedText(_ text: String, type: ContractName, jsonNumber: Bool) {
        if jsonNumber { writeRawNumber(text) } else { writeString(text, typeHint: false) }
    }

    mutating func beginContract(_ type: ContractName?, typeHint: Bool) {
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
        if typeHint, let type {
            appendASCII("\"__type\":")
            appendQuoted(type.jsonTypeHint)
            needsComma = true
        }
    }

    mutating func endContract() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func beginCollection(_ type: ContractName?, itemNamespace: String, typeHint: Bool) {
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    mutating func endCollection() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    // MARK: - Bytes

    @inline(__always)
    private mutating func appendASCII(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    private mutating func appendASCII(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    private mutating func appendTwoDigits(_ value: Int) {
        bytes.append(UInt8(ascii: "0") + UInt8(value / 10 % 10))
        bytes.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    private mutating func appendInteger(_ value: Int64) {
        if value >= 0 && value < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        var magnitude = value.magnitude
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes, enough for 20 digits
        var count = 0
        withUnsafeMutableBytes(of: &scratch) { buffer in
            while magnitude > 0 {
                buffer[23 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            if value < 0 { bytes.append(UInt8(ascii: "-")) }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[(24 - count)...]))
        }
    }

    /// Appends a JSON string the way .NET's JSON writer escapes it.
    private mutating func appendQuoted(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var runStart = 0
            for index in 0..<utf8.count {
                let byte = utf8[index]
                if byte >= 0xC2 {
                    // U+0085, U+2028, U+2029, U+FFFE, U+FFFF are written as \u escapes.
                    guard let scalar = JSONEscaping.specialScalar(utf8, at: index) else { continue }
                    if runStart < index {
                        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                    }
                    JSONEscaping.appendUnicodeEscape(scalar.value, to: &bytes)
                    runStart = index + scalar.length
                    continue
                }
                guard
                    byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
                        || byte == UInt8(ascii: "/")
                else { continue }
                if runStart < index { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index])) }
                JSONEscaping.appendEscape(of: byte, to: &bytes)
                runStart = index + 1
            }
            if runStart < utf8.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...])) }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// The escapes .NET's JSON writer uses: `\"`, `\\`, `\/`, `\b \t \n \f \r`, `\u00xx` (lower-case hex) for
/// other control characters and `\uxxxx` for U+0085, U+2028, U+2029, U+FFFE and U+FFFF; other text is raw UTF-8.
enum JSONEscaping {
    /// The scalar at `index` if it is one .NET escapes, with its UTF-8 length.
    @inline(__always)
    static func specialScalar(_ utf8: UnsafeBufferPointer<UInt8>, at index: Int) -> (value: UInt32, length: Int)? {
        let byte = utf8[index]
        if byte == 0xC2, index + 1 < utf8.count, utf8[index + 1] == 0x85 { return (0x85, 2) }
        if byte == 0xE2, index + 2 < utf8.count, utf8[index + 1] == 0x80,
            utf8[index + 2] == 0xA8 || utf8[index + 2] == 0xA9
        {
            return (utf8[index + 2] == 0xA8 ? 0x2028 : 0x2029, 3)
        }
        if byte == 0xEF, index + 2 < utf8.count, utf8[index + 1] == 0xBF,
            utf8[index + 2] == 0xBE || utf8[index + 2] == 0xBF
        {
            return (utf8[index + 2] == 0xBE ? 0xFFFE : 0xFFFF, 3)
        }
        return nil
    }

    static func appendUnicodeEscape(_ value: UInt32, to bytes: inout [UInt8]) {
        let hex: StaticString = "0123456789abcdef"
        bytes.append(UInt8(ascii: "\\"))
        bytes.append(UInt8(ascii: "u"))
        hex.withUTF8Buffer { digits in
            for shift in stride(from: 12, through: 0, by: -4) {
                bytes.append(digits[Int((value >> UInt32(shift)) & 0xF)])
            }
        }
    }

    static func appendEscape(of byte: UInt8, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): bytes.append(UInt8(ascii: "/"))
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        default:
            let hex: StaticString = "0123456789abcdef"
            bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
            hex.withUTF8Buffer { digits in
                bytes.append(digits[Int(byte >> 4)])
                bytes.append(digits[Int(byte & 0xF)])
            }
        }
    }
}

/// Writes an XML infoset as [MC-NBFX] records without a dictionary (the `application/msbin1` body Dataverse posts),
/// choosing each record the way .NET's `XmlBinaryWriter` (with `XmlBaseWriter` above it) does, so the bytes match what
/// `DataContractSerializer` writes for the same calls:
///
/// - Names: `ShortElement`/`PrefixElement[a-z]`/`Element`, `ShortAttribute`/`PrefixAttribute[a-z]`/`Attribute`,
///   `ShortXmlnsAttribute`/`XmlnsAttribute`.
/// - Numbers take the smallest record that holds them exactly: a double that is exactly a float is written as a float,
///   an integral float as an integer, an integer as `ZeroText`/`OneText`/`Int8Text`/`Int16Text`/`Int32Text`/`Int64Text`.
/// - Strings are UTF-8 `Chars*Text`, except `"0"`/`"1"` (`ZeroText`/`OneText`) and text whose UTF-8 form is more than
///   twice its UTF-16 length (`UnicodeChars*Text`). An empty string writes nothing in element content and `EmptyText`
///   as an attribute value.
/// - In element content a byte array whose length is not a multiple of three takes two `Bytes*Text` records and a
///   qualified name three `Chars8Text` records (`prefix`, `:`, `localName`); as an attribute value each is one record.
/// - The last text record before an element's end is turned into its `*WithEndElement` variant instead of writing an
///   `EndElement` record. Attribute values never are.
struct NBFXWriter: XMLNodeWriter {
    /// The records written so far.
    private(set) var bytes: [UInt8] = []
    /// The index of the type byte of the element-content text record written last, while the next call may still
    /// turn it into its `*WithEndElement` variant.
    private var pendingText: Int?

    init() {}

    mutating func startElement(prefix: String, localName: String) {
        pendingText = nil
        appendNameRecord(
            prefix: prefix,
            localName: localName,
            records: (NBFXRecord.shortElement, NBFXRecord.prefixElementA, NBFXRecord.element)
        )
    }

    /// The short (no prefix), prefix-letter (`a`–`z`) or general record for a name.
    private mutating func appendNameRecord(
        prefix: String,
        localName: String,
        records: (short: UInt8, letterA: UInt8, general: UInt8)
    ) {
        if prefix.isEmpty {
            bytes.append(records.short)
        } else if let letter = Self.letterIndex(prefix) {
            bytes.append(records.letterA + letter)
        } else {
            bytes.append(records.general)
            appendName(prefix)
        }
        appendName(localName)
    }

    mutating func attribute(prefix: String, localName: String, value: XMLTextValue) {
        if prefix == "xmlns" {
            namespaceDeclaration(prefix: localName, namespace: value.text(localOffsetMinutes: 0))
            return
        }
        if prefix.isEmpty && localName == "xmlns" {
            namespaceDeclaration(prefix: "", namespace: value.text(localOffsetMinutes: 0))
            return
        }
        pendingText = nil
        appendNameRecord(
            prefix: prefix,
            localName: localName,
            records: (NBFXRecord.shortAttribute, NBFXRecord.prefixAttributeA, NBFXRecord.attribute)
        )
        // .NET buffers an attribute's value and writes it as exactly one text record when the attribute ends.
        switch value {
        case .qualifiedName(let qPrefix, let qLocal):
            appendValue(.string(qPrefix.isEmpty ? qLocal : qPrefix + ":" + qLocal))
        default:
            appendValue(value)
        }
    }

    mutating func namespaceDeclaration(prefix: String, namespace: String) {
        pendingText = nil
        if prefix.isEmpty {
            bytes.append(NBFXRecord.shortXmlnsAttribute)
        } else {
            bytes.append(NBFXRecord.xmlnsAttribute)
            appendName(prefix)
        }
        appendName(namespace)
    }

    mutating func text(_ value: XMLTextValue) {
        for part in Self.contentRecords(value) {
            let start = bytes.count
            appendValue(part)
            pendingText = start
        }
    }

    mutating func endElement() {
        if let index = pendingText {
            bytes[index] += 1
        } else {
            bytes.append(NBFXRecord.endElement)
        }
        pendingText = nil
    }

    // MARK: - Records

    /// The values of the text records .NET writes for one piece of element content:
    /// - an empty string or byte array writes nothing (`XmlBaseWriter.WriteString`/`WriteBase64` skip them);
    /// - bytes are written whole multiples of three first, the one or two trailing bytes as a second record
    ///   (`XmlBaseWriter.WriteBase64` keeps them back until `FlushBase64`);
    /// - a qualified name with a prefix is three records, `prefix`, `:` and `localName`
    ///   (`XmlBinaryNodeWriter.WriteQualifiedName` without a dictionary).
    static func contentRecords(_ value: XMLTextValue) -> [XMLTextValue] {
        switch value {
        case .string(let text):
            return text.isEmpty ? [] : [value]
        case .bytes(let data):
            let trailing = data.count % 3
            guard data.count > 3, trailing != 0 else { return data.isEmpty ? [] : [value] }
            return [.bytes(Array(data[..<(data.count - trailing)])), .bytes(Array(data[(data.count - trailing)...]))]
        case .qualifiedName(let prefix, let localName):
            return prefix.isEmpty ? [.string(localName)] : [.string(prefix), .string(":"), .string(localName)]
        default:
            return [value]
        }
    }

    /// Appends the one text record for a value.
    private mutating func appendValue(_ value: XMLTextValue) {
        switch value {
        case .string(let text): appendChars(text)
        case .bool(let flag): bytes.append(flag ? NBFXRecord.trueText : NBFXRecord.falseText)
        case .int32(let number): appendInteger(Int64(number))
        case .int64(let number): appendInteger(number)
        case .uint64(let number):
            if let signed = Int64(exactly: number) {
                appendInteger(signed)
            } else {
                bytes.append(NBFXRecord.uint64Text)
                appendLittleEndian(number)
            }
        case .float(let number): appendFloat(number)
        case .double(let number): appendDouble(number)
        case .decimal(let number):
            bytes.append(NBFXRecord.decimalText)
            // [MS-OAUT] DECIMAL: wReserved, scale, sign, Hi32, Lo64 (the memory layout of .NET's System.Decimal).
            bytes += [0, 0, number.scale, number.isNegative ? 0x80 : 0]
            appendLittleEndian(number.high)
            appendLittleEndian(number.low)
        case .guid(let guid):
            bytes.append(NBFXRecord.uuidText)
            bytes += guid.dotNetBytes
        case .uniqueId(let guid):
            bytes.append(NBFXRecord.uniqueIdText)
            bytes += guid.dotNetBytes
        case .dateTime(let date):
            bytes.append(NBFXRecord.dateTimeText)
            appendLittleEndian(Self.binary(date))
        case .timeSpan(let ticks):
            bytes.append(NBFXRecord.timeSpanText)
            appendLittleEndian(ticks)
        case .bytes(let data):
            if data.isEmpty {
                bytes.append(NBFXRecord.emptyText)
            } else {
                appendLength(record: NBFXRecord.bytes8Text, data.count)
                bytes += data
            }
        case .qualifiedName(let prefix, let localName):
            appendChars(prefix.isEmpty ? localName : prefix + ":" + localName)
        }
    }

    /// `XmlBinaryNodeWriter.WriteInt32Text`/`WriteInt64Text`.
    private mutating func appendInteger(_ number: Int64) {
        switch number {
        case 0: bytes.append(NBFXRecord.zeroText)
        case 1: bytes.append(NBFXRecord.oneText)
        case -128...127:
            bytes.append(NBFXRecord.int8Text)
            bytes.append(UInt8(truncatingIfNeeded: number))
        case -32768...32767:
            bytes.append(NBFXRecord.int16Text)
            appendLittleEndian(Int16(truncatingIfNeeded: number))
        case Int64(Int32.min)...Int64(Int32.max):
            bytes.append(NBFXRecord.int32Text)
            appendLittleEndian(Int32(truncatingIfNeeded: number))
        default:
            bytes.append(NBFXRecord.int64Text)
            appendLittleEndian(number)
        }
    }

    /// `XmlBinaryNodeWriter.WriteFloatText`: an integral value that fits a `long` is written as an integer.
    private mutating func appendFloat(_ number: Float) {
        // -2^63 ≤ number < 2^63 (2^63 itself overflows .NET Framework's float-to-long conversion, so it stays a float).
        if number >= -0x1p63, number < 0x1p63, number.rounded(.towardZero) == number {
            appendInteger(Int64(number))
        } else {
            bytes.append(NBFXRecord.floatText)
            appendLittleEndian(number.bitPattern)
        }
    }

    /// `XmlBinaryNodeWriter.WriteDoubleText`: a value a float holds exactly is written as a float.
    private mutating func appendDouble(_ number: Double) {
        let range = -Double(Float.greatestFiniteMagnitude)...Double(Float.greatestFiniteMagnitude)
        if range.contains(number), Double(Float(number)) == number {
            appendFloat(Float(number))
        } else {
            bytes.append(NBFXRecord.doubleText)
            appendLittleEndian(number.bitPattern)
        }
    }

    /// `XmlBinaryNodeWriter.WriteText(string)`/`UnsafeWriteText`.
    private mutating func appendChars(_ text: String) {
        let utf16Count = text.utf16.count
        if text.isEmpty {
            bytes.append(NBFXRecord.emptyText)
        } else if utf16Count == 1 && text == "0" {
            bytes.append(NBFXRecord.zeroText)
        } else if utf16Count == 1 && text == "1" {
            bytes.append(NBFXRecord.oneText)
        } else if text.utf8.count / 2 > utf16Count {
            appendLength(record: NBFXRecord.unicodeChars8Text, utf16Count * 2)
            for unit in text.utf16 { appendLittleEndian(unit) }
        } else {
            appendLength(record: NBFXRecord.chars8Text, text.utf8.count)
            bytes += text.utf8
        }
    }

    /// `XmlBinaryNodeWriter.WriteTextNodeWithLength`: the 8-bit record below 256 bytes, the 16-bit one (`+ 2`)
    /// below 65536, else the 32-bit one (`+ 4`).
    private mutating func appendLength(record: UInt8, _ length: Int) {
        if length < 256 {
            bytes.append(record)
            bytes.append(UInt8(length))
        } else if length < 65536 {
            bytes.append(record + 2)
            appendLittleEndian(UInt16(length))
        } else {
            bytes.append(record + 4)
            appendLittleEndian(Int32(truncatingIfNeeded: length))
        }
    }

    /// A `String` structure (§2.1.3): a MultiByteInt31 byte count, then UTF-8.
    private mutating func appendName(_ name: String) {
        appendMultiByteInt31(name.utf8.count)
        bytes += name.utf8
    }

    /// MultiByteInt31 (§2.1.2): seven bits a byte, least significant first, high bit set on all but the last.
    private mutating func appendMultiByteInt31(_ value: Int) {
        var rest = UInt32(truncatingIfNeeded: value) & 0x7FFF_FFFF
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    private mutating func appendLittleEndian(_ value: some FixedWidthInteger) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    /// .NET `XmlBinaryNodeWriter.ToBinary`: the ticks with the kind in the top two bits (1 UTC, 2 local); for a local
    /// value the ticks are the UTC instant.
    static func binary(_ date: DotNetDateTime) -> UInt64 {
        let ticks = UInt64(bitPattern: date.ticks)
        switch date.kind {
        case .unspecified: return ticks
        case .utc: return ticks | 0x4000_0000_0000_0000
        case .local: return ticks | 0x8000_0000_0000_0000
        }
    }

    /// 0 for `a` … 25 for `z` when the prefix is that single letter.
    static func letterIndex(_ prefix: String) -> UInt8? {
        let utf8 = prefix.utf8
        guard utf8.count == 1, let first = utf8.first, first >= UInt8(ascii: "a"), first <= UInt8(ascii: "z") else {
            return nil
        }
        return first - UInt8(ascii: "a")
    }
}

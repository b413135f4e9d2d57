/// Reads [MC-NBFX] records without a dictionary (the `application/msbin1` body Dataverse posts) as XML infoset nodes.
///
/// Every non-dictionary record of [MC-NBFX] §2.2–2.3 is read. Typed text records come back as typed
/// ``XMLTextValue`` cases (`ZeroText`/`OneText` and `Int8/16/32Text` as ``XMLTextValue/int32(_:)``); a
/// `*TextWithEndElement` record yields its text and then ``XMLNode/endElement``; an `Array` record yields its element
/// once per item; a `StartListText`…`EndListText` list yields one string of its items separated by single spaces;
/// comments are skipped. Records that refer to a dictionary are rejected.
///
/// Malformed input never traps: every problem throws a ``ContextCodingError`` (format ``WireFormat/binary``) carrying
/// the offset of the record at fault. Lengths are checked against the bytes left before anything is allocated.
struct NBFXReader: XMLNodeReader {
    /// The most attributes one element may carry; real bodies have a handful.
    static let maximumAttributes = 10_000

    private let bytes: [UInt8]
    private let limits: DecodingLimits
    /// The next byte to read.
    private var position = 0
    /// The offset of the record being read, for errors.
    private var recordStart = 0
    /// The byte offset of the node last returned.
    private(set) var offset = 0
    /// Open elements.
    private var depth = 0
    private var rootStarted = false
    private var rootClosed = false
    /// Nodes still to return, last first.
    private var pending: [XMLNode] = []
    /// Items of an `Array` record still to return.
    private var arrayItems: ArrayItems?

    /// The repeated element of an `Array` record and where its values stand.
    private struct ArrayItems {
        var start: XMLNode
        var itemType: UInt8
        var remaining: Int
    }

    /// Reads `bytes`; nothing is checked until ``next()``.
    init(bytes: [UInt8], limits: DecodingLimits = .default) {
        self.bytes = bytes
        self.limits = limits
    }

    func error(_ message: String) -> ContextCodingError {
        ContextCodingError(format: .binary, offset: offset, message: message)
    }

    mutating func next() throws(ContextCodingError) -> XMLNode {
        if let node = pending.popLast() { return node }
        if let items = arrayItems { return try nextArrayItem(items) }
        guard bytes.count <= limits.maximumSize else {
            throw fail(
                "the body is \(bytes.count) bytes, more than the limit of \(limits.maximumSize) bytes",
                at: limits.maximumSize
            )
        }
        while position < bytes.count {
            recordStart = position
            offset = position
            let type = bytes[position]
            if rootClosed {
                throw fail("record \(NBFXRecord.describe(type)) follows the end of the root element")
            }
            if NBFXRecord.isDictionary(type) { throw dictionaryError(type) }
            position += 1
            switch type {
            case NBFXRecord.comment:
                _ = try readString("comment")
            case NBFXRecord.endElement:
                try closeElement(type)
                return .endElement
            case NBFXRecord.array:
                return try startArray()
            case _ where NBFXRecord.isElement(type):
                return try readElement(type)
            case NBFXRecord.attributeRange:
                throw fail("attribute record \(NBFXRecord.describe(type)) does not directly follow an element record")
            case NBFXRecord.textRange:
                return try readContentText(type)
            default:
                throw fail("unknown record type \(NBFXRecord.hex(type))")
            }
        }
        offset = bytes.count
        if depth > 0 {
            throw fail("the body ends inside \(depth) open element(s)", at: bytes.count)
        }
        guard rootStarted else { throw fail("the body has no root element", at: bytes.count) }
        return .endOfDocument
    }

    // MARK: - Elements and attributes

    /// Reads an element record and the attribute records after it.
    private mutating func readElement(_ type: UInt8) throws(ContextCodingError) -> XMLNode {
        guard depth < limits.maximumDepth else {
            throw fail("elements nest deeper than the limit of \(limits.maximumDepth)")
        }
        let prefix: String
        switch type {
        case NBFXRecord.shortElement: prefix = ""
        case NBFXRecord.element: prefix = try readName("element prefix")
        default: prefix = NBFXRecord.prefixLetter(type - NBFXRecord.prefixElementA)
        }
        let localName = try readName("element name")
        var attributes: [XMLAttribute] = []
        while position < bytes.count, NBFXRecord.attributeRange.contains(bytes[position]) {
            guard attributes.count < Self.maximumAttributes else {
                throw fail("an element has more than \(Self.maximumAttributes) attributes", at: position)
            }
            recordStart = position
            let attributeType = bytes[position]
            if NBFXRecord.isDictionary(attributeType) { throw dictionaryError(attributeType) }
            position += 1
            attributes.append(try readAttribute(attributeType))
        }
        depth += 1
        rootStarted = true
        return .startElement(prefix: prefix, localName: localName, attributes: attributes)
    }

    /// Reads the rest of a non-dictionary attribute record (0x04, 0x05, 0x08, 0x09, 0x26–0x3F).
    private mutating func readAttribute(_ type: UInt8) throws(ContextCodingError) -> XMLAttribute {
        switch type {
        case NBFXRecord.shortXmlnsAttribute:
            return XMLAttribute(prefix: "", localName: "xmlns", value: .string(try readString("namespace")))
        case NBFXRecord.xmlnsAttribute:
            let prefix = try readName("namespace prefix")
            return XMLAttribute(prefix: "xmlns", localName: prefix, value: .string(try readString("namespace")))
        default:
            let prefix: String
            switch type {
            case NBFXRecord.shortAttribute: prefix = ""
            case NBFXRecord.attribute: prefix = try readName("attribute prefix")
            default: prefix = NBFXRecord.prefixLetter(type - NBFXRecord.prefixAttributeA)
            }
            let localName = try readName("attribute name")
            if prefix == "xmlns" || (prefix.isEmpty && localName == "xmlns") {
                throw fail("attribute record \(NBFXRecord.describe(type)) names xmlns, which only xmlns records may")
            }
            return XMLAttribute(prefix: prefix, localName: localName, value: try readAttributeValue())
        }
    }

    /// Reads the single text record that is an attribute's value.
    private mutating func readAttributeValue() throws(ContextCodingError) -> XMLTextValue {
        guard position < bytes.count else { throw truncated("an attribute value record") }
        recordStart = position
        let type = bytes[position]
        if NBFXRecord.isDictionary(type) { throw dictionaryError(type) }
        guard NBFXRecord.textRange.contains(type), type & 1 == 0, type != NBFXRecord.endListText else {
            throw fail("attribute value record \(NBFXRecord.describe(type)) is not a text record")
        }
        position += 1
        return try readValue(type)
    }

    /// Closes the innermost open element.
    private mutating func closeElement(_ type: UInt8) throws(ContextCodingError) {
        guard depth > 0 else {
            throw fail("record \(NBFXRecord.describe(type)) ends an element, but no element is open")
        }
        depth -= 1
        if depth == 0 { rootClosed = true }
    }

    // MARK: - Arrays

    /// `Array` (§2.3.3): an element record, `EndElement`, the item record type, a MultiByteInt31 count and the values.
    private mutating func startArray() throws(ContextCodingError) -> XMLNode {
        let arrayStart = recordStart
        guard position < bytes.count else { throw truncated("an Array record") }
        recordStart = position
        let elementType = bytes[position]
        if NBFXRecord.isDictionary(elementType) { throw dictionaryError(elementType) }
        guard NBFXRecord.isElement(elementType) else {
            throw fail("an Array record holds \(NBFXRecord.describe(elementType)) instead of an element record")
        }
        position += 1
        let start = try readElement(elementType)
        depth -= 1
        recordStart = arrayStart
        guard position < bytes.count else { throw truncated("an Array record") }
        guard bytes[position] == NBFXRecord.endElement else {
            throw fail("the element of an Array record is followed by \(NBFXRecord.describe(bytes[position]))")
        }
        guard position + 1 < bytes.count else { throw truncated("an Array record") }
        let itemType = bytes[position + 1]
        position += 2
        guard let itemSize = NBFXRecord.arrayItemSize(itemType) else {
            throw fail("an Array record has items of type \(NBFXRecord.describe(itemType)), which arrays may not use")
        }
        let count = try readMultiByteInt31()
        guard count > 0 else { throw fail("an Array record has no items") }
        if depth == 0 && count > 1 {
            throw fail("an Array record repeats the root element \(count) times")
        }
        let (total, overflow) = count.multipliedReportingOverflow(by: itemSize)
        guard !overflow, total <= bytes.count - position else {
            throw fail(
                "an Array record announces \(count) items of \(itemSize) bytes; only \(bytes.count - position) remain"
            )
        }
        return try nextArrayItem(ArrayItems(start: start, itemType: itemType, remaining: count))
    }

    /// Returns the next repetition of an array's element, with its value and end queued.
    private mutating func nextArrayItem(_ items: ArrayItems) throws(ContextCodingError) -> XMLNode {
        var items = items
        recordStart = position
        offset = position
        let value = try readValue(items.itemType - 1)
        items.remaining -= 1
        arrayItems = items.remaining > 0 ? items : nil
        rootStarted = true
        if depth == 0 && items.remaining == 0 { rootClosed = true }
        pending = [.endElement, .text(value)]
        return items.start
    }

    // MARK: - Text

    /// A text record in element content; a `*WithEndElement` record also queues the end of the element.
    private mutating func readContentText(_ type: UInt8) throws(ContextCodingError) -> XMLNode {
        let base = type & ~1
        guard type != 0xA5, type != 0xA7 else { throw fail("unknown record type \(NBFXRecord.hex(type))") }
        guard base != NBFXRecord.endListText else {
            throw fail("record \(NBFXRecord.describe(type)) has no StartListText record before it")
        }
        guard depth > 0 else {
            throw fail("text record \(NBFXRecord.describe(type)) is outside the root element")
        }
        let value = try readValue(base)
        if type != base {
            try closeElement(type)
            pending = [.endElement]
        }
        return .text(value)
    }

    /// Reads the fields of a plain (even) text record whose type byte has been read.
    private mutating func readValue(_ type: UInt8) throws(ContextCodingError) -> XMLTextValue {
        switch type {
        case NBFXRecord.zeroText: return .int32(0)
        case NBFXRecord.oneText: return .int32(1)
        case NBFXRecord.falseText: return .bool(false)
        case NBFXRecord.trueText: return .bool(true)
        case NBFXRecord.boolText:
            let flag = try readByte(type)
            guard flag <= 1 else { throw fail("BoolText value \(flag) is neither 0 nor 1") }
            return .bool(flag == 1)
        case NBFXRecord.int8Text: return .int32(Int32(Int8(bitPattern: try readByte(type))))
        case NBFXRecord.int16Text: return .int32(Int32(Int16(truncatingIfNeeded: try readInteger(2, type))))
        case NBFXRecord.int32Text: return .int32(Int32(truncatingIfNeeded: try readInteger(4, type)))
        case NBFXRecord.int64Text: return .int64(Int64(bitPattern: try readInteger(8, type)))
        case NBFXRecord.uint64Text: return .uint64(try readInteger(8, type))
        case NBFXRecord.floatText: return .float(Float(bitPattern: UInt32(try readInteger(4, type))))
        case NBFXRecord.doubleText: return .double(Double(bitPattern: try readInteger(8, type)))
        case NBFXRecord.decimalText: return .decimal(try readDecimal())
        case NBFXRecord.dateTimeText: return .dateTime(try readDateTime())
        case NBFXRecord.timeSpanText: return .timeSpan(Int64(bitPattern: try readInteger(8, type)))
        // readFixed returns exactly 16 bytes, so the GUIDs below always exist.
        case NBFXRecord.uuidText: return .guid(Guid(dotNetBytes: try readFixed(16, type))!)
        case NBFXRecord.uniqueIdText: return .uniqueId(Guid(dotNetBytes: try readFixed(16, type))!)
        case NBFXRecord.emptyText: return .string("")
        case NBFXRecord.chars8Text, NBFXRecord.chars8Text + 2, NBFXRecord.chars8Text + 4:
            let length = try readLength(type, wide: type - NBFXRecord.chars8Text)
            return .string(try decodeUTF8(try readFixed(length, type), what: NBFXRecord.name(type)))
        case NBFXRecord.bytes8Text, NBFXRecord.bytes8Text + 2, NBFXRecord.bytes8Text + 4:
            let length = try readLength(type, wide: type - NBFXRecord.bytes8Text)
            return .bytes(Array(try readFixed(length, type)))
        case NBFXRecord.unicodeChars8Text, NBFXRecord.unicodeChars8Text + 2, NBFXRecord.unicodeChars8Text + 4:
            let length = try readLength(type, wide: type - NBFXRecord.unicodeChars8Text)
            guard length % 2 == 0 else { throw fail("\(NBFXRecord.name(type)) has an odd length \(length)") }
            return .string(try decodeUTF16(try readFixed(length, type), what: NBFXRecord.name(type)))
        case NBFXRecord.startListText: return .string(try readList())
        default: throw fail("record \(NBFXRecord.describe(type)) is not a text record")
        }
    }

    /// `StartListText` (§2.2.3.19): plain text records up to `EndListText`, read as their text joined by spaces.
    private mutating func readList() throws(ContextCodingError) -> String {
        var items: [String] = []
        while true {
            guard position < bytes.count else { throw truncated("a StartListText list") }
            recordStart = position
            let type = bytes[position]
            if NBFXRecord.isDictionary(type) { throw dictionaryError(type) }
            position += 1
            if type == NBFXRecord.endListText { return items.joined(separator: " ") }
            guard NBFXRecord.textRange.contains(type), type & 1 == 0, type != NBFXRecord.startListText else {
                throw fail("record \(NBFXRecord.describe(type)) may not appear inside a StartListText list")
            }
            items.append(try readValue(type).text(localOffsetMinutes: 0))
        }
    }

    /// [MS-OAUT] DECIMAL: wReserved (ignored), scale, sign, Hi32, Lo64.
    private mutating func readDecimal() throws(ContextCodingError) -> DotNetDecimal {
        let field = try readFixed(16, NBFXRecord.decimalText)
        let start = field.startIndex
        let scale = field[start + 2]
        let sign = field[start + 3]
        guard sign == 0 || sign == 0x80 else {
            throw fail("DecimalText sign byte \(NBFXRecord.hex(sign)) is not 0 or 0x80")
        }
        let high = UInt32(truncatingIfNeeded: Self.littleEndian(field[(start + 4)..<(start + 8)]))
        let low = Self.littleEndian(field[(start + 8)..<(start + 16)])
        guard let value = DotNetDecimal(high: high, low: low, scale: scale, isNegative: sign == 0x80) else {
            throw fail("DecimalText scale \(scale) is above 28")
        }
        return value
    }

    /// Ticks in the low 62 bits, the kind in the top two (0 unspecified, 1 UTC, 2 local with UTC ticks).
    private mutating func readDateTime() throws(ContextCodingError) -> DotNetDateTime {
        let raw = try readInteger(8, NBFXRecord.dateTimeText)
        let ticks = Int64(raw & 0x3FFF_FFFF_FFFF_FFFF)
        let kind: DotNetDateTime.Kind
        switch raw >> 62 {
        case 0: kind = .unspecified
        case 1: kind = .utc
        case 2: kind = .local(offsetMinutes: nil)
        default: throw fail("DateTimeText has the invalid kind 3")
        }
        guard let date = DotNetDateTime(ticks: ticks, kind: kind) else {
            throw fail("DateTimeText ticks \(ticks) are past 9999-12-31")
        }
        return date
    }

    // MARK: - Primitives

    /// The length field of a `*8`/`*16`/`*32` record: `wide` is 0, 2 or 4.
    private mutating func readLength(_ type: UInt8, wide: UInt8) throws(ContextCodingError) -> Int {
        switch wide {
        case 0: return Int(try readByte(type))
        case 2: return Int(try readInteger(2, type))
        default:
            let length = Int32(truncatingIfNeeded: try readInteger(4, type))
            guard length >= 0 else { throw fail("\(NBFXRecord.name(type)) has the negative length \(length)") }
            return Int(length)
        }
    }

    /// One byte of a record's fields.
    private mutating func readByte(_ type: UInt8) throws(ContextCodingError) -> UInt8 {
        UInt8(truncatingIfNeeded: try readInteger(1, type))
    }

    /// A little-endian unsigned integer of `size` bytes.
    private mutating func readInteger(_ size: Int, _ type: UInt8) throws(ContextCodingError) -> UInt64 {
        Self.littleEndian(try readFixed(size, type))
    }

    private static func littleEndian(_ field: ArraySlice<UInt8>) -> UInt64 {
        var value: UInt64 = 0
        for byte in field.reversed() { value = value << 8 | UInt64(byte) }
        return value
    }

    /// The next `count` bytes, after checking they are there.
    private mutating func readFixed(_ count: Int, _ type: UInt8) throws(ContextCodingError) -> ArraySlice<UInt8> {
        guard count <= bytes.count - position else {
            throw fail(
                "\(NBFXRecord.name(type)) record needs \(count) more bytes; only \(bytes.count - position) remain"
            )
        }
        defer { position += count }
        return bytes[position..<(position + count)]
    }

    /// MultiByteInt31 (§2.1.2): up to five bytes, seven bits each, least significant first.
    private mutating func readMultiByteInt31() throws(ContextCodingError) -> Int {
        var value = 0
        for index in 0..<5 {
            guard position < bytes.count else { throw truncated("a MultiByteInt31") }
            let byte = bytes[position]
            position += 1
            if index == 4 {
                guard byte <= 0x07 else { throw fail("a MultiByteInt31 is larger than 2^31 - 1") }
                return value | Int(byte) << 28
            }
            value |= Int(byte & 0x7F) << (7 * index)
            if byte & 0x80 == 0 { return value }
        }
        return value
    }

    /// A `String` structure (§2.1.3): MultiByteInt31 length, then UTF-8.
    private mutating func readString(_ what: String) throws(ContextCodingError) -> String {
        let length = try readMultiByteInt31()
        guard length <= bytes.count - position else {
            throw fail("the \(what) needs \(length) bytes; only \(bytes.count - position) remain")
        }
        defer { position += length }
        return try decodeUTF8(bytes[position..<(position + length)], what: "the " + what)
    }

    /// A name, which may not be empty.
    private mutating func readName(_ what: String) throws(ContextCodingError) -> String {
        let name = try readString(what)
        guard !name.isEmpty else { throw fail("the \(what) is empty") }
        return name
    }

    private func decodeUTF8(_ field: ArraySlice<UInt8>, what: String) throws(ContextCodingError) -> String {
        guard let text = String(validating: field, as: UTF8.self) else { throw fail("\(what) is not valid UTF-8") }
        return text
    }

    private func decodeUTF16(_ field: ArraySlice<UInt8>, what: String) throws(ContextCodingError) -> String {
        var units: [UInt16] = []
        units.reserveCapacity(field.count / 2)
        var index = field.startIndex
        while index + 1 < field.endIndex {
            units.append(UInt16(field[index]) | UInt16(field[index + 1]) << 8)
            index += 2
        }
        guard let text = String(validating: units, as: UTF16.self) else { throw fail("\(what) is not valid UTF-16") }
        return text
    }

    // MARK: - Errors

    private func fail(_ message: String, at position: Int? = nil) -> ContextCodingError {
        ContextCodingError(format: .binary, offset: position ?? recordStart, message: message)
    }

    private func truncated(_ what: String) -> ContextCodingError {
        fail("the body ends in the middle of \(what)", at: bytes.count)
    }

    private func dictionaryError(_ type: UInt8) -> ContextCodingError {
        fail(
            "dictionary record \(NBFXRecord.describe(type)) at byte \(recordStart): this body uses a WCF dictionary "
                + "([MC-NBFS]/[MC-NBFSE]), which Dataverse's application/msbin1 bodies never do"
        )
    }
}

import ConduitTestSupport
import Testing

@testable import ConduitContext

// MARK: - Helpers

/// Bytes from hex pairs separated by spaces, as [MC-NBFX] §3 prints them.
private func hex(_ text: String) -> [UInt8] {
    text.split(separator: " ").compactMap { UInt8($0, radix: 16) }
}

/// Every node up to (not including) the end of the document.
private func readAll(_ input: [UInt8], limits: DecodingLimits = .default) throws(ContextCodingError) -> [XMLNode] {
    var reader = NBFXReader(bytes: input, limits: limits)
    var nodes: [XMLNode] = []
    while true {
        let node = try reader.next()
        if node == .endOfDocument { return nodes }
        nodes.append(node)
    }
}

/// Writes nodes through the writer the way a serializer would call it.
private func replay(_ nodes: [XMLNode]) -> [UInt8] {
    var writer = NBFXWriter()
    for node in nodes {
        switch node {
        case .startElement(let prefix, let localName, let attributes):
            writer.startElement(prefix: prefix, localName: localName)
            for attribute in attributes {
                if attribute.isNamespaceDeclaration, case .string(let namespace) = attribute.value {
                    let prefix = attribute.prefix.isEmpty ? "" : attribute.localName
                    writer.namespaceDeclaration(prefix: prefix, namespace: namespace)
                } else {
                    writer.attribute(prefix: attribute.prefix, localName: attribute.localName, value: attribute.value)
                }
            }
        case .text(let value): writer.text(value)
        case .endElement: writer.endElement()
        case .endOfDocument: break
        }
    }
    return writer.bytes
}

private func start(_ localName: String, prefix: String = "", _ attributes: [XMLAttribute] = []) -> XMLNode {
    .startElement(prefix: prefix, localName: localName, attributes: attributes)
}

private func attr(_ prefix: String, _ localName: String, _ value: XMLTextValue) -> XMLAttribute {
    XMLAttribute(prefix: prefix, localName: localName, value: value)
}

private func xmlns(_ prefix: String, _ namespace: String) -> XMLAttribute {
    prefix.isEmpty
        ? XMLAttribute(prefix: "", localName: "xmlns", value: .string(namespace))
        : XMLAttribute(prefix: "xmlns", localName: prefix, value: .string(namespace))
}

private func date(_ ticks: Int64, _ kind: DotNetDateTime.Kind) -> DotNetDateTime {
    DotNetDateTime(ticks: ticks, kind: kind) ?? DotNetDateTime(ticks: 0, kind: .utc)!
}

private func decimal(high: UInt32 = 0, _ low: UInt64, scale: UInt8, negative: Bool = false) -> DotNetDecimal {
    DotNetDecimal(high: high, low: low, scale: scale, isNegative: negative) ?? DotNetDecimal(0)
}

private let guid = Guid("33221100-5544-7766-8899-aabbccddeeff") ?? .empty
private let uuid = Guid("03020100-0504-0706-0809-0a0b0c0d0e0f") ?? .empty

// Fragments of the §3 examples.
private let doc = "40 03 64 6F 63"  // ShortElement "doc"
private let hello = "05 68 65 6C 6C 6F"  // "hello" with its 1-byte length
private let abc = "0A 68 74 74 70 3A 2F 2F 61 62 63"  // String "http://abc"
private let base64 = "40 06 42 61 73 65 36 34"  // ShortElement "Base64"
private let bytes0to7 = "00 01 02 03 04 05 06 07"
private let bytes0to15 = "00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F"
private let ff12 = "FF FF FF FF FF FF FF FF FF FF FF FF"
private let bytes00toFF = "00 11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF"

// MARK: - [MC-NBFX] §3 examples

/// One §3 example: its bytes and the nodes they read as.
struct SpecExample: Sendable, CustomTestStringConvertible {
    var name: String
    var bytes: String
    var nodes: [XMLNode]
    var testDescription: String { name }
}

private func spec(_ name: String, _ bytes: String, _ nodes: [XMLNode]) -> SpecExample {
    SpecExample(name: name, bytes: bytes, nodes: nodes)
}

/// `<name>value</name>`.
private func element(_ name: String, _ value: XMLTextValue) -> [XMLNode] {
    [start(name), .text(value), .endElement]
}

/// `<doc name="value"></doc>`.
private func docAttribute(_ name: String, _ value: XMLTextValue) -> [XMLNode] {
    [start("doc", [attr("", name, value)]), .endElement]
}

/// `<r><arr>v1</arr><arr>v2</arr>…</r>`.
private func array(_ values: [XMLTextValue]) -> [XMLNode] {
    [start("r")] + values.flatMap { element("arr", $0) } + [.endElement]
}

/// The §3 examples that use no dictionary and that .NET's writer produces byte for byte. Those §3 shows as a
/// fragment (no single root) or with dictionary names are wrapped in or renamed to a `ShortElement`, keeping the record
/// under test byte for byte.
let writtenExamples: [SpecExample] = [
    spec("EndElement", "\(doc) 01", [start("doc"), .endElement]),
    spec("ShortAttribute", "\(doc) 04 04 61 74 74 72 84 01", docAttribute("attr", .bool(false))),
    spec(
        "Attribute",
        "\(doc) 09 03 70 72 65 \(abc) 05 03 70 72 65 04 61 74 74 72 84 01",
        [start("doc", [xmlns("pre", "http://abc"), attr("pre", "attr", .bool(false))]), .endElement]
    ),
    spec("ShortXmlnsAttribute", "\(doc) 08 \(abc) 01", [start("doc", [xmlns("", "http://abc")]), .endElement]),
    spec("XmlnsAttribute", "\(doc) 09 01 70 \(abc) 01", [start("doc", [xmlns("p", "http://abc")]), .endElement]),
    spec(
        "PrefixAttributeK",
        "\(doc) 09 01 6B \(abc) 30 04 61 74 74 72 86 01",
        [start("doc", [xmlns("k", "http://abc"), attr("k", "attr", .bool(true))]), .endElement]
    ),
    spec(
        "PrefixAttributeZ",
        "\(doc) 09 01 7A \(abc) 3F 03 61 62 63 98 03 78 79 7A 01",
        [start("doc", [xmlns("z", "http://abc"), attr("z", "abc", .string("xyz"))]), .endElement]
    ),
    spec(
        "Element",
        "41 03 70 72 65 03 64 6F 63 09 03 70 72 65 \(abc) 01",
        [start("doc", prefix: "pre", [xmlns("pre", "http://abc")]), .endElement]
    ),
    spec(
        "PrefixElementA",
        "5E \(hello) 09 01 61 \(abc) 01",
        [start("hello", prefix: "a", [xmlns("a", "http://abc")]), .endElement]
    ),
    spec(
        "PrefixElementS",
        "70 09 4D 79 4D 65 73 73 61 67 65 09 01 73 \(abc) 01",
        [start("MyMessage", prefix: "s", [xmlns("s", "http://abc")]), .endElement]
    ),
    spec("ZeroTextWithEndElement", "40 03 61 62 63 81", element("abc", .int32(0))),
    spec("OneTextWithEndElement", "40 03 61 62 63 83", element("abc", .int32(1))),
    spec("FalseTextWithEndElement", "40 03 61 62 63 85", element("abc", .bool(false))),
    spec("TrueTextWithEndElement", "40 03 61 62 63 87", element("abc", .bool(true))),
    spec("Int8Text", "\(doc) 04 01 61 88 DE 01", docAttribute("a", .int32(-34))),
    spec("Int8TextWithEndElement", "40 01 61 89 7F", element("a", .int32(127))),
    spec("Int16Text", "\(doc) 04 01 61 8A 00 80 01", docAttribute("a", .int32(-32768))),
    spec("Int16TextWithEndElement", "40 01 61 8B FF 7F", element("a", .int32(32767))),
    spec("Int32Text", "\(doc) 04 01 61 8C 15 CD 5B 07 01", docAttribute("a", .int32(123_456_789))),
    spec("Int32TextWithEndElement", "40 01 61 8D FF FF FF 7F", element("a", .int32(.max))),
    spec("Int64Text", "\(doc) 04 01 61 8E 00 00 00 80 00 00 00 00 01", docAttribute("a", .int64(2_147_483_648))),
    spec("Int64TextWithEndElement", "40 01 61 8F 00 00 00 00 00 01 00 00", element("a", .int64(1 << 40))),
    spec("FloatText", "\(doc) 04 01 61 90 CD CC 8C 3F 01", docAttribute("a", .float(1.1))),
    spec("FloatTextWithEndElement", "40 05 50 72 69 63 65 91 CD CC 01 42", element("Price", .float(32.45))),
    spec(
        "DoubleText",
        "\(doc) 04 01 61 92 74 57 14 8B 0A BF 05 40 01",
        docAttribute("a", .double(Double(bitPattern: 0x4005_BF0A_8B14_5774)))
    ),
    spec(
        "DoubleTextWithEndElement",
        "40 02 50 49 93 11 2D 44 54 FB 21 09 40",
        element("PI", .double(Double(bitPattern: 0x4009_21FB_5444_2D11)))
    ),
    spec(
        "DecimalText",
        "\(doc) 04 03 69 6E 74 94 00 00 06 00 00 00 00 00 80 2D 4E 00 00 00 00 00 01",
        docAttribute("int", .decimal(decimal(5_123_456, scale: 6)))
    ),
    spec(
        "DecimalTextWithEndElement",
        "40 08 4D 61 78 56 61 6C 75 65 95 00 00 00 00 \(ff12)",
        element("MaxValue", .decimal(decimal(high: .max, .max, scale: 0)))
    ),
    spec(
        "DateTimeTextWithEndElement",
        "\(doc) 97 FF 3F 37 F4 75 28 CA 2B",
        element("doc", .dateTime(date(DotNetDateTime.maxTicks, .unspecified)))
    ),
    spec(
        "DateTimeTextWithEndElement",
        "40 01 61 97 00 40 8E F9 5B 47 C8 08",
        element("a", .dateTime(DotNetDateTime(xmlText: "2006-05-17T00:00:00") ?? date(0, .utc)))
    ),
    spec("Chars8TextWithEndElement", "40 01 61 99 \(hello)", element("a", .string("hello"))),
    spec("EmptyText", "\(doc) 04 01 61 A8 01", docAttribute("a", .string(""))),
    spec("UniqueIdTextWithEndElement", "40 01 61 AD \(bytes00toFF)", element("a", .uniqueId(guid))),
    spec("TimeSpanTextWithEndElement", "40 01 61 AF 00 B0 8E F0 1B 00 00 00", element("a", .timeSpan(120_000_000_000))),
    spec("UuidTextWithEndElement", "40 02 49 44 B1 \(bytes0to15)", element("ID", .guid(uuid))),
    spec("UInt64TextWithEndElement", "40 01 61 B3 FE FF FF FF FF FF FF FF", element("a", .uint64(.max - 1))),
]

/// The §3 examples that .NET reads but does not write this way (a plain text record and `EndElement` where .NET
/// writes `*WithEndElement`, records .NET never picks, lists, arrays, comments).
let readExamples: [SpecExample] = [
    spec("Comment", "02 07 63 6F 6D 6D 65 6E 74 \(doc) 01", [start("doc"), .endElement]),
    spec(
        "Array",
        "40 01 72 03 40 03 61 72 72 01 8B 03 33 33 88 88 DD DD 01",
        array([13107, -30584, -8739].map { .int32($0) })
    ),
    spec("Chars8Text", "\(doc) 98 \(hello) 01", element("doc", .string("hello"))),
    spec("Chars16Text", "\(doc) 9A 05 00 68 65 6C 6C 6F 01", element("doc", .string("hello"))),
    spec("Chars16TextWithEndElement", "40 01 61 9B 05 00 68 65 6C 6C 6F", element("a", .string("hello"))),
    spec("Chars32Text", "\(doc) 9C 05 00 00 00 68 65 6C 6C 6F 01", element("doc", .string("hello"))),
    spec("Chars32TextWithEndElement", "40 01 61 9D 05 00 00 00 68 65 6C 6C 6F", element("a", .string("hello"))),
    spec("Bytes8Text", "\(doc) 9E 08 \(bytes0to7) 01", element("doc", .bytes(Array(0...7)))),
    spec("Bytes8TextWithEndElement", "\(base64) 9F 08 \(bytes0to7)", element("Base64", .bytes(Array(0...7)))),
    spec("Bytes16Text", "\(doc) A0 08 00 \(bytes0to7) 01", element("doc", .bytes(Array(0...7)))),
    spec("Bytes16TextWithEndElement", "\(base64) A1 08 00 \(bytes0to7)", element("Base64", .bytes(Array(0...7)))),
    spec("Bytes32Text", "\(doc) A2 08 00 00 00 \(bytes0to7) 01", element("doc", .bytes(Array(0...7)))),
    spec("Bytes32TextWithEndElement", "\(base64) A3 08 00 00 00 \(bytes0to7)", element("Base64", .bytes(Array(0...7)))),
    spec(
        "StartListText/EndListText",
        "\(doc) 04 01 61 A4 88 7B 98 \(hello) 86 A6 01",
        docAttribute("a", .string("123 hello true"))
    ),
    spec("EmptyTextWithEndElement", "\(doc) A9", element("doc", .string(""))),
    spec("UniqueIdText", "\(doc) AC \(bytes00toFF) 01", element("doc", .uniqueId(guid))),
    spec("TimeSpanText", "\(doc) AE 00 C4 F5 32 FF FF FF FF 01", element("doc", .timeSpan(-3_440_000_000))),
    spec("UuidText", "\(doc) B0 \(bytes0to15) 01", element("doc", .guid(uuid))),
    spec("UInt64Text", "\(doc) B2 FF FF FF FF FF FF FF FF 01", element("doc", .uint64(.max))),
    spec("BoolText", "\(doc) B4 01 01", element("doc", .bool(true))),
    spec(
        "BoolTextWithEndElement",
        "40 01 72 03 40 03 61 72 72 01 B5 05 01 00 01 00 01 01",
        array([true, false, true, false, true].map { .bool($0) })
    ),
    spec("UnicodeChars8Text", "\(doc) 04 01 75 B6 06 75 00 6E 00 69 00 01", docAttribute("u", .string("uni"))),
    spec("UnicodeChars8TextWithEndElement", "40 01 55 B7 06 75 00 6E 00 69 00", element("U", .string("uni"))),
    spec(
        "UnicodeChars16Text",
        "\(doc) 04 03 75 31 36 B8 08 00 75 00 6E 00 69 00 32 00 01",
        docAttribute("u16", .string("uni2"))
    ),
    spec(
        "UnicodeChars16TextWithEndElement",
        "40 03 55 31 36 B9 08 00 75 00 6E 00 69 00 32 00",
        element("U16", .string("uni2"))
    ),
    spec(
        "UnicodeChars32Text",
        "\(doc) 04 03 75 33 32 BA 04 00 00 00 33 00 32 00 01",
        docAttribute("u32", .string("32"))
    ),
    spec(
        "UnicodeChars32TextWithEndElement",
        "40 03 55 33 32 BB 04 00 00 00 33 00 32 00",
        element("U32", .string("32"))
    ),
]

@Test(arguments: writtenExamples + readExamples)
func specExampleReads(_ example: SpecExample) throws {
    #expect(try readAll(hex(example.bytes)) == example.nodes)
}

@Test(arguments: writtenExamples)
func specExampleWrites(_ example: SpecExample) {
    #expect(replay(example.nodes) == hex(example.bytes))
}

// MARK: - Round trips

/// A value written as element content and as an attribute, and what the reader gives back: .NET's writer picks the
/// smallest record, so a number may come back as a smaller type, and some values take several records.
struct RoundTrip: Sendable, CustomTestStringConvertible {
    var value: XMLTextValue
    var content: [XMLTextValue]
    var attribute: XMLTextValue
    var testDescription: String { "\(value)" }

    init(_ value: XMLTextValue, content: [XMLTextValue]? = nil, attribute: XMLTextValue? = nil) {
        self.value = value
        self.content = content ?? [value]
        self.attribute = attribute ?? content?.first ?? value
    }
}

let roundTrips: [RoundTrip] = [
    .init(.string("hello")),
    .init(.string(""), content: [], attribute: .string("")),
    .init(.string("0"), content: [.int32(0)]),
    .init(.string("1"), content: [.int32(1)]),
    .init(.string("日本語テキスト")),
    .init(.string(String(repeating: "x", count: 300))),
    .init(.string(String(repeating: "é", count: 40_000))),
    .init(.bool(true)), .init(.bool(false)),
    .init(.int32(-128)), .init(.int32(-129)), .init(.int32(32768)), .init(.int32(.min)), .init(.int32(.max)),
    .init(.int64(.min)), .init(.int64(42), content: [.int32(42)]), .init(.int64(Int64(Int32.max) + 1)),
    .init(.uint64(.max)), .init(.uint64(200), content: [.int32(200)]),
    .init(.uint64(UInt64(Int64.max)), content: [.int64(.max)]),
    .init(.float(1.1)), .init(.float(-3), content: [.int32(-3)]), .init(.float(.infinity)),
    .init(.float(0x1p63)), .init(.float(-0x1p63), content: [.int64(.min)]),
    .init(.double(0.1)), .init(.double(0.5), content: [.float(0.5)]), .init(.double(-7), content: [.int32(-7)]),
    .init(.double(1e300)), .init(.double(-0.0), content: [.int32(0)]), .init(.double(-.infinity)),
    .init(.decimal(decimal(5_123_456, scale: 6))), .init(.decimal(decimal(high: 7, 1, scale: 28, negative: true))),
    .init(.guid(guid)), .init(.uniqueId(guid)),
    .init(.dateTime(date(636_420_950_480_000_000, .utc))),
    .init(.dateTime(date(636_420_950_480_000_000, .unspecified))),
    .init(
        .dateTime(date(636_420_950_480_000_000, .local(offsetMinutes: -420))),
        content: [.dateTime(date(636_420_950_480_000_000, .local(offsetMinutes: nil)))]
    ),
    .init(.timeSpan(-3_440_000_000)),
    .init(.bytes([]), content: [], attribute: .string("")),
    .init(.bytes([1, 2])), .init(.bytes([1, 2, 3])),
    .init(
        .bytes([1, 2, 3, 4, 5]),
        content: [.bytes([1, 2, 3]), .bytes([4, 5])],
        attribute: .bytes([1, 2, 3, 4, 5])
    ),
    .init(.bytes(Array(repeating: 9, count: 300))),
    .init(
        .bytes(Array(repeating: 7, count: 70_001)),
        content: [.bytes(Array(repeating: 7, count: 69_999)), .bytes([7, 7])],
        attribute: .bytes(Array(repeating: 7, count: 70_001))
    ),
    .init(
        .qualifiedName(prefix: "a", localName: "Entity"),
        content: [.string("a"), .string(":"), .string("Entity")],
        attribute: .string("a:Entity")
    ),
    .init(.qualifiedName(prefix: "", localName: "Entity"), content: [.string("Entity")]),
]

@Test(arguments: roundTrips)
func valueRoundTrips(_ trip: RoundTrip) throws {
    var writer = NBFXWriter()
    writer.startElement(prefix: "", localName: "r")
    writer.attribute(prefix: "", localName: "v", value: trip.value)
    writer.text(trip.value)
    writer.endElement()
    let expected = [start("r", [attr("", "v", trip.attribute)])] + trip.content.map { XMLNode.text($0) } + [.endElement]
    #expect(try readAll(writer.bytes) == expected)
}

@Test func nanRoundTripsBitForBit() throws {
    for value in [XMLTextValue.double(.nan), .float(.nan)] {
        let nodes = try readAll(replay([start("r"), .text(value), .endElement]))
        guard nodes.count == 3 else {
            Issue.record("read \(nodes)")
            continue
        }
        switch (value, nodes[1]) {
        case (.double(let written), .text(.double(let read))): #expect(written.bitPattern == read.bitPattern)
        case (.float(let written), .text(.float(let read))): #expect(written.bitPattern == read.bitPattern)
        default: Issue.record("NaN came back as \(nodes[1])")
        }
    }
}

@Test func writerPicksTheRecordsDotNetPicks() {
    func content(_ value: XMLTextValue) -> [UInt8] {
        Array(replay([start("a"), .text(value), .endElement]).dropFirst(3))
    }
    #expect(content(.int32(-129)) == hex("8B 7F FF"))
    #expect(content(.double(0.5)) == hex("91 00 00 00 3F"))
    #expect(content(.double(3)) == hex("89 03"))
    #expect(content(.float(0x1p63)) == hex("91 00 00 00 5F"))
    #expect(content(.string("日")) == hex("99 03 E6 97 A5"))
    #expect(content(.string("日本")) == hex("B7 04 E5 65 2C 67"))
    #expect(Array(content(.string(String(repeating: "a", count: 255))).prefix(2)) == hex("99 FF"))
    #expect(Array(content(.string(String(repeating: "a", count: 256))).prefix(3)) == hex("9B 00 01"))
    #expect(Array(content(.string(String(repeating: "a", count: 65536))).prefix(5)) == hex("9D 00 00 01 00"))
    #expect(content(.bytes([1, 2, 3, 4])) == hex("9E 03 01 02 03 9F 01 04"))
    #expect(content(.qualifiedName(prefix: "b", localName: "x")) == hex("98 01 62 98 01 3A 99 01 78"))
    #expect(content(.dateTime(date(1, .local(offsetMinutes: 60)))) == hex("97 01 00 00 00 00 00 00 80"))
    #expect(content(.dateTime(date(1, .utc))) == hex("97 01 00 00 00 00 00 00 40"))
    #expect(
        content(.decimal(decimal(1, scale: 2, negative: true)))
            == hex("95 00 00 02 80 00 00 00 00 01 00 00 00 00 00 00 00")
    )
    #expect(content(.string("")) == hex("01"))
}

// MARK: - WithEndElement

@Test func onlyTheLastTextBeforeAnEndUsesWithEndElement() {
    let bytes = replay([
        start("a", [attr("", "n", .int32(5))]),
        .text(.string("x")), start("b"), .endElement, .text(.int32(7)), .text(.bool(true)), .endElement,
    ])
    // a n=Int8Text(5), Chars8Text "x" stays plain (a child follows), empty b closes with EndElement,
    // Int8Text(7) stays plain, TrueText becomes TrueTextWithEndElement and closes a.
    #expect(bytes == hex("40 01 61 04 01 6E 88 05 98 01 78 40 01 62 01 88 07 87"))
    // An attribute value is never turned into a WithEndElement record.
    #expect(replay([start("a", [attr("", "n", .bool(true))]), .endElement]) == hex("40 01 61 04 01 6E 86 01"))
    #expect(replay([start("a", [xmlns("", "u")]), .endElement]) == hex("40 01 61 08 01 75 01"))
}

@Test func withEndElementReadsAsTextThenEnd() throws {
    let nodes = try readAll(hex("40 01 61 40 01 62 99 01 78 88 07 01"))
    #expect(nodes == [start("a"), start("b"), .text(.string("x")), .endElement, .text(.int32(7)), .endElement])
}

@Test func readsXmlPrefixedAttributesArraysWithAttributesAndContentLists() throws {
    // <r xml:lang="en">"0 1" as a list, then an Int32 array of one <a:i n="1">.
    let body =
        "40 01 72 05 03 78 6D 6C 04 6C 61 6E 67 98 02 65 6E "
        + "A4 80 82 A6 03 5E 01 69 04 01 6E 82 01 8D 01 02 00 00 00 01"
    let nodes = try readAll(hex(body))
    #expect(
        nodes == [
            start("r", [attr("xml", "lang", .string("en"))]), .text(.string("0 1")),
            start("i", prefix: "a", [attr("", "n", .int32(1))]), .text(.int32(2)), .endElement, .endElement,
        ]
    )
}

// MARK: - Dictionary records

/// Every record that refers to a DictionaryString, placed where such a record can stand.
let dictionaryRecords: [UInt8] = (0...255).map { UInt8($0) }.filter { NBFXRecord.isDictionary($0) }

@Test(arguments: dictionaryRecords)
func dictionaryRecordsAreRejectedByName(_ type: UInt8) {
    let (document, at): ([UInt8], Int) =
        switch type {
        case 0x42...0x5D: ([type, 0x02, 0x01], 0)
        case 0x06...0x25: ([0x40, 0x01, 0x61, type, 0x02, 0x01, 0x62, 0x86, 0x01], 3)
        default: ([0x40, 0x01, 0x61, type, 0x02, 0x01], 3)
        }
    let name = NBFXRecord.describe(type)
    #expect(name.contains("Dictionary"))
    do {
        _ = try readAll(document)
        Issue.record("\(name) was accepted")
    } catch {
        #expect(error.offset == at)
        #expect(error.message.hasPrefix("dictionary record \(name) at byte \(at): this body uses a WCF dictionary"))
    }
}

@Test func dictionaryRecordsInsideValuesListsAndArraysAreRejected() {
    #expect(dictionaryRecords.count == 62)
    for document in [
        "40 01 61 04 01 62 AA 02 01", "40 01 61 A4 BC 00 02 A6 01", "40 01 72 03 42 02 01 8D 01 00 00 00 00 01",
    ] {
        do {
            _ = try readAll(hex(document))
            Issue.record("\(document) was accepted")
        } catch { #expect(error.message.contains("dictionary record")) }
    }
}

// MARK: - Malformed input

/// A malformed body, where the reader must fail and what the message must say.
struct Malformed: Sendable, CustomTestStringConvertible {
    var offset: Int
    var bytes: String
    var message: String
    var limits = DecodingLimits.default
    var testDescription: String { message + " [" + bytes + "]" }

    /// `offset | hex bytes | words of the message [| maximumDepth maximumSize]`.
    init(_ row: Substring) {
        let columns = row.split(separator: "|", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: " ")
        }
        offset = Int(columns[0]) ?? -1
        bytes = columns[1]
        message = columns[2]
        if columns.count > 3 {
            let numbers = columns[3].split(separator: " ").compactMap { Int($0) }
            limits = DecodingLimits(maximumDepth: numbers[0], maximumSize: numbers[1])
        }
    }
}

let malformedBodies: [Malformed] = """
     0 |                                                             | no root element
     0 | 40 03 64 6F                                                 | needs 3 bytes; only 2 remain
     3 | 40 01 61 98 09 41 01                                        | needs 9 more bytes; only 2 remain
     3 | 40 01 61 99 02 C3 28                                        | not valid UTF-8
     0 | 40 01 FF 01                                                 | not valid UTF-8
     3 | 40 01 61 7A 01                                              | unknown record type 0x7A
     0 | 00                                                          | unknown record type 0x00
     3 | 40 01 61 A5 01                                              | unknown record type 0xA5
     4 | 40 01 61 01 01                                              | follows the end of the root element
     0 | 01                                                          | no element is open
     0 | 98 01 61                                                    | outside the root element
     0 | 04 01 61 84                                                 | does not directly follow an element record
     6 | 40 01 61 98 01 62 04 01 63 84 01                            | does not directly follow an element record
     6 | 40 01 61 40 01 62 40 01 63 01 01 01                         | deeper than the limit of 2 | 2 100
     3 | 40 01 61 01                                                 | more than the limit of 3 bytes | 8 3
     0 | 40 FF FF FF FF 7F                                           | larger than 2^31 - 1
     3 | 40 01 61 9C FF FF FF 7F 41                                  | needs 2147483647 more bytes
     3 | 40 01 61 9C FF FF FF FF                                     | negative length
     4 | 40 01 61 01 40 01 62 01                                     | follows the end of the root element
     4 | 40 01 61 01 02 00                                           | follows the end of the root element
     3 | 40 01 61                                                    | ends inside 1 open element
     6 | 40 01 61 04 01 62 99 01 63 01                               | is not a text record
     6 | 40 01 61 04 01 62                                           | ends in the middle of an attribute value
     4 | 40 01 61 A4 A4 A6 A6 01                                     | may not appear inside a StartListText list
     6 | 40 01 61 A4 88 01                                           | ends in the middle of a StartListText list
     3 | 40 01 61 A6 01                                              | no StartListText record before it
     3 | 40 01 61 B5 02                                              | neither 0 nor 1
     3 | 40 01 61 97 00 00 00 00 00 00 00 C0                         | invalid kind 3
     3 | 40 01 61 97 FF FF FF FF FF FF FF 3F                         | past 9999-12-31
     3 | 40 01 61 95 00 00 1D 00 00 00 00 00 00 00 00 00 00 00 00 00 | scale 29 is above 28
     3 | 40 01 61 95 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00 | sign byte 0x01
     3 | 40 01 61 B7 03 61 00 62                                     | odd length 3
     3 | 40 01 61 B7 02 00 D8                                        | not valid UTF-16
     3 | 40 01 72 03 40 01 61 01 8D 00 01                            | has no items
     3 | 40 01 72 03 40 01 61 01 99 01 00 01                         | which arrays may not use
     3 | 40 01 72 03 40 01 61 01 95 FF FF FF FF 07                   | announces 2147483647 items of 16 bytes
     3 | 40 01 72 03 40 01 61 98 01 78 01                            | is followed by 0x98 (Chars8Text)
     4 | 40 01 72 03 03 40 01 61 01 8D 01 00 00 00 00 01             | holds 0x03 (Array) instead of an element
     0 | 03 40 01 61 01 8D 02 01 00 00 00 02 00 00 00                | repeats the root element 2 times
     0 | 40 00 01                                                    | element name is empty
     3 | 40 01 61 04 05 78 6D 6C 6E 73 A8 01                         | names xmlns
    """.split(separator: "\n").map(Malformed.init)

@Test(arguments: malformedBodies)
func malformedBodiesThrowWithTheOffset(_ body: Malformed) {
    do {
        let nodes = try readAll(hex(body.bytes), limits: body.limits)
        Issue.record("read \(nodes) instead of failing")
    } catch {
        #expect(error.format == .binary)
        #expect(error.offset == body.offset)
        #expect(error.message.contains(body.message), "\(error.message)")
    }
}

// MARK: - Robustness

private func fuzzSeeds() -> [[UInt8]] {
    var writer = NBFXWriter()
    writer.startElement(prefix: "", localName: "RemoteExecutionContext")
    writer.namespaceDeclaration(prefix: "", namespace: "http://schemas.microsoft.com/xrm/2011/Contracts")
    writer.namespaceDeclaration(prefix: "i", namespace: "http://www.w3.org/2001/XMLSchema-instance")
    for (index, trip) in roundTrips.enumerated() where index % 2 == 0 || index < 12 {
        if case .bytes(let data) = trip.value, data.count > 1000 { continue }
        if case .string(let text) = trip.value, text.utf8.count > 1000 { continue }
        writer.startElement(prefix: index % 3 == 0 ? "a" : "", localName: "v\(index)")
        writer.attribute(prefix: "i", localName: "type", value: .qualifiedName(prefix: "b", localName: "string"))
        writer.startElement(prefix: "xx", localName: "inner")
        writer.text(trip.value)
        writer.endElement()
        writer.text(trip.value)
        writer.endElement()
    }
    writer.endElement()
    return [writer.bytes] + (writtenExamples + readExamples).map { hex($0.bytes) }.filter { $0.count > 12 }.prefix(12)
}

@Test func randomTruncationsAndMutationsNeverCrashOrHang() {
    var random = SeededRandom(seed: 0x5EED_CAFE)
    let seeds = fuzzSeeds()
    let interesting: [UInt8] = [0x00, 0x01, 0x02, 0x03, 0x40, 0x7F, 0x80, 0x8D, 0x9C, 0xA4, 0xA6, 0xBA, 0xFF]
    var outcomes = (ended: 0, threw: 0)
    for iteration in 0..<5000 {
        var input = seeds[iteration % seeds.count]
        switch random.next() % 6 {
        case 0:
            input = Array(input.prefix(Int.random(in: 0..<input.count, using: &random)))
        case 1:
            for _ in 0...Int.random(in: 0...2, using: &random) {
                input[Int.random(in: 0..<input.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
        case 2:
            input[Int.random(in: 0..<input.count, using: &random)] = interesting.randomElement(using: &random) ?? 0
        case 3:
            input.insert(UInt8.random(in: 0...255, using: &random), at: Int.random(in: 0...input.count, using: &random))
        case 4:
            let from = Int.random(in: 0..<input.count, using: &random)
            input.removeSubrange(from..<min(input.count, from + Int.random(in: 1...8, using: &random)))
        default:
            let from = Int.random(in: 0..<input.count, using: &random)
            let slice = input[from..<min(input.count, from + Int.random(in: 1...16, using: &random))]
            input.insert(contentsOf: slice, at: Int.random(in: 0...input.count, using: &random))
        }
        let limits = iteration % 7 == 0 ? DecodingLimits(maximumDepth: 3, maximumSize: 4096) : .default
        var reader = NBFXReader(bytes: input, limits: limits)
        var count = 0
        do {
            while try reader.next() != .endOfDocument {
                count += 1
                if count > 4 * input.count + 16 {
                    Issue.record("no end after \(count) nodes for \(input)")
                    break
                }
            }
            outcomes.ended += 1
        } catch {
            #expect(error.format == .binary)
            #expect((0...max(input.count, limits.maximumSize)).contains(error.offset ?? -1))
            #expect(!error.message.isEmpty)
            outcomes.threw += 1
        }
    }
    #expect(outcomes.ended + outcomes.threw == 5000)
    #expect(outcomes.threw > 1000)
}

import Testing

@testable import ConduitContext

/// Each value type is written with the typed text record .NET's binary writer uses.
@Suite("binary value records")
struct BinaryValueRecordTests {
    /// The text nodes of the `value` element of input parameter `v`, as the binary reader returns them.
    static func valueText(_ value: ContextValue) throws -> [XMLTextValue] {
        let body = ContextCodec.encode(Samples.context(with: value), format: .binary)
        var reader = NBFXReader(bytes: body, limits: .default)
        var sawKey = false
        var depth = 0
        var inValue = false
        var texts: [XMLTextValue] = []
        while true {
            switch try reader.next() {
            case .startElement(_, let name, _):
                if inValue {
                    depth += 1
                } else if sawKey && name == "value" {
                    inValue = true
                    depth = 1
                }
            case .text(let text):
                if inValue && depth == 1 { texts.append(text) }
                if text == .string("v") { sawKey = true }
            case .endElement:
                if inValue {
                    depth -= 1
                    if depth == 0 { return texts }
                }
            case .endOfDocument:
                return texts
            }
        }
    }

    @Test("primitive values use typed records")
    func typedRecords() throws {
        #expect(try Self.valueText(.boolean(true)) == [.bool(true)])
        #expect(try Self.valueText(.boolean(false)) == [.bool(false)])
        #expect(try Self.valueText(.int(-2_147_483_648)) == [.int32(-2_147_483_648)])
        #expect(try Self.valueText(.int(1)) == [.int32(1)])
        #expect(try Self.valueText(.long(9_000_000_000)) == [.int64(9_000_000_000)])
        #expect(try Self.valueText(.double(0.1)) == [.double(0.1)])
        #expect(try Self.valueText(.double(1.5)) == [.float(1.5)])  // .NET writes an exact float as FloatText
        #expect(try Self.valueText(.decimal(DotNetDecimal("12.5000")!)) == [.decimal(DotNetDecimal("12.5000")!)])
        #expect(try Self.valueText(.guid(Samples.guid1)) == [.guid(Samples.guid1)])
        let date = DotNetDateTime(xmlText: "2024-07-24T10:28:25.1234567Z")!
        #expect(try Self.valueText(.dateTime(date)) == [.dateTime(date)])
        let local = DotNetDateTime(xmlText: "2017-09-26T00:04:08-07:00")!
        var sent = local
        sent.kind = .local(offsetMinutes: nil)
        #expect(try Self.valueText(.dateTime(local)) == [.dateTime(sent)])
        #expect(try Self.valueText(.string("James")) == [.string("James")])
        #expect(try Self.valueText(.string("")) == [])
    }

    @Test("the binary body starts with the root element and declarations as .NET writes them")
    func rootRecords() {
        let body = ContextCodec.encode(Samples.context(with: .null), format: .binary)
        // ShortElement "RemoteExecutionContext", ShortXmlnsAttribute contracts, XmlnsAttribute i.
        var expected: [UInt8] = [0x40, 22] + Array("RemoteExecutionContext".utf8)
        expected += [0x08, 47] + Array("http://schemas.microsoft.com/xrm/2011/Contracts".utf8)
        expected += [0x09, 1, UInt8(ascii: "i"), 41] + Array("http://www.w3.org/2001/XMLSchema-instance".utf8)
        #expect(Array(body.prefix(expected.count)) == expected)
        // The last record closes the root: the UserId GUID text with its end element (UuidText + 1), then EndElement.
        #expect(body.suffix(18).first == 0xB1)
        #expect(body.last == 0x01)
    }
}

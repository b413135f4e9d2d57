import Foundation
import Testing

@testable import ConduitContext

@Suite("JSON fixtures")
struct JSONFixtureTests {
    static let fixtureNames = (try? Fixtures.jsonContexts().map(\.name)) ?? []

    @Test("there are captured fixtures to test")
    func fixturesArePresent() {
        #expect(Self.fixtureNames.count >= 2)
    }

    @Test("JSON → model → JSON is the compact form of the fixture", arguments: fixtureNames)
    func jsonRoundTrip(name: String) throws {
        let original = try Fixtures.jsonContext(name)
        let context = try ContextCodec.decode(original, format: .json)
        let encoded = ContextCodec.encode(context, format: .json)
        let expected = try OrderedJSON.parse(original)
        let actual = try OrderedJSON.parse(encoded)
        #expect(OrderedJSON.difference(expected, actual) == nil)
        // Compact: no whitespace between tokens, i.e. the output is what re-serializing the tree compactly gives.
        #expect(String(decoding: encoded, as: UTF8.self) == JSONFixtureTests.compact(original))
    }

    @Test("every '/' is written as '\\/', as the .NET serializer does", arguments: fixtureNames)
    func slashesAreEscaped(name: String) throws {
        let context = try ContextCodec.decode(try Fixtures.jsonContext(name), format: .json)
        let encoded = ContextCodec.encode(context, format: .json)
        for (index, byte) in encoded.enumerated() where byte == UInt8(ascii: "/") {
            #expect(index > 0 && encoded[index - 1] == UInt8(ascii: "\\"), "unescaped '/' at byte \(index)")
        }
        #expect(encoded.count > 1000)
    }

    @Test("JSON → XML → JSON gives back the same context", arguments: fixtureNames)
    func throughXML(name: String) throws {
        let context = try ContextCodec.decode(try Fixtures.jsonContext(name), format: .json)
        let xml = ContextCodec.encode(context, format: .xml)
        let back = try ContextCodec.decode(xml, format: .xml)
        #expect(back == context)
        #expect(ContextCodec.encode(back, format: .json) == ContextCodec.encode(context, format: .json))
    }

    @Test("JSON → binary → JSON gives back the same context", arguments: fixtureNames)
    func throughBinary(name: String) throws {
        let context = try ContextCodec.decode(try Fixtures.jsonContext(name), format: .json)
        let binary = ContextCodec.encode(context, format: .binary)
        let back = try ContextCodec.decode(binary, format: .binary)
        // The binary DateTime record carries ticks and kind but no offset, exactly as .NET's DateTime.ToBinary():
        // the local OperationCreatedOn comes back as the same instant, local, and a reader writes it with its own
        // zone. Read in the writer's zone, the JSON is byte for byte the original's.
        guard case .local(let offset?) = context.operationCreatedOn.kind else {
            Issue.record("the fixtures' OperationCreatedOn are local dates")
            return
        }
        #expect(back.operationCreatedOn.ticks == context.operationCreatedOn.ticks)
        #expect(back.operationCreatedOn.kind == .local(offsetMinutes: nil))
        let writerZone = ContextEncodingOptions(localTimeZone: TimeZone(secondsFromGMT: offset * 60)!)
        #expect(
            ContextCodec.encode(back, format: .json, options: writerZone)
                == ContextCodec.encode(context, format: .json)
        )
        // Everything else is equal as it is.
        var normalized = back
        normalized.operationCreatedOn = context.operationCreatedOn
        if var parent = normalized.parent, let original = context.parent {
            parent.operationCreatedOn = original.operationCreatedOn
            normalized.parent = parent
        }
        #expect(normalized == context)
    }

    /// The fixture with insignificant whitespace removed and '/' escaped inside strings, which is what the .NET
    /// serializer writes; built with a tokenizer independent of the codec.
    static func compact(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var inString = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                if byte == UInt8(ascii: "\\") {
                    out.append(byte)
                    out.append(bytes[index + 1])
                    index += 2
                    continue
                }
                if byte == UInt8(ascii: "/") { out.append(UInt8(ascii: "\\")) }
                if byte == UInt8(ascii: "\"") { inString = false }
                out.append(byte)
            } else if byte == UInt8(ascii: "\"") {
                inString = true
                out.append(byte)
            } else if ![0x20, 0x0A, 0x0D, 0x09].contains(byte) {
                out.append(byte)
            }
            index += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}

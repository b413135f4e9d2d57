import Foundation
import Testing

@testable import ConduitContext

/// Conversions between any two formats keep the full context.
@Suite("conversions between formats")
struct ConversionTests {
    static let pairs: [(WireFormat, WireFormat)] = WireFormat.allCases.flatMap { from in
        WireFormat.allCases.map { (from, $0) }
    }

    @Test("every fixture: A → B → A gives A's bytes back", arguments: WireFormat.allCases, WireFormat.allCases)
    func pairwise(from: WireFormat, through: WireFormat) throws {
        for fixture in try Fixtures.jsonContexts() {
            let context = try ContextCodec.decode(fixture.bytes, format: .json)
            // A reader in the writer's zone, for the local dates the binary format carries without their offset.
            guard case .local(let offset?) = context.operationCreatedOn.kind else { continue }
            let options = ContextEncodingOptions(localTimeZone: TimeZone(secondsFromGMT: offset * 60)!)
            let original = ContextCodec.encode(context, format: from, options: options)
            let inA = try ContextCodec.decode(original, format: from)
            let inB = try ContextCodec.decode(
                ContextCodec.encode(inA, format: through, options: options),
                format: through
            )
            let back = ContextCodec.encode(inB, format: from, options: options)
            #expect(back == original, "\(fixture.name): \(from) → \(through) → \(from)")
        }
    }

    @Test("XML ⇄ binary keep every value type exactly, GUIDs included")
    func xmlAndBinary() throws {
        var context = Samples.context(with: .null)
        context.inputParameters = KeyedCollection(
            Samples.everyValue.map { KeyValuePair(key: $0.name, value: $0.value) }
        )
        let options = ContextEncodingOptions(localTimeZone: TimeZone(secondsFromGMT: -7 * 3600)!)
        let xml = ContextCodec.encode(context, format: .xml, options: options)
        let binary = ContextCodec.encode(try ContextCodec.decode(xml, format: .xml), format: .binary)
        let xmlAgain = ContextCodec.encode(
            try ContextCodec.decode(binary, format: .binary),
            format: .xml,
            options: options
        )
        #expect(xmlAgain == xml)
        #expect(try ContextCodec.decode(xml, format: .xml).inputParameters["guid"] == .guid(Samples.guid1))
    }
}

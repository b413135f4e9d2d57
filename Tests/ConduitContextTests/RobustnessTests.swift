import ConduitTestSupport
import Testing

@testable import ConduitContext

/// Thousands of truncated and mutated bodies per format: each must end in a thrown error or a valid context,
/// never a crash, a hang or unbounded memory. A context that decodes must encode and decode again to itself.
@Suite("robustness")
struct RobustnessTests {
    static let iterations = 4000

    static func seeds(_ format: WireFormat) throws -> [[UInt8]] {
        var seeds = try Fixtures.jsonContexts().map { fixture in
            ContextCodec.encode(try ContextCodec.decode(fixture.bytes, format: .json), format: format)
        }
        var everything = RemoteExecutionContext()
        everything.inputParameters = KeyedCollection(
            Samples.everyValue.map { KeyValuePair(key: $0.name, value: $0.value) }
        )
        seeds.append(ContextCodec.encode(everything, format: format))
        if format == .json { seeds += try Fixtures.jsonContexts().map(\.bytes) }
        return seeds
    }

    @Test("mutated bodies fail cleanly or decode", arguments: WireFormat.allCases)
    func mutatedInputs(format: WireFormat) throws {
        var random = SeededRandom(seed: 0xC0DE_0000 + UInt64(format.messageFormat))
        let seeds = try Self.seeds(format)
        var decoded = 0
        var rejected = 0
        let limits = DecodingLimits(maximumDepth: 64, maximumSize: 1 << 20)
        for iteration in 0..<Self.iterations {
            let seed = seeds[iteration % seeds.count]
            let input = Mutator.mutate(seed, using: &random)
            let context: RemoteExecutionContext
            do {
                context = try ContextCodec.decode(input, format: format, limits: limits)
            } catch {
                rejected += 1
                #expect(!error.message.isEmpty)
                #expect(error.format == format)
                continue
            }
            decoded += 1
            let encoded = ContextCodec.encode(context, format: format)
            do {
                let again = try ContextCodec.decode(encoded, format: format)
                #expect(
                    ContextCodec.encode(again, format: format) == encoded,
                    "iteration \(iteration): re-encoding is not stable"
                )
            } catch {
                Issue.record(
                    "iteration \(iteration): the re-encoded body does not decode: \(error)\n\(String(decoding: input, as: UTF8.self))"
                )
            }
        }
        #expect(decoded + rejected == Self.iterations)
        #expect(rejected > Self.iterations / 4, "most mutations should be caught")
    }

    @Test("every truncation of a body fails cleanly", arguments: WireFormat.allCases)
    func truncations(format: WireFormat) throws {
        let seed = try Self.seeds(format)[0]
        var failures = 0
        for length in stride(from: 0, to: seed.count, by: max(1, seed.count / 1500)) {
            do {
                _ = try ContextCodec.decode(seed[..<length], format: format)
                Issue.record("a body truncated to \(length) of \(seed.count) bytes decoded")
            } catch {
                failures += 1
                #expect(error.description.contains("execution context"))
            }
        }
        #expect(failures > 1000)
    }

    @Test("nesting beyond the depth limit is refused, not a stack overflow", arguments: WireFormat.allCases)
    func deepNesting(format: WireFormat) throws {
        var input: [UInt8]
        switch format {
        case .json:
            input = Array(#"{"InputParameters":[{"key":"a","value":"#.utf8)
            input += Array(repeating: UInt8(ascii: "["), count: 100_000)
        case .xml:
            input = Array(#"<RemoteExecutionContext xmlns="http://schemas.microsoft.com/xrm/2011/Contracts">"#.utf8)
            for _ in 0..<100_000 { input += Array("<a>".utf8) }
        case .binary:
            input = [0x40, 0x01, 0x61]
            for _ in 0..<100_000 { input += [0x40, 0x01, 0x61] }
        }
        #expect(throws: ContextCodingError.self) { try ContextCodec.decode(input, format: format) }
    }

    @Test("a body above the size limit is refused before parsing", arguments: WireFormat.allCases)
    func sizeLimit(format: WireFormat) throws {
        let limits = DecodingLimits(maximumDepth: 64, maximumSize: 1000)
        let error = #expect(throws: ContextCodingError.self) {
            try ContextCodec.decode([UInt8](repeating: 0x20, count: 1001), format: format, limits: limits)
        }
        #expect(error?.message.contains("1000-byte limit") == true)
    }
}

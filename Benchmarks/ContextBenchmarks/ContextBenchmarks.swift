import Benchmark
import ConduitContext
import Foundation

/// Encode and decode throughput of the three codecs on a typical (~8 KB JSON) and a large (~180 KB JSON) context,
/// beside Foundation's `JSONSerialization` on the same JSON bytes. Each benchmark's name carries the body size in
/// bytes, so MB/s = throughput (ops/s) × size / 1,000,000.
let benchmarks: @Sendable () -> Void = {
    let contexts = BenchmarkContexts.load()
    let configuration = Benchmark.Configuration(
        metrics: [.throughput, .wallClock],
        timeUnits: .microseconds,
        units: [.throughput: .count],
        maxDuration: .seconds(3),
        maxIterations: 100_000
    )

    for (label, context) in [("typical", contexts.typical), ("large", contexts.large)] {
        for format in WireFormat.allCases {
            let body = ContextCodec.encode(context, format: format)
            Benchmark("\(format) encode \(label) (\(body.count) B)", configuration: configuration) { benchmark in
                for _ in benchmark.scaledIterations {
                    blackHole(ContextCodec.encode(context, format: format))
                }
            }
            Benchmark("\(format) decode \(label) (\(body.count) B)", configuration: configuration) { benchmark in
                for _ in benchmark.scaledIterations {
                    blackHole(try ContextCodec.decode(body, format: format))
                }
            }
        }
        let json = Data(ContextCodec.encode(context, format: .json))
        let object = try! JSONSerialization.jsonObject(with: json)
        Benchmark("JSONSerialization encode \(label) (\(json.count) B)", configuration: configuration) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try JSONSerialization.data(withJSONObject: object))
            }
        }
        Benchmark("JSONSerialization decode \(label) (\(json.count) B)", configuration: configuration) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try JSONSerialization.jsonObject(with: json))
            }
        }
    }
}

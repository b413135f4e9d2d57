// swift-tools-version: 6.2
import PackageDescription

// Micro-benchmarks (ordo-one/package-benchmark). Run from this folder:
//   swift package benchmark                      # all
//   swift package benchmark --filter "JSON.*"    # some
// The malloc interposer trait is off (traits: []), so allocation counts are not collected.
let package = Package(
    name: "ConduitBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "conduit", path: ".."),
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1", traits: []),
    ],
    targets: [
        .executableTarget(
            name: "ContextBenchmarks",
            dependencies: [
                .product(name: "ConduitContext", package: "conduit"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "ContextBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        )
    ],
    swiftLanguageModes: [.v6]
)

// swift-tools-version: 6.2
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "conduit",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ConduitContext", targets: ["ConduitContext"]),
        .executable(name: "conduit", targets: ["conduit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        .target(name: "ConduitContext", swiftSettings: strictSettings),
        .executableTarget(
            name: "conduit",
            dependencies: [
                "ConduitContext",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ConduitContextTests",
            dependencies: ["ConduitContext"],
            exclude: ["Interop"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "conduitTests",
            dependencies: ["conduit", "ConduitContext"],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)

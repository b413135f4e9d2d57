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
        .library(name: "ConduitStore", targets: ["ConduitStore"]),
        .library(name: "ConduitPlatform", targets: ["ConduitPlatform"]),
        .library(name: "ConduitServer", targets: ["ConduitServer"]),
        .library(name: "ConduitBus", targets: ["ConduitBus"]),
        .library(name: "ConduitEndpoints", targets: ["ConduitEndpoints"]),
        .library(name: "ConduitAtom", targets: ["ConduitAtom"]),
        .library(name: "ConduitAMQP", targets: ["ConduitAMQP"]),
        .library(name: "ConduitListener", targets: ["ConduitListener"]),
        .executable(name: "conduit", targets: ["conduit"]),
        .executable(name: "conduit-listener-example", targets: ["ConduitListenerExample"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/sql-kit", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit", from: "2.17.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket", from: "1.6.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/swiftwasm/WasmKit", from: "0.4.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .target(name: "ConduitContext", swiftSettings: strictSettings),
        // The system's SQLite: every SQLite connection of the store goes through this one copy of the library.
        .systemLibrary(name: "CSQLite3", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // A Swift face for it, in its own module so that its C declarations never meet SQLiteKit's vendored ones.
        .target(name: "ConduitSQLite", dependencies: ["CSQLite3"], swiftSettings: strictSettings),
        .target(
            name: "ConduitStore",
            dependencies: [
                "ConduitSQLite",
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "ConduitBus",
            dependencies: [
                "ConduitStore",
                "ConduitAMQP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "ConduitPlatform",
            dependencies: [
                "ConduitContext",
                "ConduitStore",
                .product(name: "WasmKit", package: "WasmKit"),
                .product(name: "WAT", package: "WasmKit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSettings
        ),
        // AMQP 1.0: the type system, frames, messages, the connection/session/link state machine and its NIO server.
        .target(
            name: "ConduitAMQP",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // The Service Bus management API's ATOM entities (queues, topics, subscriptions, rules), as pure codecs.
        .target(name: "ConduitAtom", swiftSettings: strictSettings),
        .target(
            name: "ConduitListener",
            dependencies: [
                "ConduitAMQP",
                "ConduitBus",
                "ConduitContext",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "ConduitEndpoints",
            dependencies: [
                "ConduitContext",
                "ConduitPlatform",
                "ConduitBus",
                "ConduitAMQP",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "ConduitServer",
            dependencies: [
                "ConduitAMQP",
                "ConduitAtom",
                "ConduitBus",
                "ConduitEndpoints",
                "ConduitContext",
                "ConduitStore",
                "ConduitPlatform",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            // The System Jobs console's page, script and style sheet, compiled into the server.
            resources: [
                .embedInCode("Console/Assets/index.html"),
                .embedInCode("Console/Assets/console.js"),
                .embedInCode("Console/Assets/console.css"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "ConduitListenerExample",
            dependencies: ["ConduitListener"],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "conduit",
            dependencies: [
                "ConduitAtom",
                "ConduitListener",
                "ConduitBus",
                "ConduitContext",
                "ConduitStore",
                "ConduitPlatform",
                "ConduitServer",
                "ConduitEndpoints",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "ConduitTestSupport",
            dependencies: [
                "ConduitStore",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ConduitListenerTests",
            dependencies: [
                "ConduitListener", "ConduitBus", "ConduitContext", "ConduitTestSupport", "ConduitAMQP", "ConduitStore",
                "ConduitServer", "ConduitPlatform", .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ConduitContextTests",
            dependencies: ["ConduitContext", "ConduitTestSupport"],
            exclude: ["Interop"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ConduitStoreTests",
            dependencies: [
                "ConduitStore",
                "ConduitTestSupport",
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ConduitBusTests",
            dependencies: [
                "ConduitBus",
                "ConduitStore",
                "ConduitTestSupport",
                "ConduitAMQP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ConduitPlatformTests",
            dependencies: ["ConduitPlatform", "ConduitStore", "ConduitContext", "ConduitTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ConduitAMQPTests",
            dependencies: [
                "ConduitAMQP",
                "ConduitTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ConduitAtomTests",
            dependencies: ["ConduitAtom"],
            resources: [.copy("Fixtures")],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ConduitEndpointsTests",
            dependencies: [
                "ConduitEndpoints", "ConduitBus", "ConduitPlatform", "ConduitStore", "ConduitContext",
                "ConduitTestSupport", "ConduitAMQP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ConduitServerTests",
            dependencies: [
                "ConduitServer", "ConduitPlatform", "ConduitStore", "ConduitContext", "ConduitTestSupport",
                "ConduitBus",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "conduitTests",
            dependencies: [
                "conduit", "ConduitBus", "ConduitContext", "ConduitPlatform", "ConduitStore", "ConduitTestSupport",
                "ConduitAMQP", "ConduitListener", .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            swiftSettings: strictSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)

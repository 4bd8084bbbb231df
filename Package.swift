// swift-tools-version: 6.1
import PackageDescription

// librdkafka is linked from the copy that `scripts/setup` extracts into `.deps/rdkafka/lib`
// (Debian's 2.0.2 cannot talk to the local broker). The module map links it under the distinct name
// `rdkafka_wheel`, so a skipped setup fails at link time instead of silently using the old library.
let rdkafkaLibDir = Context.packageDirectory + "/.deps/rdkafka/lib"

let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    // Flash Deal's own targets build without a warning (dependencies keep their own settings).
    .unsafeFlags(["-warnings-as-errors"]),
]

let package = Package(
    name: "FlashDeal",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "flashdeal", targets: ["FlashDealCLI"]),
        .executable(name: "flashdeal-gateway", targets: ["GatewayServer"]),
        .executable(name: "flashdeal-worker", targets: ["OrderWorkerServer"]),
        .executable(name: "flashdeal-bench", targets: ["AdapterBench"]),
        .executable(name: "flashdeal-fuzz", targets: ["FuzzDriver"]),
        .library(name: "Domain", targets: ["Domain"]),
        .library(name: "Infrastructure", targets: ["Infrastructure"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.5.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.0.0"),
        .package(url: "https://github.com/GraphQLSwift/GraphQL.git", from: "4.3.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.1.0"),
        // Traces only, over OTLP/HTTP: the gRPC exporter and its dependencies stay out of the build.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.0.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        // MARK: C libraries (system libraries found through pkg-config)
        .systemLibrary(
            name: "CHiredis", path: "Platform/CLibraries/CHiredis", pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(
            name: "CRdKafka", path: "Platform/CLibraries/CRdKafka",
            providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(
            name: "CMongoc", path: "Platform/CLibraries/CMongoc", pkgConfig: "libmongoc-1.0",
            providers: [.apt(["libmongoc-dev", "libbson-dev"])]),

        // MARK: Libraries
        .target(
            name: "Domain",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            path: "Domain"
        ),
        .target(
            name: "Infrastructure",
            dependencies: [
                "CHiredis", "CRdKafka", "CMongoc",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Platform/Infrastructure",
            linkerSettings: [
                .unsafeFlags(["-L", rdkafkaLibDir, "-Xlinker", "-rpath", "-Xlinker", rdkafkaLibDir])
            ]
        ),
        // The deal's data as Redis and MongoDB hold it: keys and functions, catalog, reservations,
        // order documents and outbox. Written by the worker, read by the gateway and the CLI.
        .target(
            name: "DealData",
            dependencies: ["Domain", "Infrastructure"],
            path: "DealData/Sources"
        ),
        // verify and reconcile: the deal's data checked against the event log.
        .target(
            name: "DealAudit",
            dependencies: ["DealData", "Domain", "Infrastructure", .product(name: "Logging", package: "swift-log")],
            path: "DealData/Audit"
        ),
        .target(
            name: "RateLimiting",
            dependencies: [
                "Domain", "Infrastructure",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Gateway/RateLimiting"
        ),
        .target(
            name: "Credentials",
            dependencies: [
                "Domain",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Gateway/Credentials"
        ),
        .target(
            name: "Admission",
            dependencies: [
                "Domain", "DealData", "Infrastructure", "Credentials",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Gateway/Admission"
        ),
        .target(
            name: "Operations",
            dependencies: [
                "Infrastructure",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Platform/Operations"
        ),
        .target(
            name: "Gateway",
            dependencies: [
                "Domain", "DealData", "Infrastructure", "Operations", "RateLimiting", "Admission", "Credentials",
                .product(name: "GraphQL", package: "GraphQL"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
            ],
            path: "Gateway/Sources"
        ),
        .target(
            name: "OrderWorker",
            dependencies: [
                "Domain", "DealData", "Infrastructure", "Operations",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
            ],
            path: "OrderWorker/Sources"
        ),

        // MARK: Thin executables
        .executableTarget(
            name: "GatewayServer",
            dependencies: [
                "Gateway", "RateLimiting", "Operations",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Gateway/Server"
        ),
        .executableTarget(
            name: "OrderWorkerServer",
            dependencies: [
                "OrderWorker", "Operations", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "OrderWorker/Server"
        ),
        .target(
            name: "Autoscaling",
            dependencies: [.product(name: "Yams", package: "Yams")],
            path: "Platform/Autoscaling"
        ),
        .executableTarget(
            name: "FlashDealCLI",
            dependencies: [
                "Domain", "DealData", "DealAudit", "Infrastructure", "RateLimiting", "Credentials", "Admission",
                "Autoscaling",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "CLI"
        ),
        .executableTarget(
            name: "AdapterBench",
            dependencies: [
                "Infrastructure", "RateLimiting", "Domain", "DealData", "DealAudit", "Admission", "Credentials",
                "OrderWorker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/AdapterBench"
        ),

        // MARK: Fuzzing (scripts/fuzz builds flashdeal-fuzz with -sanitize=fuzzer; plain builds replay inputs)
        .target(
            name: "FuzzTargets",
            dependencies: [
                "Credentials", "Domain", "Gateway", "Infrastructure", "Operations", "OrderWorker", "RateLimiting",
            ],
            path: "Tests/Fuzz/Targets"
        ),
        .target(name: "CFuzzerDriver", path: "Tests/Fuzz/CFuzzerDriver"),
        .executableTarget(
            name: "FuzzDriver",
            dependencies: ["FuzzTargets", "CFuzzerDriver"],
            path: "Tests/Fuzz/Driver"
        ),

        // MARK: Tests
        .testTarget(
            name: "FuzzTests",
            dependencies: ["FuzzTargets", "Gateway", "TestSupport"],
            path: "Tests/FuzzTests"
        ),
        .testTarget(
            name: "DomainTests",
            dependencies: [
                "Domain",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            path: "Tests/DomainTests"
        ),
        .target(
            name: "TestSupport",
            dependencies: ["Infrastructure", .product(name: "Logging", package: "swift-log")],
            path: "Tests/TestSupport"
        ),
        // In-memory twins of the gateway's and the worker's ports (the port contract tests hold
        // them to the live adapters' behaviour).
        .target(
            name: "Twins",
            dependencies: [
                "Gateway", "OrderWorker", "Admission", "DealData", "Domain", "Credentials", "RateLimiting",
                "Infrastructure", .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/Twins"
        ),
        .testTarget(
            name: "PortContractTests",
            dependencies: [
                "Twins", "Gateway", "OrderWorker", "Admission", "DealData", "Domain", "Credentials",
                "Infrastructure", "TestSupport",
            ],
            path: "Tests/PortContractTests"
        ),
        .testTarget(
            name: "InfrastructureTests",
            dependencies: ["Infrastructure", "TestSupport"],
            path: "Tests/InfrastructureTests"
        ),
        .testTarget(
            name: "RateLimitingTests",
            dependencies: [
                "RateLimiting", "Domain", "Infrastructure", "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            path: "Tests/RateLimitingTests"
        ),
        .testTarget(
            name: "CredentialsTests",
            dependencies: [
                "Credentials", "Domain",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            path: "Tests/CredentialsTests"
        ),
        .testTarget(
            name: "AdmissionTests",
            dependencies: ["Admission", "DealData", "Domain", "Infrastructure", "Credentials", "TestSupport"],
            path: "Tests/AdmissionTests"
        ),
        .testTarget(
            name: "AutoscalingTests",
            dependencies: ["Autoscaling"],
            path: "Tests/AutoscalingTests"
        ),
        .testTarget(
            name: "ContractTests",
            dependencies: ["Domain", "TestSupport"],
            path: "Tests/ContractTests"
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "Gateway", "Admission", "Credentials", "Operations", "Infrastructure", "RateLimiting", "TestSupport",
                "Domain", "DealData", "Twins",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GraphQL", package: "GraphQL"),
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            path: "Tests/GatewayTests"
        ),
        .testTarget(
            name: "WorkerTests",
            dependencies: [
                "OrderWorker", "DealData", "DealAudit", "Admission", "Credentials", "Domain", "Infrastructure",
                "TestSupport",
                "Twins", .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/WorkerTests"
        ),
        .testTarget(
            name: "ServiceTests",
            dependencies: [
                "Gateway", "OrderWorker", "Operations", "Infrastructure", "RateLimiting", "TestSupport", "Domain",
                "Admission", "Credentials", "DealData", "DealAudit",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Tests/ServiceTests"
        ),
    ]
)

for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + strictSettings
}

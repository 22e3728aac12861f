// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "affhost",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "affhost", targets: ["affhost"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.0"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/mattpolzin/OpenAPIKit.git", from: "6.4.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        .target(
            name: "AffiliateCore",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "AffiliateConfig",
            dependencies: ["AffiliateCore", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "AffiliateStoreSQLite",
            dependencies: [
                "AffiliateCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .target(
            name: "AffiliateOpenAPI",
            dependencies: [
                "AffiliateCore",
                .product(name: "OpenAPIKit", package: "OpenAPIKit"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "ProviderFirstPromoter",
            dependencies: ["AffiliateCore", "AffiliateOpenAPI", .product(name: "OpenAPIKit", package: "OpenAPIKit")]
        ),
        .target(
            name: "ProviderVantio",
            dependencies: ["AffiliateCore", "AffiliateOpenAPI", .product(name: "OpenAPIKit", package: "OpenAPIKit")]
        ),
        .target(
            name: "AffiliateServer",
            dependencies: [
                "AffiliateCore",
                "AffiliateConfig",
                "AffiliateStoreSQLite",
                "AffiliateStorePostgres",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .executableTarget(
            name: "affhost",
            dependencies: [
                "AffiliateServer",
                "AffiliateConfig",
                "AffiliateOpenAPI",
                "ProviderFirstPromoter",
                "ProviderVantio",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "AffiliateStorePostgres",
            dependencies: [
                "AffiliateCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .testTarget(name: "AffiliateCoreTests", dependencies: ["AffiliateCore", "IndependentHMAC"]),
        .target(name: "IndependentHMAC", path: "Tests/IndependentHMAC"),
        .testTarget(name: "AffiliateConfigTests", dependencies: ["AffiliateConfig"]),
        .target(name: "PostgresTestSupport", path: "Tests/PostgresTestSupport"),
        .testTarget(
            name: "AffiliateStoreTests",
            dependencies: ["AffiliateStoreSQLite", "AffiliateStorePostgres", "PostgresTestSupport"]
        ),
        .testTarget(
            name: "AffhostEndToEndTests",
            dependencies: [
                "affhost",
                "AffiliateServer",
                "AffiliateConfig",
                "AffiliateOpenAPI",
                "AffiliateStoreSQLite",
                "ProviderFirstPromoter",
                "ProviderVantio",
                "PostgresTestSupport",
                "IndependentHMAC",
                .product(name: "OpenAPIKit", package: "OpenAPIKit"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
    ]
)

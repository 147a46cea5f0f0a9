// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "jumys",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "jumys", targets: ["jumys"]),
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/vapor.git", from: "4.122.3"),
        .package(url: "https://github.com/vapor/fluent-kit.git", from: "1.57.0"),
        .package(url: "https://github.com/vapor/fluent-sqlite-driver.git", from: "4.9.0"),
        .package(url: "https://github.com/vapor/fluent-postgres-driver.git", from: "2.14.0"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/JohnSundell/Plot.git", from: "0.14.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3" ..< "5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
    ],
    targets: [
        // Value types with no I/O.
        .target(name: "JumysDomain"),
        // Rules as code: dated parameters, calendar, one pure function per rule.
        .target(
            name: "JumysRules",
            dependencies: [
                "JumysDomain",
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("Parameters"), .copy("holidays.csv")]
        ),
        // Persistence: Fluent models, migrations, queries, reference data, audit.
        .target(
            name: "JumysStore",
            dependencies: [
                "JumysDomain", "JumysRules",
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "FluentSQLiteDriver", package: "fluent-sqlite-driver"),
                .product(name: "FluentPostgresDriver", package: "fluent-postgres-driver"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            resources: [.copy("Reference")]
        ),
        // HTTP: pages, JSON API, auth, sessions, i18n, middleware.
        .target(
            name: "JumysWeb",
            dependencies: [
                "JumysDomain", "JumysRules", "JumysStore",
                .product(name: "Vapor", package: "vapor"),
                .product(name: "FluentKit", package: "fluent-kit"),
                .product(name: "Plot", package: "Plot"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("Localization"), .copy("Public")]
        ),
        .executableTarget(
            name: "jumys",
            dependencies: [
                "JumysDomain", "JumysRules", "JumysStore", "JumysWeb",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Vapor", package: "vapor"),
            ]
        ),
        .testTarget(name: "JumysDomainTests", dependencies: ["JumysDomain"]),
        .testTarget(name: "JumysRulesTests", dependencies: ["JumysRules"], resources: [.copy("Cases")]),
        .testTarget(name: "JumysStoreTests", dependencies: ["JumysStore"]),
        .testTarget(
            name: "JumysWebTests",
            dependencies: [
                "JumysWeb", "JumysStore",
                .product(name: "VaporTesting", package: "vapor"),
            ]
        ),
    ]
)

// swift-tools-version: 6.1
// CommuCat: a media-centric SFU appliance with Noise-secured signalling.
// The shape of the package is described in docs/ARCHITECTURE.md; arrows point toward purity.

import PackageDescription

/// One system-library target per C library. `pkgConfig` names are Debian 12's; `providers` tell
/// SwiftPM which Debian package to suggest when pkg-config cannot find one. The same package
/// names are listed once in packaging/debian-packages.txt, which the Makefile installs from.
func cLibrary(_ name: String, pkgConfig: String, apt: String) -> Target {
    .systemLibrary(name: name, path: "Sources/CLibs/\(name)", pkgConfig: pkgConfig, providers: [.apt([apt])])
}

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
]
let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let metrics: Target.Dependency = .product(name: "Metrics", package: "swift-metrics")

let package = Package(
    name: "commucat",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "commucat", targets: ["commucat"]),
        .executable(name: "commucat-bench", targets: ["commucat-bench"]),
        // The pure wire-format libraries, for the fuzzing package in Fuzz/ and for embedders.
        .library(name: "SFUWire", targets: ["SFUWire"]),
        .library(name: "CCP", targets: ["CCP"]),
        .library(name: "Codecs", targets: ["Codecs"]),
        .library(name: "ConnectCore", targets: ["ConnectCore"]),
        .library(name: "Simulcast", targets: ["Simulcast"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.0"),
        .package(url: "https://github.com/vapor/sql-kit.git", from: "3.36.0"),
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.0"),
    ],
    targets: [
        // MARK: C libraries (Sources/CLibs/<name>: module.modulemap + shim header)
        cLibrary("COpenSSL", pkgConfig: "openssl", apt: "libssl-dev"),
        cLibrary("CSRTP", pkgConfig: "libsrtp2", apt: "libsrtp2-dev"),
        cLibrary("COpus", pkgConfig: "opus", apt: "libopus-dev"),
        cLibrary("CVPX", pkgConfig: "vpx", apt: "libvpx-dev"),
        cLibrary("CDav1d", pkgConfig: "dav1d", apt: "libdav1d-dev"),
        cLibrary("CAOM", pkgConfig: "aom", apt: "libaom-dev"),
        cLibrary("CX264", pkgConfig: "x264", apt: "libx264-dev"),
        cLibrary("COpenH264", pkgConfig: "openh264", apt: "libopenh264-dev"),
        cLibrary("CHiredis", pkgConfig: "hiredis", apt: "libhiredis-dev"),
        cLibrary("CSodium", pkgConfig: "libsodium", apt: "libsodium-dev"),
        cLibrary("CBlake2", pkgConfig: "libb2", apt: "libb2-dev"),

        // MARK: Pure wire formats
        .target(name: "SFUWire", dependencies: nio + [crypto]),
        .target(name: "CCP", dependencies: nio + [crypto, "CBlake2"]),
        // The /connect handshake state machine and its JSON messages, kept free of I/O so that
        // Fuzz/ can link it.
        .target(name: "ConnectCore", dependencies: ["CCP", crypto] + nio),

        // MARK: Media plane
        .target(
            name: "Codecs",
            dependencies: ["SFUWire", "COpus", "CVPX", "CDav1d", "CAOM", "COpenH264"] + nio
        ),
        // x264 is GPL: only commucat-bench may link this target, never the commucat server.
        .target(name: "CodecsGPL", dependencies: ["Codecs", "CX264"]),
        // The codec benchmark (commucat-bench codecs): CommuCat's owners against ffmpeg.
        .target(name: "BenchCodecs", dependencies: ["Codecs", "CodecsGPL"]),
        // The SFU load generator (commucat-bench sfu): the project's own client stack against a server.
        .target(
            name: "BenchSFU",
            dependencies: [
                "SFUCore", "SFUWire", "ICE", "Codecs", .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ] + nio
        ),
        // The messaging load generator (commucat-bench messaging): paired clients over real /connect sessions.
        .target(
            name: "BenchMessaging",
            dependencies: ["Signalling", "ConnectCore", "CCP", .product(name: "AsyncHTTPClient", package: "async-http-client")] + nio
        ),
        .target(
            name: "ICE",
            dependencies: ["SFUWire", logging, crypto, .product(name: "NIOPosix", package: "swift-nio")] + nio
        ),
        .target(name: "Simulcast", dependencies: ["SFUWire", "Codecs"]),
        .target(
            name: "SFUCore",
            dependencies: [
                "SFUWire", "ICE", "Simulcast", "Codecs", "COpenSSL", "CSRTP", logging, metrics,
                .product(name: "NIOPosix", package: "swift-nio"),
            ] + nio
        ),

        // MARK: Product plane
        .target(
            name: "Storage",
            dependencies: [
                logging,
                .product(name: "SQLKit", package: "sql-kit"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ] + nio
        ),
        .target(
            name: "Redis",
            dependencies: ["CHiredis", logging, .product(name: "NIOPosix", package: "swift-nio")] + nio
        ),
        .target(name: "Ledger", dependencies: [crypto, logging]),
        .target(
            name: "Messaging",
            dependencies: ["CCP", "Storage", "Redis", "Ledger", logging, metrics, crypto] + nio
        ),
        .target(
            name: "Signalling",
            dependencies: [
                "SFUCore", "SFUWire", "Simulcast", "ICE", "CCP", "ConnectCore", "Messaging", "Storage", "Redis", "Ledger", logging,
                metrics, crypto,
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ]
        ),
        .target(
            name: "Ops",
            dependencies: [
                "Signalling", "ConnectCore", "Messaging", "SFUCore", "Storage", "Redis", "Ledger",
                logging, metrics, crypto,
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("Resources")]
        ),

        // MARK: Executables: main only
        .executableTarget(
            name: "commucat",
            dependencies: ["Ops", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "commucat-bench",
            dependencies: ["BenchCodecs", "BenchSFU", "BenchMessaging", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // MARK: Tests
        .testTarget(
            name: "CLibsTests",
            dependencies: [
                "COpenSSL", "CSRTP", "COpus", "CVPX", "CDav1d", "CAOM", "CX264", "COpenH264",
                "CHiredis", "CSodium", "CBlake2",
            ]
        ),
        .testTarget(name: "LedgerTests", dependencies: ["Ledger"]),
        .testTarget(name: "SFUWireTests", dependencies: ["SFUWire"], exclude: ["Fixtures"]),
        .testTarget(
            name: "CodecsTests",
            dependencies: ["Codecs", "CodecsGPL", "SFUWire", .product(name: "NIOCore", package: "swift-nio")],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "ICETests",
            dependencies: [
                "ICE", "SFUWire", crypto,
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ] + nio
        ),
        .testTarget(
            name: "SFUCoreTests",
            dependencies: [
                "SFUCore", "SFUWire", "Simulcast", "ICE", "COpenSSL", "CSRTP", crypto,
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "CCPTests",
            dependencies: ["CCP", .product(name: "NIOTestUtils", package: "swift-nio")],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "StorageTests", dependencies: ["Storage"]),
        .testTarget(
            name: "RedisTests",
            dependencies: ["Redis", .product(name: "NIOPosix", package: "swift-nio")]
        ),
        .testTarget(
            name: "SignallingTests",
            dependencies: [
                "Signalling", "ConnectCore", "SFUWire", "ICE", "Ops",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "OpsTests",
            dependencies: [
                "Ops", "Signalling", "ConnectCore", "CCP",
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
    ]
)

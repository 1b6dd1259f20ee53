// swift-tools-version: 6.1
// libFuzzer harness for CommuCat's wire parsers. Built separately from the main package because every
// module in it is compiled with -sanitize=fuzzer; scripts/run-fuzzers.sh builds and runs it.
import PackageDescription

let package = Package(
    name: "commucat-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "commucat", path: "..")],
    targets: [
        .executableTarget(
            name: "commucat-fuzz",
            dependencies: [
                .product(name: "SFUWire", package: "commucat"),
                .product(name: "CCP", package: "commucat"),
                .product(name: "Codecs", package: "commucat"),
                .product(name: "ConnectCore", package: "commucat"),
                .product(name: "Simulcast", package: "commucat"),
            ]
        )
    ]
)

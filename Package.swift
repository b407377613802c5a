// swift-tools-version:6.0
import PackageDescription

// Hot numeric code is compiled without bounds checks in release builds only (see
// ../shared/docs/swift-stack.md §5); debug builds keep every check.
let releaseSpeed: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "runner",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "runner", targets: ["runner"]),
        .executable(name: "runner-bench", targets: ["runner-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // C shims: imported by exactly one Swift module each.
        .systemLibrary(name: "CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .target(name: "CSpawn"),

        // The engine: spec, validation, DAG, cache, store, ledger, executors. Knows stages
        // only through the `StageKind` protocol.
        .target(
            name: "Engine",
            dependencies: ["CLibCrypto", "CSpawn", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // Stage kinds: one folder per kind, named after it.
        .target(name: "StageKinds", dependencies: ["Engine"]),
        .executableTarget(
            name: "runner",
            dependencies: ["Engine", "StageKinds", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // `make bench`: times the built `runner` binary against the targets in the issues.
        .executableTarget(name: "runner-bench", dependencies: ["Engine"]),

        .testTarget(name: "EngineTests", dependencies: ["Engine", "StageKinds"]),
        // Runs the built `runner` binary; depends on it so `swift test` builds it first.
        .testTarget(name: "CLITests", dependencies: ["Engine", "runner"], exclude: ["BadSpecs"]),
    ]
)

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
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // C shims: imported by exactly one Swift module each.
        .systemLibrary(name: "CLibCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .target(name: "CSpawn"),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLAPACKE", pkgConfig: "lapacke", providers: [.apt(["liblapacke-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        // zlib's inflate: gzip-compressed dataset sources read as a stream.
        .systemLibrary(name: "CInflate", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Numerics: matrices, BLAS/LAPACK, RNG. Knows nothing of pipelines.
        .target(name: "Numerics", dependencies: ["CBLAS", "CLAPACKE"], swiftSettings: releaseSpeed),
        // Artefact formats: torch checkpoints (restricted unpickler), safetensors, HDF5.
        .target(name: "Artefacts", dependencies: ["Numerics", "CHDF5", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        // The model layer: model configs and weights (MLPs, TransformerLens transformers), their
        // import (torch, safetensors, Hugging Face GPT-2; the authors' config.yaml, read with
        // Yams) and export, the node-layer graph and folded network, datasets (dataset.h5 and its
        // sources), the mod-add transformer's closed forms, evaluation.
        .target(name: "Model", dependencies: ["Numerics", "Artefacts", "CInflate", .product(name: "Yams", package: "Yams")], swiftSettings: releaseSpeed),
        // Leiden community detection (Traag, Waltman & van Eck 2019) on weighted undirected graphs.
        .target(name: "Leiden", swiftSettings: releaseSpeed),
        // Interpretability: node layers, means and grams, LIB and PCA bases, Jacobians.
        .target(name: "Interpretability", dependencies: ["Numerics", "Model", "Artefacts", "Leiden"], swiftSettings: releaseSpeed),

        // Reports: tables (Markdown, CSV) and figures (SVG) assembled into one self-contained HTML page.
        .target(name: "Reporting"),

        // The engine: spec, validation, DAG, cache, store, ledger, executors. Knows stages
        // only through the `StageKind` protocol.
        .target(
            name: "Engine",
            dependencies: ["CLibCrypto", "CSpawn", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // Stage kinds: one folder per kind, named after it.
        .target(name: "StageKinds", dependencies: ["Engine", "Model", "Artefacts", "Numerics", "Interpretability", "Leiden", "Reporting"]),
        .executableTarget(
            name: "runner",
            dependencies: ["Engine", "StageKinds", "Numerics", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // `make bench`: times the built `runner` binary against the targets in the issues.
        .executableTarget(name: "runner-bench", dependencies: ["Engine", "Model", "Numerics", "Interpretability", "Leiden"], swiftSettings: releaseSpeed),

        // Fuzzing (scripts/fuzz, Tests/Fuzz/README.md): the fuzz targets, shared by the two fuzz
        // executables and FuzzTests. Normal builds make the executables corpus replayers; only
        // scripts/fuzz (-DFUZZING) links libFuzzer, whose entry CLibFuzzer declares.
        .target(name: "CLibFuzzer"),
        .target(name: "FuzzTargets", dependencies: ["Engine", "StageKinds", "Artefacts", "CLibFuzzer"]),
        .executableTarget(name: "fuzz-spec", dependencies: ["FuzzTargets"]),
        .executableTarget(name: "fuzz-pickle", dependencies: ["FuzzTargets"]),

        .testTarget(name: "EngineTests", dependencies: ["Engine", "StageKinds"]),
        .testTarget(name: "LeidenTests", dependencies: ["Leiden"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting"]),
        .testTarget(name: "NumericsTests", dependencies: ["Numerics"]),
        .testTarget(name: "ArtefactsTests", dependencies: ["Artefacts", "Numerics"]),
        .testTarget(name: "InterpretabilityTests", dependencies: ["Interpretability", "Model", "Artefacts", "Numerics"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Artefacts", "Numerics", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        // Replays the committed fuzz corpora and crash reproducers (Tests/Fuzz/) through the fuzz targets.
        .testTarget(name: "FuzzTests", dependencies: ["FuzzTargets"]),
        // Runs the built `runner` binary; depends on it so `swift test` builds it first.
        .testTarget(name: "CLITests", dependencies: ["Engine", "Artefacts", "Model", "Numerics", "Interpretability", "runner"], exclude: ["BadSpecs", "BadInputs"]),
    ]
)

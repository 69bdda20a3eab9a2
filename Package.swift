// swift-tools-version:6.2
// ANVCS: a git extension for many AI agents and people at once.
// One target per layer of docs/ARCHITECTURE.md; dependencies point downward only.
import PackageDescription

/// Every Swift target: Swift 6 language mode (strict concurrency) and warnings are defects.
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .treatAllWarnings(as: .error),
]

let package = Package(
    name: "anvcs",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "git-anvcs", targets: ["git-anvcs"]),
        .executable(name: "git-remote-anvcs", targets: ["git-remote-anvcs"]),
        .executable(name: "anvcs-merge-engine", targets: ["anvcs-merge-engine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swiftlang/swift-syntax", from: "603.0.1"),
    ],
    targets: [
        // C libraries: thin system-library targets, each imported by exactly one wrapper module.
        .systemLibrary(name: "CLibgit2", pkgConfig: "libgit2",
                       providers: [.apt(["libgit2-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSQLite3", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        // Headers only (no pkgConfig: its -lcurl would link libcurl into every start).
        .systemLibrary(name: "CLibcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // Loads libcurl on first use and forwards to it; curl_easy_setopt/getinfo are variadic,
        // so typed, non-variadic wrappers live here too.
        .target(name: "CCurlShim", dependencies: ["CLibcurl"]),
        // Declines libgit2's eager parse of the system CA bundle at init (a third of a query's
        // instructions); ANVCS never uses libgit2's TLS transports. See its source for why.
        .target(name: "CLibgit2Startup"),
        // malloc statistics for `debug crdt-replay` (glibc's mallinfo2 is not in the Glibc module).
        .target(name: "CHeapStats"),
        // Extended attributes for verification stamps (sys/xattr.h is not in the Glibc module).
        .target(name: "CFileAttributes"),

        // Wrapper modules: the only Swift code that sees the C APIs.
        .target(name: "AnvcsGit", dependencies: ["CLibgit2", "CLibgit2Startup", "CZlib", .product(name: "Crypto", package: "swift-crypto")], exclude: ["README.md"], swiftSettings: strict),
        .target(name: "AnvcsSQLite", dependencies: ["CSQLite3"], exclude: ["README.md"], swiftSettings: strict),
        .target(name: "AnvcsHTTP", dependencies: ["CLibcurl", "CCurlShim"], exclude: ["README.md"], swiftSettings: strict),

        .target(name: "AnvcsProcess", exclude: ["README.md"], swiftSettings: strict),

        // Layers.
        .target(name: "AnvcsConfig", dependencies: ["Yams"], exclude: ["README.md"], swiftSettings: strict),
        .target(name: "AnvcsStorage", dependencies: [
            "AnvcsHTTP", "CFileAttributes", .product(name: "Crypto", package: "swift-crypto"),
        ], exclude: ["README.md"], swiftSettings: strict),
        .target(name: "AnvcsProvenance", dependencies: [
            "AnvcsGit", "AnvcsSQLite", "AnvcsConfig",
            .product(name: "Crypto", package: "swift-crypto"),
        ], exclude: ["README.md"], swiftSettings: strict),
        .target(name: "AnvcsArtifacts", dependencies: [
            "AnvcsGit", "AnvcsConfig", "AnvcsStorage", "AnvcsSQLite", "AnvcsProcess",
            .product(name: "Crypto", package: "swift-crypto"),
        ], exclude: ["README.md"], swiftSettings: strict),
        .target(name: "AnvcsCRDT", exclude: ["README.md"], swiftSettings: strict),
        .target(name: "AnvcsMerge", dependencies: ["AnvcsCRDT"], exclude: ["README.md"], swiftSettings: strict),
        // Swift through swift-syntax for the merge engine: linked only into anvcs-merge-engine, never
        // into git-anvcs (its ~5,000 conformance records slow every process start).
        .target(name: "AnvcsMergeSwift", dependencies: [
            "AnvcsMerge",
            .product(name: "SwiftParser", package: "swift-syntax"),
        ], exclude: ["README.md"], swiftSettings: strict),

        .target(name: "AnvcsRemote", dependencies: [
            "AnvcsGit", "AnvcsProvenance", "AnvcsStorage", "AnvcsHTTP", "AnvcsProcess",
            .product(name: "Crypto", package: "swift-crypto"),
        ], exclude: ["README.md"], swiftSettings: strict),

        // The only module that parses arguments, reads the environment and prints.
        .target(name: "AnvcsCommands", dependencies: [
            "AnvcsGit", "AnvcsConfig", "AnvcsProvenance", "AnvcsStorage", "AnvcsArtifacts", "AnvcsCRDT", "AnvcsMerge", "AnvcsRemote", "AnvcsProcess", "CHeapStats",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], exclude: ["README.md"], swiftSettings: strict),
        .executableTarget(name: "git-anvcs", dependencies: ["AnvcsCommands"], exclude: ["README.md"], swiftSettings: strict),
        // git's remote helper for anvcs:: URLs: reads git's commands on stdin, the protocol on stdout.
        // Over AnvcsRemote only (not AnvcsCommands): it starts without the command layer.
        .executableTarget(name: "git-remote-anvcs", dependencies: ["AnvcsRemote", "AnvcsConfig", "AnvcsGit"], swiftSettings: strict),
        // The merge engine with every parser; `git anvcs merge-driver` and `merge-file` exec it.
        .target(name: "AnvcsMergeTool", dependencies: [
            "AnvcsMerge", "AnvcsMergeSwift", "AnvcsProcess",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], exclude: ["README.md"], swiftSettings: strict),
        .executableTarget(name: "anvcs-merge-engine", dependencies: ["AnvcsMergeTool"], exclude: ["README.md"], swiftSettings: strict),
        // Prints the merge engine's figures beside git merge-file's on a mined corpus.
        .executableTarget(name: "anvcs-merge-benchmark", dependencies: ["AnvcsMerge", "AnvcsMergeSwift"], path: "Benchmarks/merge",
                          exclude: ["README.md"],
                          swiftSettings: strict),
        // Indexes one pack as a fetch from a store does, for Benchmarks/pack/run.sh (beside git index-pack).
        .executableTarget(name: "anvcs-pack-benchmark", dependencies: ["AnvcsGit"], path: "Benchmarks/pack",
                          exclude: ["run.sh"], swiftSettings: strict),
        // One timed storage operation per run, for Benchmarks/storage/run.sh (beside aws s3 cp and sha256sum).
        .executableTarget(name: "anvcs-storage-benchmark", dependencies: ["AnvcsStorage"], path: "Benchmarks/storage",
                          exclude: ["README.md", "run.sh"], swiftSettings: strict),

        // Tests: hermetic repositories, a process runner and a seeded RNG.
        .target(name: "AnvcsTestSupport", path: "Tests/AnvcsTestSupport", swiftSettings: strict),
        .testTarget(name: "AnvcsGitTests", dependencies: ["AnvcsGit", "AnvcsTestSupport", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: strict),
        .testTarget(name: "AnvcsConfigTests", dependencies: ["AnvcsConfig", "AnvcsTestSupport"], swiftSettings: strict),
        .testTarget(name: "AnvcsProvenanceTests", dependencies: ["AnvcsProvenance", "AnvcsTestSupport"], swiftSettings: strict),
        // Against moto's S3 server (scripts/test-deps.d/s3.sh) and small Python fault servers.
        .testTarget(name: "AnvcsStorageTests", dependencies: ["AnvcsStorage", "AnvcsHTTP", "AnvcsTestSupport", "CFileAttributes"], swiftSettings: strict),
        .testTarget(name: "AnvcsArtifactsTests", dependencies: ["AnvcsArtifacts", "AnvcsTestSupport", "CFileAttributes"], swiftSettings: strict),
        .testTarget(name: "AnvcsCRDTTests", dependencies: ["AnvcsCRDT", "AnvcsTestSupport"], swiftSettings: strict),
        .testTarget(name: "AnvcsMergeTests", dependencies: ["AnvcsMerge", "AnvcsMergeSwift", "AnvcsTestSupport"], swiftSettings: strict),
        .testTarget(name: "AnvcsRemoteTests", dependencies: ["AnvcsRemote", "AnvcsGit", "AnvcsTestSupport"], swiftSettings: strict),
        .testTarget(name: "IntegrationTests", dependencies: ["AnvcsTestSupport"], swiftSettings: strict),
    ]
)

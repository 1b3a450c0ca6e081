// swift-tools-version: 6.1
// Coffer: confidential containers in Swift. Module layout follows ../shared/DESIGN.md:
// dependencies point downward only, guest-side targets (CofferCore, CofferEvidence) never import
// Foundation and never depend on host-side targets.
import PackageDescription

let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
let cryptoExtras: Target.Dependency = .product(name: "_CryptoExtras", package: "swift-crypto")
let x509: Target.Dependency = .product(name: "X509", package: "swift-certificates")
let asn1: Target.Dependency = .product(name: "SwiftASN1", package: "swift-asn1")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let yams: Target.Dependency = .product(name: "Yams", package: "Yams")
let hummingbird: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird")
let sqliteNIO: Target.Dependency = .product(name: "SQLiteNIO", package: "sqlite-nio")
let hummingbirdTLS: Target.Dependency = .product(name: "HummingbirdTLS", package: "hummingbird")
let asyncHTTPClient: Target.Dependency = .product(name: "AsyncHTTPClient", package: "async-http-client")
let bigInt: Target.Dependency = .product(name: "BigInt", package: "BigInt")
let postgresNIO: Target.Dependency = .product(name: "PostgresNIO", package: "postgres-nio")

let package = Package(
    name: "Coffer",
    products: [
        .executable(name: "coffer", targets: ["coffer"]),
        .library(name: "CofferVerifier", targets: ["CofferVerifier"]),
        .library(name: "CofferImage", targets: ["CofferImage"]),
        .executable(name: "coffer-runtime", targets: ["coffer-runtime"]),
        .executable(name: "coffer-pal-host", targets: ["coffer-pal-host"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        // Key broker only (CofferKBS): HTTP server and embedded SQLite.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.0"),
        // Key broker only: PostgreSQL for replicated brokers (decision 0036).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.20.0"),
        // SGX SIGSTRUCT only (CofferVerifier): Q1 and Q2 need big-integer division (decision 0033).
        .package(url: "https://github.com/attaswift/BigInt", from: "6.0.1"),
    ],
    targets: [
        // MARK: Guest side and shared leaves (no Foundation)
        .target(name: "CofferCore"),
        // The one JSON parser and writer (collateral, broker protocol, OCI bundles); no dependencies.
        .target(name: "CofferJSON"),
        .target(name: "CofferEvidence", dependencies: ["CofferCore"]),
        .target(name: "CofferWire", dependencies: ["CofferCore", "CofferJSON"]),
        .target(name: "CCofferSys"),
        .target(name: "CofferSys", dependencies: ["CofferCore", "CCofferSys"]),
        .target(name: "CofferExt4", dependencies: ["CofferCore"]),
        // The agent is the broker's client (decision 0022): it links the protocol module and
        // swift-crypto (decision 0021 measured the cost), and formats volumes itself (0027).
        .target(name: "CofferAgent", dependencies: ["CofferCore", "CofferWire", "CofferSys", "CofferKBSProtocol", "CofferExt4", crypto]),
        // PID 1 of the guest; `make agent` links it fully static (see docs/host-guest-protocol.md).
        .executableTarget(name: "coffer-agent", dependencies: ["CofferAgent"]),

        // MARK: Host side
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "CofferImage", dependencies: ["CofferCore", "CofferWire", "CZlib", crypto, cryptoExtras, yams]),
        .target(
            name: "CofferVerifier",
            dependencies: ["CofferCore", "CofferEvidence", "CofferJSON", crypto, cryptoExtras, x509, asn1, bigInt]
        ),
        // The guest kernel's configuration fragment and its recorded digests are data, not code.
        .target(name: "CofferVMM", dependencies: ["CofferCore", "CofferWire", "CofferSys"], exclude: ["Kernel/coffer-guest.config", "Kernel/coffer-guest.sha256"]),
        // The key broker's protocol as a client needs it (the guest agent links it next): no
        // Foundation of its own, no HTTP, no database (decision 0021).
        .target(name: "CofferKBSProtocol", dependencies: ["CofferCore", "CofferJSON", crypto]),
        // The key broker: the only target with an HTTP server and a database (keep them out of the rest).
        .target(
            name: "CofferKBS",
            dependencies: ["CofferCore", "CofferEvidence", "CofferJSON", "CofferKBSProtocol", "CofferVerifier", crypto, cryptoExtras, x509, asn1, hummingbird, hummingbirdTLS, sqliteNIO, postgresNIO, asyncHTTPClient]
        ),
        // OCI runtime (rune-compatible): no Foundation, so that runc's callers pay little start-up.
        .target(name: "CCofferOCIRuntime"),
        .target(name: "CofferOCIRuntime", dependencies: ["CofferCore", "CofferJSON", "CCofferOCIRuntime"]),
        // The Swift standard library linked in: loading and relocating the shared Swift libraries
        // cost most of coffer-runtime's start-up, paid by every container (docs/benchmarks.md).
        .executableTarget(
            name: "coffer-runtime", dependencies: ["CofferOCIRuntime"], linkerSettings: [.unsafeFlags(["-static-stdlib"])]),
        // The enclave container's init, in C: it runs inside the container on the host's loader.
        // --as-needed drops the Swift runtime SwiftPM's link line adds: it is plain C (decision 0012).
        .executableTarget(
            name: "coffer-pal-host", dependencies: ["CCofferOCIRuntime"],
            linkerSettings: [.unsafeFlags(["-static-stdlib", "-Xlinker", "--as-needed"])]),
        .executableTarget(
            name: "coffer",
            dependencies: ["CofferImage", "CofferVerifier", "CofferEvidence", "CofferVMM", "CofferSys", "CofferKBS", "CofferKBSProtocol", "CofferJSON", argumentParser, crypto, cryptoExtras, x509]),

        // MARK: Benchmarks (programs, not timed tests)
        .executableTarget(name: "verity-bench", dependencies: ["CofferImage"], path: "Benchmarks/VerityBench"),
        .executableTarget(name: "attest-bench", dependencies: ["CofferVerifier"], path: "Benchmarks/AttestBench"),
        .executableTarget(name: "runtime-bench", dependencies: ["CofferCore"], path: "Benchmarks/RuntimeBench"),
        .executableTarget(name: "exec-bench", dependencies: ["CofferVMM", "CofferWire", "CofferCore"], path: "Benchmarks/ExecBench"),
        .executableTarget(name: "kbs-bench", dependencies: ["CofferKBS", "CofferCore", crypto], path: "Benchmarks/KBSBench"),
        .executableTarget(name: "boot-bench", dependencies: ["CofferCore"], path: "Benchmarks/BootBench"),
        .executableTarget(name: "provision-bench", dependencies: ["CofferCore"], path: "Benchmarks/ProvisionBench"),

        // MARK: Fuzzing (`make fuzz` builds them with -sanitize=fuzzer; a plain build replays files)
        .systemLibrary(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"),
        .executableTarget(
            name: "evidence-fuzz", dependencies: ["CofferEvidence", "CofferJSON", "CofferVerifier", "CLibFuzzer"], path: "Fuzz/EvidenceFuzz"),
        .executableTarget(name: "wire-fuzz", dependencies: ["CofferWire", "CofferCore", "CLibFuzzer"], path: "Fuzz/WireFuzz"),
        .executableTarget(name: "kbs-fuzz", dependencies: ["CofferKBS", "CofferKBSProtocol", "CofferJSON", "CofferVerifier", "CLibFuzzer", crypto], path: "Fuzz/KBSFuzz"),

        // MARK: Tests
        .target(name: "CofferTestSupport", path: "Tests/CofferTestSupport"),
        .testTarget(name: "CofferRuntimeTests", dependencies: ["CofferOCIRuntime", "CofferJSON", "CofferTestSupport"]),
        .testTarget(name: "CofferCLITests", dependencies: ["CofferTestSupport"]),
        .testTarget(name: "CofferCoreTests", dependencies: ["CofferCore"]),
        .testTarget(name: "CofferJSONTests", dependencies: ["CofferJSON"]),
        .testTarget(name: "CofferImageTests", dependencies: ["CofferImage", "CofferWire", "CofferCore", "CofferTestSupport"]),
        .testTarget(name: "CofferWireTests", dependencies: ["CofferWire", "CofferCore"]),
        // CofferKBS: the hostile-relay tests run the real broker on loopback against the agent's client.
        .testTarget(name: "CofferAgentTests", dependencies: ["CofferAgent", "CofferKBS", "CofferKBSProtocol", "CofferJSON", "CofferCore", "CofferEvidence", "CofferVerifier", "CofferTestSupport", crypto]),
        .testTarget(name: "CofferExt4Tests", dependencies: ["CofferExt4", "CofferTestSupport"]),
        // CofferKBS only for the interoperability test (the broker's encrypt side, the protocol's decrypt side).
        .testTarget(name: "CofferKBSProtocolTests", dependencies: ["CofferKBSProtocol", "CofferKBS", "CofferJSON", "CofferCore", "CofferTestSupport", crypto]),
        .testTarget(name: "CofferVMMTests", dependencies: ["CofferVMM", "CofferWire", "CofferCore", "CofferTestSupport"]),
        // CofferWire: the host relay test plays the guest's side of the channel against the real monitor.
        .testTarget(name: "CofferKBSTests", dependencies: ["CofferKBS", "CofferKBSProtocol", "CofferJSON", "CofferVerifier", "CofferEvidence", "CofferWire", "CofferCore", "CofferTestSupport"]),
        .testTarget(
            name: "CofferVerifierTests", dependencies: ["CofferVerifier", "CofferJSON", "CofferEvidence", "CofferCore", "CofferTestSupport"],
            exclude: ["Fixtures"]),
    ]
)

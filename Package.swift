// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "swift-sockmap",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "BPFObject", targets: ["BPFObject"]),
        .library(name: "BPFLoader", targets: ["BPFLoader"]),
        .library(name: "SockmapAccelerator", targets: ["SockmapAccelerator"]),
        .executable(name: "swift-sockmap", targets: ["swift-sockmap"]),
        .executable(name: "sockmap-bench", targets: ["sockmap-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"), // LogEvent: the agent's JSON log handler
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
        // The agent's HTTP server (NIOHTTP1) and its Prometheus text (swift-prometheus).
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"), // MetricNameDescriptor
    ],
    targets: [
        // The only C in the package: bpf(2) and a few other syscalls Swift cannot call directly.
        .target(
            name: "CBPF",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        // The object model: ELF → BTF → object spec → linked programs, CO-RE against a target BTF.
        // Pure Swift, no C, no system calls and no files (it takes bytes): what the fuzzer drives.
        .target(name: "BPFObject"),
        // Kernel objects: maps, programs, BTF, pins and attachments through one bpf(2) entry point.
        .target(
            name: "BPFLoader",
            dependencies: [
                "BPFObject",
                "CBPF",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The accelerator: cgroup discovery, bpffs pins, load/detach/status.
        .target(
            name: "SockmapAccelerator",
            dependencies: [
                "BPFObject",
                "BPFLoader",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Writes a BPF object's bytes into a Swift file (the build tool of EmbedDataPath).
        .executableTarget(name: "bpf-embed"),
        // Compiles bpf/redir.c with the toolchain's clang during `swift build`.
        .plugin(name: "EmbedDataPath", capability: .buildTool(), dependencies: ["bpf-embed"]),
        // bpf/redir.c's object, embedded in the binary.
        .target(name: "EmbeddedDataPath", plugins: ["EmbedDataPath"]),
        // `swift-sockmap agent`: keeps an installation in place and serves /metrics, /healthz
        // and /readyz over HTTP.
        .target(
            name: "SockmapAgent",
            dependencies: [
                "SockmapAccelerator",
                "BPFLoader",
                "BPFObject",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "swift-sockmap",
            dependencies: [
                "SockmapAccelerator",
                "SockmapAgent",
                "EmbeddedDataPath",
                "BPFLoader",
                "BPFObject",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // Side-by-side benchmark: plain TCP vs accelerated TCP vs the seed's programs vs Unix sockets.
        .executableTarget(
            name: "sockmap-bench",
            dependencies: [
                "SockmapAccelerator",
                "BPFLoader",
                "BPFObject",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // What the test targets share: a subprocess runner, a wait for a condition with a
        // deadline, a seeded generator, deterministic test bytes and the package's paths.
        // Not a product.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(
            name: "BPFLoaderTests",
            dependencies: ["BPFLoader", "BPFObject", "TestSupport"]
        ),
        // The kernel layer through its bpf(2) seam, with a scripted kernel: no root, no BPF.
        .testTarget(name: "BPFLoaderUnitTests", dependencies: ["BPFLoader", "BPFObject", "CBPF"]),
        .testTarget(
            name: "LoaderFidelityTests",
            dependencies: [
                "BPFLoader", "BPFObject", "SockmapAccelerator", "TestSupport",
                .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        // The benchmark's statistics and report, no root: round pairing, mode order, ratios.
        .testTarget(name: "SockmapBenchTests", dependencies: ["sockmap-bench", "SockmapAccelerator"]),
        // Tests only: a forked child that makes sockets in an accelerated cgroup, so the test
        // runner itself never moves between cgroups.
        .target(name: "CSocketFactory", path: "Tests/CSocketFactory"),
        .testTarget(
            name: "SockmapAcceleratorTests",
            dependencies: ["SockmapAccelerator", "SockmapAgent", "BPFLoader", "BPFObject", "CSocketFactory", "TestSupport"]
        ),
    ]
)

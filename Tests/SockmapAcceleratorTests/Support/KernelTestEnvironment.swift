import BPFLoader
import Foundation
import SockmapAccelerator
import TestSupport
import Testing

/// Facts about the machine that decide whether kernel tests can run, and the paths they use.
enum KernelTestEnvironment {
    static let isCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// Why kernel tests cannot run here, or nil when they can.
    static let unavailableReason: String? = {
        if !HostSystem.isRoot { return "needs root (BPF programs, cgroups)" }
        if (try? Mounts.cgroup2MountPoint()) == nil { return "no cgroup2 mount" }
        if !FileManager.default.fileExists(atPath: PackageLayout.redirObject) { return "bpf/redir.o is not built (run `make -C bpf`)" }
        return nil
    }()

    /// Kernel tests run when possible, and always in CI (where a missing prerequisite must fail, not skip).
    static var enabled: Bool { isCI || unavailableReason == nil }
    static var skipComment: Comment { Comment(rawValue: "skipped outside CI: \(unavailableReason ?? "")") }


    /// The directory holding the built executables (next to the test bundle).
    static let buildDirectory: String = {
        for candidate in [Bundle.main.bundlePath, CommandLine.arguments.first ?? ""] {
            var url = URL(fileURLWithPath: candidate)
            for _ in 0..<4 {
                if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("swift-sockmap").path) { return url.path }
                url.deleteLastPathComponent()
            }
        }
        return PackageLayout.root + "/.build/debug"
    }()

    static var cliPath: String { buildDirectory + "/swift-sockmap" }
}

extension CommandRunner {
    /// Runs the built `swift-sockmap`.
    static func cli(_ arguments: String...) throws -> CommandResult {
        try run(KernelTestEnvironment.cliPath, arguments)
    }

    /// Runs the built `swift-sockmap` with extra environment variables.
    static func cli(environment: [String: String], _ arguments: String...) throws -> CommandResult {
        try run(KernelTestEnvironment.cliPath, arguments, environment: environment)
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test when kernel tests can run here, and always in CI.
    static var kernel: Self {
        .enabled(if: KernelTestEnvironment.enabled, KernelTestEnvironment.skipComment)
    }
}

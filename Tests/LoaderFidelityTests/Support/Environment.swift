import Foundation
import SockmapAccelerator
import Testing

/// Whether kernel tests can run here, and the bpftool they compare with.
enum Environment {
    /// Kernel tests need root, bpffs and bpftool. In CI (`CI=true`) they always run, so a missing
    /// privilege fails loudly there instead of skipping.
    static let kernelTestsEnabled: Bool = {
        if ProcessInfo.processInfo.environment["CI"] == "true" { return true }
        return getuid() == 0 && FileManager.default.isExecutableFile(atPath: bpftool)
            && FileManager.default.fileExists(atPath: "/sys/fs/bpf")
    }()
    static let kernelTestsReason: Comment = "needs root, bpffs and bpftool (always runs when CI=true)"

    static let bpftool: String = {
        for candidate in ["/usr/sbin/bpftool", "/usr/bin/bpftool", "/usr/local/sbin/bpftool"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "bpftool"
    }()
}

/// A fresh directory in bpffs, removed with everything pinned in it when the value goes away.
final class PinDirectory {
    let path: String

    init(_ label: String) throws {
        path = "/sys/fs/bpf/swift-sockmap-fidelity-\(getpid())-\(label)-\(UInt32.random(in: 0...UInt32.max))"
        try BPFFileSystem.ensureMounted(for: path) // a fresh machine may have no bpffs yet
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func sub(_ name: String) throws -> String {
        let dir = path + "/" + name
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

import BPFLoader
import Foundation
import SockmapAccelerator

/// A fresh cgroup and pin directory with the accelerator loaded, removed again by `tearDown()`.
/// Each test gets its own, so tests never see each other's sockets or counters.
final class AcceleratedCgroup {
    private static let counter = Counter()

    let cgroup: Cgroup
    let accelerator: Accelerator
    let name: String

    /// `configure` adjusts the load options before loading (local prefixes, discovery).
    init(load: Bool = true, maxEntries: UInt32? = nil, object: String = KernelTestEnvironment.redirObject,
         configure: (inout Accelerator.LoadOptions) -> Void = { _ in }) throws {
        name = "sockmap-test-\(getpid())-\(Self.counter.next())"
        let mount = try Mounts.cgroup2MountPoint()
        cgroup = Cgroup(path: mount + "/" + name)
        accelerator = Accelerator(pinDirectory: "/sys/fs/bpf/" + name)
        if load {
            var options = Accelerator.LoadOptions(objectPath: object, cgroup: cgroup.path, maxEntries: maxEntries)
            configure(&options)
            try accelerator.load(options)
        }
    }

    var pinDirectory: String { accelerator.pins.directory }

    func counters() throws -> Counters { try accelerator.counters() }

    /// Runs `body` with this process inside the cgroup: sockets created in `body` belong to it
    /// (a socket keeps the cgroup it was created in). The process moves back afterwards.
    func inside<T>(_ body: () throws -> T) throws -> T {
        let original = try Self.currentCgroup()
        try cgroup.add()
        defer { try? original.add() }
        return try body()
    }

    func tearDown() {
        _ = try? accelerator.detach(force: true)
        _ = cgroup.removeIfEmpty()
    }

    /// This process's cgroup v2 directory, from /proc/self/cgroup ("0::/path").
    static func currentCgroup() throws -> Cgroup {
        let text = try String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)
        let line = text.split(separator: "\n").first { $0.hasPrefix("0::") } ?? "0::/"
        return Cgroup(path: try Mounts.cgroup2MountPoint() + String(line.dropFirst(3)).replacingOccurrences(of: "//", with: "/"))
    }

    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
    }
}

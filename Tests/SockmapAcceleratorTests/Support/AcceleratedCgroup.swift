import BPFLoader
import Foundation
import SockmapAccelerator
import TestSupport

/// A fresh cgroup and pin directory with the accelerator loaded, removed again by `tearDown()`.
/// Each test gets its own, so tests never see each other's sockets or counters.
final class AcceleratedCgroup {
    private static let counter = Counter()

    let cgroup: Cgroup
    let accelerator: Accelerator
    let name: String

    /// `configure` adjusts the load options before loading (local prefixes, discovery).
    init(load: Bool = true, maxEntries: UInt32? = nil, object: String = PackageLayout.redirObject,
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

    /// A new TCP socket (descriptor owned by the caller) that belongs to this cgroup, and to
    /// `namespace` when given, made by `SocketFactory`: the test runner never moves, so the
    /// sockets other tests open meanwhile stay out of this cgroup.
    func socketDescriptor(family: Int32 = AF_INET, in namespace: NetworkNamespace? = nil) throws -> Int32 {
        try SocketFactory.shared.get().socket(family: family, in: cgroup, namespace: namespace)
    }

    /// `TestSocket.tcp(family)`, made in this cgroup (and `namespace`): see `socketDescriptor`.
    func tcp(_ family: Int32 = AF_INET, in namespace: NetworkNamespace? = nil) throws -> TestSocket {
        let socket = TestSocket(fd: try socketDescriptor(family: family, in: namespace))
        socket.setTimeouts()
        return socket
    }

    func tearDown() {
        _ = try? accelerator.detach(force: true)
        _ = cgroup.removeIfEmpty()
    }

    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
    }
}

import CSocketFactory
import Foundation
import SockmapAccelerator

/// A child process that creates sockets in a given cgroup and network namespace for the tests.
///
/// A socket belongs for good to the cgroup (and network namespace) of the process that created
/// it, and the accepted side of a connection to its listener's. Moving the test runner itself in
/// and out of a cgroup would also catch the sockets other suites open at that moment on their
/// own threads, and put them in another test's SOCKHASH. Only this child moves: into the cgroup
/// for the one `socket()` call, then back, so the cgroup holds no process between calls (and
/// `detach` can remove a cgroup it created). The runner uses the sockets it hands over.
final class SocketFactory: @unchecked Sendable {
    /// The one factory of the test process, started at first use.
    static let shared = Result { try SocketFactory() }

    let pid: pid_t
    private let control: Int32
    /// Where the child waits between calls: the test runner's own cgroup.
    private let home: Cgroup
    private let lock = NSLock()

    private init() throws {
        home = try Self.currentCgroup()
        var control: Int32 = -1
        let pid = socket_factory_start(&control)
        guard pid > 0 else { throw TestSocketError("start the socket factory", -pid) }
        self.pid = pid
        self.control = control
    }

    /// A new socket of `family` and `type` that belongs to `cgroup` and `namespace` (nil: the
    /// root namespace). The descriptor is the caller's.
    func socket(family: Int32, type: Int32 = Int32(SOCK_STREAM.rawValue), in cgroup: Cgroup,
                namespace: NetworkNamespace? = nil) throws -> Int32 {
        var netns: Int32 = -1
        if let namespace {
            netns = open("/var/run/netns/" + namespace.name, O_RDONLY | O_CLOEXEC)
            guard netns >= 0 else { throw TestSocketError("open /var/run/netns/\(namespace.name)") }
        }
        defer { if netns >= 0 { close(netns) } }
        return try lock.withLock {
            do { try cgroup.add(pid: pid) } catch { throw TestSocketError("move the socket factory into \(cgroup.path): \(error)", 0) }
            defer { try? home.add(pid: pid) }
            let fd = socket_factory_socket(control, family, type, netns)
            guard fd >= 0 else { throw TestSocketError("socket from the factory in \(cgroup.path)", -fd) }
            return fd
        }
    }

    /// This process's cgroup v2 directory, from /proc/self/cgroup ("0::/path").
    private static func currentCgroup() throws -> Cgroup {
        let text = try String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)
        let line = text.split(separator: "\n").first { $0.hasPrefix("0::") } ?? "0::/"
        return Cgroup(path: try Mounts.cgroup2MountPoint() + String(line.dropFirst(3)).replacingOccurrences(of: "//", with: "/"))
    }
}

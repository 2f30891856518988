import Glibc
import SockmapAccelerator

/// The cgroup v2 side of the benchmark: where cgroup2 is mounted, the bench's own cgroup, and
/// moving a process into one.
enum CgroupPlacement {
    /// The cgroup2 mount point, as swift-sockmap finds it in /proc/self/mountinfo.
    static func cgroup2Mount() throws -> String {
        try Mounts.cgroup2MountPoint()
    }

    /// Creates `directory` as a fresh, empty cgroup.
    static func create(_ directory: String) throws {
        guard mkdir(directory, 0o755) == 0 else { throw BenchError.system("mkdir \(directory)") }
    }

    /// Removes an (empty) cgroup; exited children can linger for a moment, so retry briefly.
    static func remove(_ directory: String) throws {
        for _ in 0..<50 {
            if rmdir(directory) == 0 || errno == ENOENT { return }
            guard errno == EBUSY else { break }
            usleep(20_000)
        }
        throw BenchError.system("rmdir \(directory)")
    }

    /// Moves the calling process into `directory`. Must run before the process creates a socket:
    /// a socket belongs to the cgroup its creator was in at socket() time.
    static func joinSelf(_ directory: String) throws {
        try Cgroup(path: directory).add()
    }
}

/// The whole of a small file (procfs, sysfs, cgroupfs) as text.
func readTextFile(_ path: String) throws -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw BenchError.system("open \(path)") }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n == 0 { break }
        if n < 0 {
            if errno == EINTR { continue }
            throw BenchError.system("read \(path)")
        }
        bytes.append(contentsOf: chunk[..<n])
    }
    return String(decoding: bytes, as: UTF8.self)
}

import Glibc

/// The cgroup v2 side of the benchmark: where cgroup2 is mounted, the bench's own cgroup, and
/// moving a process into one.
enum CgroupPlacement {
    /// The cgroup2 mount point from /proc/self/mountinfo (the field after " - " is the fstype).
    static func cgroup2Mount() throws -> String {
        let text = try readTextFile("/proc/self/mountinfo")
        for line in text.split(separator: "\n") {
            let halves = line.split(separator: " - ", maxSplits: 1)
            guard halves.count == 2, halves[1].split(separator: " ").first == "cgroup2" else { continue }
            let fields = halves[0].split(separator: " ")
            if fields.count > 4 { return unescapeMountPath(String(fields[4])) }
        }
        throw BenchError("no cgroup2 mount in /proc/self/mountinfo")
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
        try writeTextFile("\(directory)/cgroup.procs", "0\n")
    }

    /// mountinfo escapes space, tab, newline and backslash as octal.
    private static func unescapeMountPath(_ path: String) -> String {
        guard path.contains("\\") else { return path }
        var bytes: [UInt8] = []
        var utf8 = Array(path.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3,
               let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
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

/// Writes `text` to an existing file in one write(2), as cgroupfs wants.
func writeTextFile(_ path: String, _ text: String) throws {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { throw BenchError.system("open \(path)") }
    defer { close(fd) }
    let bytes = Array(text.utf8)
    let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard n == bytes.count else { throw BenchError.system("write \(path)") }
}

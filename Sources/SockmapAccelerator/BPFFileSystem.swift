import BPFLoader
import Foundation

/// The BPF file system (bpffs), where maps and programs are pinned so they outlive the loader.
public enum BPFFileSystem {
    public static let defaultMount = "/sys/fs/bpf"

    /// Mounts bpffs at /sys/fs/bpf if no bpffs covers `path`.
    public static func ensureMounted(for path: String) throws(AcceleratorError) {
        let mounts = Mounts.read().filter { $0.fileSystemType == "bpf" }
        if mounts.contains(where: { path == $0.mountPoint || path.hasPrefix($0.mountPoint + "/") }) { return }
        guard path == defaultMount || path.hasPrefix(defaultMount + "/") else {
            throw .bpffsUnavailable(path: path, reason: "no BPF file system is mounted there; mount one with `mount -t bpf bpf DIR`")
        }
        try? FileManager.default.createDirectory(atPath: defaultMount, withIntermediateDirectories: true)
        // Two first-time loads must not both mount (mounts would stack): decide under a lock on
        // the mount point's parent, and look again once holding it.
        let parent = open("/sys/fs", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if parent >= 0 { flock(parent, LOCK_EX) }
        defer { if parent >= 0 { close(parent) } }
        if Mounts.read().contains(where: { $0.fileSystemType == "bpf" && $0.mountPoint == defaultMount }) { return }
        do { try HostSystem.mountBPFFileSystem(at: defaultMount) } catch {
            throw .bpffsUnavailable(path: defaultMount, reason: "mount failed: \(error)")
        }
    }

    /// Creates a directory (and missing parents) readable by root only, with mkdir(2): bpffs
    /// supports nothing more elaborate.
    public static func makeDirectory(_ path: String) throws(AcceleratorError) {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST {
                throw .io(path: prefix, reason: "cannot create directory: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Removes a pin directory and everything pinned in it (unpinning drops the references).
    public static func removeTree(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    public static func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }
}

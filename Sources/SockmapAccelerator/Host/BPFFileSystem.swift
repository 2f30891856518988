import BPFLoader
import FoundationEssentials

/// The BPF file system (bpffs), where maps and programs are pinned so they outlive the loader.
package enum BPFFileSystem {
    /// Where bpffs is mounted by convention, and where `ensureMounted` mounts it.
    package static let defaultMount = "/sys/fs/bpf"

    /// The directory whose lock serialises first-time mounts of `defaultMount`.
    static let mountLockDirectory = "/sys/fs"

    /// Mounts bpffs at /sys/fs/bpf if no bpffs covers `path`.
    package static func ensureMounted(for path: String) throws(AcceleratorError) {
        let mounts = Mounts.read().filter { $0.fileSystemType == "bpf" }
        if mounts.contains(where: { path == $0.mountPoint || path.hasPrefix($0.mountPoint + "/") }) { return }
        guard path == defaultMount || path.hasPrefix(defaultMount + "/") else {
            throw .bpffsUnavailable(path: path, reason: "no BPF file system is mounted there; mount one with `mount -t bpf bpf DIR`")
        }
        try? HostSystem.makeDirectory(defaultMount) // usually there (sysfs has it); mount says if not
        // Two first-time loads must not both mount (mounts would stack): decide under a lock on
        // the mount point's parent, and look again once holding it.
        let lock: FileLock
        do { lock = try FileLock(exclusive: mountLockDirectory, wait: .forever) } catch {
            throw .bpffsUnavailable(path: defaultMount, reason: "cannot lock \(mountLockDirectory) to mount it: \(error)")
        }
        try lock.whileHeld { () throws(AcceleratorError) in
            if Mounts.isMounted(defaultMount, type: "bpf") { return }
            do { try HostSystem.mountFileSystem(.bpf, at: defaultMount) } catch {
                throw .bpffsUnavailable(path: defaultMount, reason: "mount failed: \(error)")
            }
        }
    }

    /// Creates a directory (and missing parents) readable by root only, with mkdir(2): bpffs
    /// supports nothing more elaborate.
    package static func makeDirectory(_ path: String) throws(AcceleratorError) {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            do { try HostSystem.makeDirectory(prefix) } catch where error == .fileExists {} catch {
                throw .systemCall(path: prefix, operation: "create directory", errno: error)
            }
        }
    }

    /// Removes a pin directory and everything pinned in it (unpinning drops the references).
    package static func removeTree(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Whether anything exists at `path`.
    package static func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path)
    }
}

import BPFLoader
import FoundationEssentials
import Glibc
import SystemPackage

/// A cgroup v2 directory.
package struct Cgroup: Sendable, Equatable {
    /// The directory, absolute.
    package let path: String

    /// Name of the cgroup `load` uses when none is given, under the cgroup2 mount.
    package static let defaultName = "swift-sockmap"

    /// The cgroup at `path` (absolute), which need not exist.
    package init(path: String) { self.path = path }

    /// The mode a created cgroup directory asks for, as mkdir(1) does: the umask decides.
    static let directoryPermissions = FilePermissions(rawValue: 0o777)

    /// Resolves a user-given path: absolute, or relative to the cgroup2 mount. Must lie under the mount.
    package static func resolve(_ given: String?) throws(AcceleratorError) -> Cgroup {
        let mount = try Mounts.cgroup2MountPoint()
        guard let given else { return Cgroup(path: mount + "/" + defaultName) }
        let absolute = given.hasPrefix("/") ? given : mount + "/" + given
        let normalized = URL(fileURLWithPath: absolute).standardizedFileURL.path
        guard normalized == mount || normalized.hasPrefix(mount + "/") else {
            throw .cgroupNotUnderMount(path: given, mount: mount)
        }
        return Cgroup(path: normalized)
    }

    /// Whether the cgroup exists (its `cgroup.procs` does).
    package var exists: Bool {
        FileManager.default.fileExists(atPath: path + "/cgroup.procs")
    }

    /// Creates the directory if it is missing. Returns whether it was created.
    @discardableResult
    package func create() throws(AcceleratorError) -> Bool {
        if exists { return false }
        do { try HostSystem.makeDirectory(path, permissions: Cgroup.directoryPermissions) } catch {
            throw .systemCall(path: path, operation: "create cgroup", errno: error)
        }
        return true
    }

    /// Process ids in the cgroup and all its children.
    package func processesInTree() -> [Int32] {
        tree.flatMap { $0.processes() }
    }

    /// This cgroup and every cgroup below it.
    var tree: [Cgroup] {
        var found: [Cgroup] = [], pending = [self]
        while let cgroup = pending.popLast() {
            found.append(cgroup)
            pending += cgroup.children
        }
        return found
    }

    /// The cgroup's id (the inode number of its cgroup2 directory, as the kernel's `kn->id`); nil
    /// when the directory is gone.
    var id: UInt64? {
        var status = stat()
        return stat(path, &status) == 0 ? UInt64(status.st_ino) : nil
    }

    /// Process ids in the cgroup (not its children).
    package func processes() -> [Int32] {
        guard let text = try? String(contentsOfFile: path + "/cgroup.procs", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { Int32($0) }
    }

    /// Whether the cgroup has child cgroups (subdirectories).
    package var hasChildren: Bool { !children.isEmpty }

    /// The child cgroups (subdirectories).
    var children: [Cgroup] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return entries.map { Cgroup(path: path + "/" + $0) }.filter { child in
            var status = stat()
            return stat(child.path, &status) == 0 && status.st_mode & S_IFMT == S_IFDIR
        }
    }

    /// Removes the directory when no process and no child cgroup is left in it. Returns whether it did.
    @discardableResult
    package func removeIfEmpty() -> Bool {
        guard exists, processes().isEmpty, !hasChildren else { return false }
        return (try? HostSystem.removeDirectory(path)) != nil
    }

    /// Moves a process (0 = the caller) into this cgroup.
    package func add(pid: Int32 = 0) throws(AcceleratorError) {
        do { try HostSystem.write("\(pid)\n", toExisting: path + "/cgroup.procs") } catch {
            throw .systemCall(path: path + "/cgroup.procs", operation: "move process \(pid == 0 ? getpid() : pid) into the cgroup", errno: error)
        }
    }

    /// Opens the directory, as `BPF_PROG_ATTACH` wants it.
    package func open() throws(AcceleratorError) -> FileDescriptor {
        guard exists else { throw .cgroupNotFound(path: path) }
        do { return try HostSystem.openDirectory(path) } catch {
            throw .systemCall(path: path, operation: "open cgroup", errno: error)
        }
    }
}

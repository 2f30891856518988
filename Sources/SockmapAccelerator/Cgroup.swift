import Foundation
import SystemPackage

/// A cgroup v2 directory.
public struct Cgroup: Sendable, Equatable {
    public let path: String

    /// Name of the cgroup `load` uses when none is given, under the cgroup2 mount.
    public static let defaultName = "swift-sockmap"

    public init(path: String) { self.path = path }

    /// The default cgroup: `<cgroup2 mount>/swift-sockmap`.
    public static func defaultCgroup() throws(AcceleratorError) -> Cgroup {
        Cgroup(path: try Mounts.cgroup2MountPoint() + "/" + defaultName)
    }

    /// Resolves a user-given path: absolute, or relative to the cgroup2 mount. Must lie under the mount.
    public static func resolve(_ given: String?) throws(AcceleratorError) -> Cgroup {
        let mount = try Mounts.cgroup2MountPoint()
        guard let given else { return Cgroup(path: mount + "/" + defaultName) }
        let absolute = given.hasPrefix("/") ? given : mount + "/" + given
        let normalized = URL(fileURLWithPath: absolute).standardizedFileURL.path
        guard normalized == mount || normalized.hasPrefix(mount + "/") else {
            throw .cgroupNotUnderMount(path: given, mount: mount)
        }
        return Cgroup(path: normalized)
    }

    public var exists: Bool {
        FileManager.default.fileExists(atPath: path + "/cgroup.procs")
    }

    /// Creates the directory if it is missing. Returns whether it was created.
    @discardableResult
    public func create() throws(AcceleratorError) -> Bool {
        if exists { return false }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        } catch {
            throw .io(path: path, reason: "cannot create cgroup: \(error.localizedDescription)")
        }
        return true
    }

    /// Process ids in the cgroup (not its children).
    public func processes() -> [Int32] {
        guard let text = try? String(contentsOfFile: path + "/cgroup.procs", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { Int32($0) }
    }

    public var hasChildren: Bool {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return entries.contains { name in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: path + "/" + name, isDirectory: &isDirectory) && isDirectory.boolValue
        }
    }

    /// Removes the directory when no process and no child cgroup is left in it. Returns whether it did.
    @discardableResult
    public func removeIfEmpty() -> Bool {
        guard exists, processes().isEmpty, !hasChildren else { return false }
        return rmdir(path) == 0
    }

    /// Moves a process (0 = the caller) into this cgroup.
    public func add(pid: Int32 = 0) throws(AcceleratorError) {
        do {
            let fd = try FileDescriptor.open(FilePath(path + "/cgroup.procs"), .writeOnly)
            try fd.closeAfter { _ = try fd.writeAll("\(pid)\n".utf8) }
        } catch {
            throw .io(path: path + "/cgroup.procs", reason: "cannot move process \(pid == 0 ? getpid() : pid) into the cgroup: \(error)")
        }
    }

    /// Opens the directory, as `BPF_PROG_ATTACH` wants it.
    public func open() throws(AcceleratorError) -> FileDescriptor {
        guard exists else { throw .cgroupNotFound(path: path) }
        do {
            return try FileDescriptor.open(FilePath(path), .readOnly, options: [.directory, .closeOnExec])
        } catch {
            throw .io(path: path, reason: "cannot open cgroup: \(error)")
        }
    }
}

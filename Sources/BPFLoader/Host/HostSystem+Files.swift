import BPFObject
import SystemPackage
internal import Glibc

/// Files and directories: the calls swift-system 1.8 does not offer (`mkdir`, `rmdir`,
/// `rename`) and the opens and reads it does.
extension HostSystem {
    /// Creates the directory `path` with `permissions` (`mkdir(2)`); `Errno.fileExists` when
    /// something is there already.
    package static func makeDirectory(_ path: String, permissions: FilePermissions = .ownerReadWriteExecute) throws(Errno) {
        try call { mkdir(path, permissions.rawValue) }
    }

    /// Removes the empty directory `path` (`rmdir(2)`).
    package static func removeDirectory(_ path: String) throws(Errno) {
        try call { rmdir(path) }
    }

    /// Removes the file `path` (`unlink(2)`): in bpffs, a pin.
    package static func removeFile(_ path: String) throws(Errno) {
        try call { unlink(path) }
    }

    /// Renames `source` to `destination` (`rename(2)`): atomic, within one file system only,
    /// replacing an empty directory or a file at `destination`.
    package static func move(_ source: String, to destination: String) throws(Errno) {
        try call { Glibc.rename(source, destination) }
    }

    /// Opens `path` (`open(2)`, `EINTR` retried): swift-system's `FileDescriptor.open` with its
    /// error typed. The caller closes the descriptor.
    package static func open(_ path: String, _ mode: FileDescriptor.AccessMode, options: FileDescriptor.OpenOptions = []) throws(Errno) -> FileDescriptor {
        try system { try FileDescriptor.open(FilePath(path), mode, options: options) }
    }

    /// Opens the directory `path` read-only and close-on-exec (`O_DIRECTORY`), as `flock(2)` and
    /// `BPF_PROG_ATTACH` on a cgroup want it. The caller closes it.
    package static func openDirectory(_ path: String) throws(Errno) -> FileDescriptor {
        try open(path, .readOnly, options: [.directory, .closeOnExec])
    }

    /// The whole contents of the file `path` (`open(2)` and `read(2)` until end of file).
    package static func readFile(_ path: String) throws(Errno) -> [UInt8] {
        try system { try FileBytes.read(path) }
    }

    /// Writes `text` to the existing file `path` in one `write(2)` where possible, without
    /// creating or truncating it: what control files (cgroupfs, procfs, sysfs) want.
    package static func write(_ text: String, toExisting path: String) throws(Errno) {
        try system {
            let descriptor = try open(path, .writeOnly, options: .closeOnExec)
            try descriptor.closeAfter { _ = try descriptor.writeAll(text.utf8) }
        }
    }
}

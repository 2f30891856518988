import BPFObject
import SystemPackage
internal import Glibc

extension HostSystem {
    /// A pseudo file system the loader mounts when the host has none: its `mount(2)` source,
    /// type and data.
    package struct FileSystem: Sendable, Hashable, CustomStringConvertible {
        /// The `source` argument of `mount(2)` (pseudo file systems take their type's name).
        package let source: String
        /// The file-system type, as in `/proc/self/mountinfo`.
        package let type: String
        /// The file-system specific options (`data`), if any.
        package let options: String?

        /// The BPF file system, readable by root only (`mount -t bpf -o mode=0700 bpf DIR`).
        package static let bpf = FileSystem(source: "bpf", type: "bpf", options: "mode=0700")
        /// The tracing file system, which holds `trace_pipe` (`mount -t tracefs tracefs DIR`).
        package static let tracefs = FileSystem(source: "tracefs", type: "tracefs", options: nil)

        /// The type's name.
        package var description: String { type }
    }

    /// Mounts `fileSystem` at the existing directory `path` (`mount(2)`, no flags).
    package static func mountFileSystem(_ fileSystem: FileSystem, at path: String) throws(Errno) {
        try call {
            if let options = fileSystem.options {
                return Glibc.mount(fileSystem.source, path, fileSystem.type, 0, options)
            }
            return Glibc.mount(fileSystem.source, path, fileSystem.type, 0, nil)
        }
    }
}

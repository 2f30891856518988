import BPFObject
import SystemPackage

/// An owned file descriptor for a kernel BPF object (map, program, BTF). Closed on deinit.
///
/// A class rather than a `~Copyable` struct so maps and programs can live in ordinary
/// collections; it is immutable and therefore safe to share.
public final class KernelObject: Sendable {
    /// The descriptor; valid as long as this value exists.
    public let fd: FileDescriptor

    /// Takes ownership of `fd`: it is closed when this value goes away.
    public init(fd: FileDescriptor) { self.fd = fd }
    /// Takes ownership of the raw descriptor `rawFD`.
    public init(rawFD: Int32) { self.fd = FileDescriptor(rawValue: rawFD) }

    deinit { try? fd.close() }
}

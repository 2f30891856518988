internal import CBPF
import SystemPackage

/// The two non-bpf(2) system calls the accelerator needs, kept behind the syscall layer so no
/// other module touches the C shim.
public enum HostSystem {
    /// Mounts the BPF file system at `path` (mode 0700).
    public static func mountBPFFileSystem(at path: String) throws(Errno) {
        let rc = cbpf_mount_bpffs(path)
        guard rc == 0 else { throw Errno(rawValue: -rc) }
    }

    /// The socket cookie of `socket` (`SO_COOKIE`): the value a SOCKHASH with 8-byte values
    /// returns for it.
    public static func socketCookie(_ socket: Int32) throws(Errno) -> UInt64 {
        var cookie: UInt64 = 0
        let rc = cbpf_socket_cookie(socket, &cookie)
        guard rc == 0 else { throw Errno(rawValue: -rc) }
        return cookie
    }
}

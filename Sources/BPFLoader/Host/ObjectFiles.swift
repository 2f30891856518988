import BPFObject

// BPFObject takes bytes; these read them from files.

extension ObjectSpec {
    /// Reads the object file at `path` (as `clang -target bpf -c` writes it) and parses it as
    /// `init(bytes:)` does. Throws the file's `Errno` when it cannot be read, an `ObjectError`
    /// when it is not a BPF object.
    public init(path: String) throws {
        try self.init(bytes: try FileBytes.read(path))
    }
}

extension CORETargetBTF {
    /// Where the running kernel publishes its BTF.
    public static let kernelPath = "/sys/kernel/btf/vmlinux"

    /// Reads a raw BTF file (the format of `/sys/kernel/btf/vmlinux`) and checks every record;
    /// types are decoded later, when a relocation needs them. The kernel's own BTF is mapped
    /// read-only where the kernel allows it (Linux 6.16 on), other files are read into memory.
    /// A missing or malformed file throws `COREError.targetUnavailable`.
    public init(path: String = Self.kernelPath) throws(COREError) {
        let bytes: BTFBytes
        do { bytes = try FileBytes.btf(path) } catch { throw .targetUnavailable(path: path, reason: "\(error)") }
        try self.init(bytes: bytes, path: path)
    }

    /// The running kernel's BTF (`kernelPath`), read once per process and shared by every load
    /// after the first: it cannot change while the kernel runs. A failure is remembered too.
    public static func runningKernel() throws(COREError) -> CORETargetBTF {
        try runningKernelBTF.get()
    }

    private static let runningKernelBTF = Result { () throws(COREError) in try CORETargetBTF(path: kernelPath) }
}

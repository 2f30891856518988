import BPFObject

/// Memory the kernel reads or writes during one `bpf(2)` call (keys, values, instructions, logs,
/// id lists), at an address that stays fixed for the buffer's lifetime.
///
/// Attributes carry addresses as `UInt64`, so the memory must outlive the closure-free code that
/// stores the address and makes the call: the buffer owns an allocation (freed in `deinit`) and
/// callers keep it alive across the call with `withExtendedLifetime`. This replaces a nest of
/// `withUnsafe…` closures, one per array; the address never leaves the syscall layer.
final class KernelBuffer {
    let bytes: UnsafeMutableRawBufferPointer

    /// `count` zero bytes.
    init(count: Int) {
        self.count = count
        bytes = .allocate(byteCount: max(count, 1), alignment: 8)
        bytes.initializeMemory(as: UInt8.self, repeating: 0)
    }

    /// A copy of `contents`.
    convenience init(_ contents: [UInt8]) {
        self.init(count: contents.count)
        bytes.copyBytes(from: contents)
    }

    /// `string` as a NUL-terminated C string.
    convenience init(cString string: String) {
        self.init(Array(string.utf8) + [0])
    }

    /// A copy of the bytes of `value` (a C struct such as `bpf_prog_info`).
    convenience init<T>(of value: T) {
        self.init(count: MemoryLayout<T>.size)
        withUnsafeBytes(of: value) { bytes.copyMemory(from: $0) }
    }

    deinit { bytes.deallocate() }

    /// The buffer's length as asked for (the allocation is never empty).
    let count: Int

    /// The address to store in an attribute (`attr.key = buffer.address`).
    var address: UInt64 { UInt64(UInt(bitPattern: bytes.baseAddress)) }

    /// The current contents.
    var contents: [UInt8] { Array(bytes.prefix(count)) }

    /// The contents up to the first NUL, as UTF-8 (a verifier or BTF log).
    var text: String { String(decoding: bytes.prefix(count).prefix { $0 != 0 }, as: UTF8.self) }

    /// The contents as a `T` (a C struct the kernel filled in).
    func load<T>(as type: T.Type) -> T { bytes.loadUnaligned(as: T.self) }
}

/// The bytes of a raw BTF file, owned for as long as a `BTFView` reads them in place: mapped
/// read-only from the kernel (`/sys/kernel/btf/vmlinux` since Linux 6.16), or one allocation the
/// file was read into, or a copy of bytes already in memory.
///
/// `@unchecked Sendable`: `buffer` is never written after `init`, and is released only by `deinit`,
/// when no reader is left.
package final class BTFBytes: @unchecked Sendable {
    /// The whole file; valid until `deinit`. Readers use it inside a call and never keep it.
    package let buffer: UnsafeRawBufferPointer
    /// Whether the bytes are the kernel's own pages, mapped (they cost this process no memory).
    let isMapped: Bool
    private let release: (UnsafeRawBufferPointer) -> Void

    /// Takes ownership of `buffer`, which `release` frees (unmaps) when the last reader is gone.
    package init(buffer: UnsafeRawBufferPointer, mapped: Bool = false, release: @escaping (UnsafeRawBufferPointer) -> Void) {
        self.buffer = buffer
        self.isMapped = mapped
        self.release = release
    }

    /// A copy of `bytes` in one allocation.
    package convenience init(copying bytes: some Collection<UInt8>) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 8)
        _ = copy.initializeMemory(as: UInt8.self, from: bytes)
        self.init(buffer: UnsafeRawBufferPointer(copy)) { $0.deallocate() }
    }

    deinit { release(buffer) }
}

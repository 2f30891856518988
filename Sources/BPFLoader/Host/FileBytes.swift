import BPFObject
internal import Glibc
import SystemPackage

/// Reads a whole file into memory: the loader's side of `ObjectSpec(path:)` and
/// `CORETargetBTF(path:)` (BPFObject itself takes bytes and never opens a file).
package enum FileBytes {
    package static func read(_ path: String) throws -> [UInt8] {
        let fd = try FileDescriptor.open(FilePath(path), .readOnly)
        return try fd.closeAfter {
            var result: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = try chunk.withUnsafeMutableBytes { try fd.read(into: $0) }
                if n == 0 { return result }
                result += chunk[0..<n]
            }
        }
    }

    /// A raw BTF file for `BTFView`: the kernel's BTF (under `/sys/kernel/btf/`) mapped read-only
    /// where the kernel allows it (Linux 6.16 on; its pages are the kernel's, so the mapping costs
    /// no memory and no copy), anything else (or an older kernel's) read into one allocation of
    /// the size `fstat` gives, grown if the file turns out longer. A regular file is never mapped:
    /// truncating it under the mapping would kill the process with SIGBUS.
    package static func btf(_ path: String) throws -> BTFBytes {
        let fd = try FileDescriptor.open(FilePath(path), .readOnly)
        return try fd.closeAfter {
            var status = stat()
            let size = fstat(fd.rawValue, &status) == 0 ? Int(status.st_size) : 0
            if path.hasPrefix("/sys/kernel/btf/"), size > 0,
               let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd.rawValue, 0), mapped != MAP_FAILED {
                return BTFBytes(buffer: UnsafeRawBufferPointer(start: mapped, count: size), mapped: true) {
                    _ = munmap(UnsafeMutableRawPointer(mutating: $0.baseAddress), $0.count)
                }
            }
            return try readAll(fd, sizeHint: size)
        }
    }

    /// Everything `fd` reads, in one allocation (a copy only if the file is longer than `sizeHint`;
    /// one byte more than the hint, so reading the end of a file of that size grows nothing).
    private static func readAll(_ fd: FileDescriptor, sizeHint: Int) throws -> BTFBytes {
        var capacity = max(sizeHint + 1, 1 << 16)
        var storage = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 8)
        var count = 0
        do {
            while true {
                if count == capacity {
                    capacity *= 2
                    let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 8)
                    grown.copyMemory(from: UnsafeRawBufferPointer(rebasing: storage[0..<count]))
                    storage.deallocate()
                    storage = grown
                }
                let n = try fd.read(into: UnsafeMutableRawBufferPointer(rebasing: storage[count...]))
                if n == 0 { break }
                count += n
            }
        } catch {
            storage.deallocate()
            throw error
        }
        let base = storage.baseAddress!
        return BTFBytes(buffer: UnsafeRawBufferPointer(start: base, count: count)) { _ in base.deallocate() }
    }
}

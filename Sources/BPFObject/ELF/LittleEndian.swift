/// Little-endian integer coding, written once: ELF64 and BTF files for BPF, instructions, and map
/// keys and values all use the kernel's byte order, which is little-endian on x86-64 and arm64.
extension FixedWidthInteger {
    /// The value's bytes, least significant first (`bitWidth / 8` of them).
    @inlinable
    package var littleEndianBytes: [UInt8] {
        (0..<(Self.bitWidth / 8)).map { UInt8(truncatingIfNeeded: self >> ($0 * 8)) }
    }
}

extension RandomAccessCollection<UInt8> where Index == Int {
    /// The little-endian integer whose bytes start `offset` bytes after `startIndex` (so a slice
    /// reads from its own start). The caller has checked that the bytes are there.
    @inlinable
    package func littleEndian<T: FixedWidthInteger>(_: T.Type = T.self, at offset: Int) -> T {
        let base = startIndex + offset
        var value = T.zero
        for byte in 0..<(T.bitWidth / 8) {
            value |= T(truncatingIfNeeded: self[base + byte]) << (byte * 8)
        }
        return value
    }
}

extension Array<UInt8> {
    /// Appends `value`'s bytes, least significant first.
    @inlinable
    package mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        append(contentsOf: value.littleEndianBytes)
    }

    /// Overwrites the `bitWidth / 8` bytes at `offset` with `value`, least significant first.
    /// The caller has checked that the bytes are there.
    @inlinable
    package mutating func writeLittleEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        for byte in 0..<(T.bitWidth / 8) {
            self[offset + byte] = UInt8(truncatingIfNeeded: value >> (byte * 8))
        }
    }
}

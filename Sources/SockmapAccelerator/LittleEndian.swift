/// The byte order of map keys and values (the kernel's, x86-64 and arm64 alike).
extension FixedWidthInteger {
    /// The value's bytes in little-endian order, as map keys and values want them.
    var littleEndianBytes: [UInt8] {
        (0..<(Self.bitWidth / 8)).map { UInt8(truncatingIfNeeded: self >> ($0 * 8)) }
    }
}

extension Array<UInt8> {
    /// The little-endian integer at `offset`; the caller has checked that its bytes are there.
    func littleEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        (0..<(T.bitWidth / 8)).reduce(T.zero) { $0 | T(truncatingIfNeeded: self[offset + $1]) << ($1 * 8) }
    }
}

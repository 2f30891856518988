/// Bounds-checked little-endian reads over an immutable byte buffer.
///
/// Every read names what it was reading, so a short or corrupt file turns into an error that says
/// where it broke instead of a trap.
package struct ByteReader: Sendable {
    /// The whole buffer.
    package let bytes: [UInt8]

    /// A reader over `bytes`.
    package init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The buffer's length in bytes.
    package var count: Int { bytes.count }

    /// Checks that `count` bytes starting at `offset` lie inside the buffer.
    package func checkRange(_ offset: Int, _ count: Int, _ what: @autoclosure () -> String) throws(ELFError) {
        guard offset >= 0, count >= 0 else {
            throw .outOfBounds(what: what(), offset: offset, size: count, limit: bytes.count)
        }
        let (end, overflow) = offset.addingReportingOverflow(count)
        guard !overflow, end <= bytes.count else {
            throw .outOfBounds(what: what(), offset: offset, size: count, limit: bytes.count)
        }
    }

    /// The byte at `offset`; throws ``ELFError/outOfBounds(what:offset:size:limit:)`` naming `what`.
    package func u8(_ offset: Int, _ what: @autoclosure () -> String) throws(ELFError) -> UInt8 {
        try checkRange(offset, 1, what())
        return bytes[offset]
    }

    /// The little-endian `UInt16` at `offset`; throws ``ELFError/outOfBounds(what:offset:size:limit:)`` naming `what`.
    package func u16(_ offset: Int, _ what: @autoclosure () -> String) throws(ELFError) -> UInt16 {
        try checkRange(offset, 2, what())
        return bytes.littleEndian(at: offset)
    }

    /// The little-endian `UInt32` at `offset`; throws ``ELFError/outOfBounds(what:offset:size:limit:)`` naming `what`.
    package func u32(_ offset: Int, _ what: @autoclosure () -> String) throws(ELFError) -> UInt32 {
        try checkRange(offset, 4, what())
        return bytes.littleEndian(at: offset)
    }

    /// The little-endian `UInt64` at `offset`; throws ``ELFError/outOfBounds(what:offset:size:limit:)`` naming `what`.
    package func u64(_ offset: Int, _ what: @autoclosure () -> String) throws(ELFError) -> UInt64 {
        try checkRange(offset, 8, what())
        return bytes.littleEndian(at: offset)
    }

    /// `count` bytes from `offset`, without copying; throws ``ELFError/outOfBounds(what:offset:size:limit:)`` naming `what`.
    package func slice(_ offset: Int, _ count: Int, _ what: @autoclosure () -> String) throws(ELFError) -> ArraySlice<UInt8> {
        try checkRange(offset, count, what())
        return bytes[offset..<(offset + count)]
    }

    /// A NUL-terminated string starting at `offset`, which must end before `limit`.
    package func cString(_ offset: Int, limit: Int, _ what: @autoclosure () -> String) throws(ELFError) -> String {
        guard offset >= 0, offset < limit, limit <= bytes.count else {
            throw .outOfBounds(what: what(), offset: offset, size: 1, limit: min(limit, bytes.count))
        }
        var end = offset
        while end < limit, bytes[end] != 0 { end += 1 }
        guard end < limit else { throw .unterminatedString(what: what(), offset: offset) }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }
}

import Foundation
import TestSupport

// Several writers on one socket: their bytes interleave at any byte (the kernel may split a send
// wherever it waits for memory), so every byte carries its writer in its top bit and 7 bits of
// a per-writer sequence in the rest. The reader takes the streams apart byte by byte and checks
// each writer's bytes for loss, duplication and reordering.

/// Byte `i` of writer `writer` (0 or 1): the writer in bit 7, bits 0–6 a hash of `i`. Two
/// stretches of one writer's stream agree on a byte with probability 1/128, so a lost, repeated
/// or reordered run of more than a few bytes is caught.
struct TaggedPattern: Sendable {
    let writer: Int
    let seed: UInt64

    func byte(at index: Int) -> UInt8 {
        let mixed = (UInt64(index) &+ 1) &* 0x9E37_79B9_7F4A_7C15 ^ seed
        return UInt8(writer << 7) | UInt8(truncatingIfNeeded: mixed >> 57)
    }

    func fill(_ buffer: UnsafeMutableRawBufferPointer, offset: Int) {
        for position in 0..<buffer.count { buffer[position] = byte(at: offset + position) }
    }
}

/// What the reader found wrong, if anything.
struct TaggedMismatch: Error, CustomStringConvertible {
    let writer: Int
    let offset: Int
    let expected: UInt8
    let received: UInt8
    var description: String {
        "writer \(writer), byte \(offset): expected \(expected), received \(received) (lost, repeated or reordered bytes)"
    }
}

/// Splits the interleaved bytes of two writers and checks each writer's stream in order.
final class TaggedVerifier {
    let patterns: [TaggedPattern]
    private(set) var offsets: [Int]

    init(patterns: [TaggedPattern]) {
        self.patterns = patterns
        offsets = Array(repeating: 0, count: patterns.count)
    }

    func consume(_ bytes: UnsafeRawBufferPointer) throws(TaggedMismatch) {
        for received in bytes {
            let writer = Int(received >> 7)
            let expected = patterns[writer].byte(at: offsets[writer])
            guard received == expected else {
                throw TaggedMismatch(writer: writer, offset: offsets[writer], expected: expected, received: received)
            }
            offsets[writer] += 1
        }
    }
}

/// Sends `total` bytes of `pattern` on a blocking socket in writes of random size (up to
/// `maxWrite`), as one of several threads writing the same socket. Returns 0 or the errno that
/// stopped it.
func sendTagged(_ fd: Int32, _ pattern: TaggedPattern, total: Int, seed: UInt64, maxWrite: Int = 64 << 10) -> Int32 {
    var generator = SeededGenerator(seed: seed)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: maxWrite, alignment: 8)
    defer { buffer.deallocate() }
    var offset = 0
    while offset < total {
        let size = min(generator.writeSize(upTo: maxWrite), total - offset)
        pattern.fill(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size]), offset: offset)
        var sent = 0
        while sent < size {
            let n = send(fd, buffer.baseAddress! + sent, size - sent, Int32(MSG_NOSIGNAL))
            if n > 0 { sent += n; continue }
            if n < 0 && errno == EINTR { continue }
            return n < 0 ? errno : EPIPE
        }
        offset += size
    }
    return 0
}

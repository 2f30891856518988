import Foundation
import TestSupport

// Byte streams whose every 8-byte word names its own position, so a receiver can check each
// byte in order and, when one is wrong, say where the bytes it got were actually sent from.

extension SeededGenerator {
    /// A write size between 1 and `limit` bytes, uniform in its logarithm: as many 1–2 byte
    /// writes as 512 KiB–1 MiB ones.
    mutating func writeSize(upTo limit: Int) -> Int {
        let maxBits = Int.bitWidth - 1 - limit.leadingZeroBitCount // floor(log2(limit))
        let bits = Int.random(in: 0...maxBits, using: &self)
        let low = 1 << bits
        return Int.random(in: low...min(limit, 2 * low - 1), using: &self)
    }
}

/// What a receiver got wrong, with enough detail to find the bug.
struct StreamMismatch: Error, CustomStringConvertible, Sendable {
    let stream: String
    /// Stream offset of the first wrong byte.
    let offset: Int
    /// Offset of the first byte of the recv() that returned it, and its length.
    let readOffset: Int
    let readLength: Int
    let expected: [UInt8]
    let received: [UInt8]
    /// Where the bytes received at `offset` were sent from, when they decode as this stream's words.
    let sentFrom: Int?

    var description: String {
        let hex = { (bytes: [UInt8]) in bytes.map { String(format: "%02x", $0) }.joined() }
        var text = "\(stream): wrong byte at stream offset \(offset) (recv of \(readLength) bytes at \(readOffset)); "
            + "expected \(hex(expected)), got \(hex(received))"
        if let sentFrom {
            text += "; the bytes received there were sent at offset \(sentFrom) (shift \(sentFrom - offset))"
        }
        return text
    }
}

/// Checks a received stream in order against its pattern. One per stream; not thread-safe.
final class StreamVerifier {
    let name: String
    let pattern: Pattern
    /// Bytes the sender will send in total; more is an error.
    let total: Int
    private(set) var offset = 0
    private let expected: UnsafeMutableRawBufferPointer

    init(name: String, pattern: Pattern, total: Int, chunk: Int = 64 << 10) {
        self.name = name
        self.pattern = pattern
        self.total = total
        expected = .allocate(byteCount: chunk, alignment: 8)
    }

    deinit { expected.deallocate() }

    var isComplete: Bool { offset == total }

    /// Verifies the next `bytes` of the stream and advances.
    func consume(_ bytes: UnsafeRawBufferPointer) throws(StreamMismatch) {
        guard offset + bytes.count <= total else {
            throw mismatch(at: total, readOffset: offset, bytes: bytes, extra: true)
        }
        var checked = 0
        while checked < bytes.count {
            let length = min(bytes.count - checked, expected.count)
            let want = UnsafeMutableRawBufferPointer(rebasing: expected[0..<length])
            pattern.fill(want, offset: offset + checked)
            if memcmp(want.baseAddress!, bytes.baseAddress! + checked, length) != 0 {
                var i = 0
                while want[i] == bytes[checked + i] { i += 1 }
                throw mismatch(at: offset + checked + i, readOffset: offset, bytes: bytes, extra: false)
            }
            checked += length
        }
        offset += bytes.count
    }

    private func mismatch(at streamOffset: Int, readOffset: Int, bytes: UnsafeRawBufferPointer, extra: Bool) -> StreamMismatch {
        let index = streamOffset - readOffset
        let end = min(bytes.count, index + 16)
        let got = index < end ? Array(bytes[index..<end]) : []
        var want = [UInt8](repeating: 0, count: extra ? 0 : got.count)
        want.withUnsafeMutableBytes { pattern.fill($0, offset: streamOffset) }
        // Find an aligned word among the next bytes and decode where it was sent from.
        var sentFrom: Int?
        var j = index
        while sentFrom == nil && j + 8 <= bytes.count && j < index + 8 {
            if let origin = pattern.origin(of: bytes.baseAddress! + j, limit: total) { sentFrom = origin - (j - index) }
            j += 1
        }
        return StreamMismatch(stream: extra ? name + " (more bytes than were sent)" : name, offset: streamOffset,
                              readOffset: readOffset, readLength: bytes.count, expected: want, received: got, sentFrom: sentFrom)
    }
}

/// Produces a stream's bytes in writes of random size.
final class StreamWriter {
    let pattern: Pattern
    let total: Int
    private(set) var offset = 0
    private var generator: SeededGenerator
    private let maxWrite: Int
    private let buffer: UnsafeMutableRawBufferPointer
    /// The current write: buffer[sentOfChunk ..< chunkLength] is still to go.
    private var chunkLength = 0
    private var sentOfChunk = 0
    private(set) var writes = 0

    init(pattern: Pattern, total: Int, seed: UInt64, maxWrite: Int = 1 << 20) {
        self.pattern = pattern
        self.total = total
        self.maxWrite = maxWrite
        generator = SeededGenerator(seed: seed)
        buffer = .allocate(byteCount: maxWrite, alignment: 8)
    }

    deinit { buffer.deallocate() }

    var isComplete: Bool { offset == total && sentOfChunk == chunkLength }

    /// The bytes of the current write still to send, starting a new write of random size (at most
    /// `limit`) when the last one is done. Empty when the stream is complete.
    func pending(limit: Int = .max) -> UnsafeRawBufferPointer {
        if sentOfChunk == chunkLength {
            let size = min(generator.writeSize(upTo: min(maxWrite, limit)), total - offset)
            guard size > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
            pattern.fill(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<size]), offset: offset)
            chunkLength = size
            sentOfChunk = 0
            offset += size
            writes += 1
        }
        return UnsafeRawBufferPointer(rebasing: buffer[sentOfChunk..<chunkLength])
    }

    /// Bytes actually handed to the kernel so far.
    var sent: Int { offset - (chunkLength - sentOfChunk) }

    func advance(_ count: Int) {
        precondition(sentOfChunk + count <= chunkLength)
        sentOfChunk += count
    }
}

/// Parses "4G", "256M", "512K" or a plain byte count.
func parseByteCount(_ text: String) -> Int? {
    let units: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
    var digits = text.trimmingCharacters(in: .whitespaces).uppercased()
    if digits.hasSuffix("IB") { digits.removeLast(2) } else if digits.hasSuffix("B") { digits.removeLast() }
    var scale = 1
    if let unit = digits.last, let factor = units[unit] { scale = factor; digits.removeLast() }
    guard let value = Int(digits), value > 0 else { return nil }
    return value * scale
}

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

/// Stream content: the word at offset 8k is `(k + 1) · C ⊕ seed` (little-endian). Multiplying
/// by an odd constant is a bijection, so every word of a stream differs from every other, and
/// `origin(of:)` turns a received word back into the offset it was sent from.
struct StreamPattern: Sendable, Hashable {
    let seed: UInt64
    private static let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
    private static let inverse: UInt64 = {
        var x = multiplier // Newton's iteration for the inverse modulo 2^64
        for _ in 0..<6 { x = x &* (2 &- multiplier &* x) }
        return x
    }()

    init(seed: UInt64) { self.seed = seed }

    /// The pattern of connection `connection`, direction `direction` (0: client to server), run `run`.
    init(run: UInt64, connection: Int, direction: Int) {
        seed = (run &* 0x1_0000_0001) ^ (UInt64(connection) << 8 | UInt64(direction)) &* 0xD6E8_FEB8_6659_FD93
    }

    /// Writes stream bytes `offset ..< offset + buffer.count` into `buffer`.
    func fill(_ buffer: UnsafeMutableRawBufferPointer, offset: Int) {
        let count = buffer.count
        guard count > 0 else { return }
        let base = buffer.baseAddress!
        var k = UInt64(offset / 8) &+ 1
        var position = 0
        let skip = offset % 8
        if skip != 0 { // the tail of a word that starts before the buffer
            let word = (k &* Self.multiplier ^ seed).littleEndian
            position = min(8 - skip, count)
            withUnsafeBytes(of: word) { base.copyMemory(from: $0.baseAddress! + skip, byteCount: position) }
            k &+= 1
        }
        while position + 8 <= count {
            base.storeBytes(of: (k &* Self.multiplier ^ seed).littleEndian, toByteOffset: position, as: UInt64.self)
            position &+= 8
            k &+= 1
        }
        if position < count { // the head of a word that ends after the buffer
            let word = (k &* Self.multiplier ^ seed).littleEndian
            let rest = count - position
            withUnsafeBytes(of: word) { (base + position).copyMemory(from: $0.baseAddress!, byteCount: rest) }
        }
    }

    /// The stream offset that the 8 bytes at `word` were sent from, if they are an aligned word of
    /// this stream no further than `limit` bytes in.
    func origin(of word: UnsafeRawPointer, limit: Int) -> Int? {
        let value = UInt64(littleEndian: word.loadUnaligned(as: UInt64.self))
        let k = (value ^ seed) &* Self.inverse
        guard k >= 1, k <= UInt64(limit / 8 + 1) else { return nil }
        return Int(k - 1) * 8
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
    let pattern: StreamPattern
    /// Bytes the sender will send in total; more is an error.
    let total: Int
    private(set) var offset = 0
    private let expected: UnsafeMutableRawBufferPointer

    init(name: String, pattern: StreamPattern, total: Int, chunk: Int = 64 << 10) {
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
    let pattern: StreamPattern
    let total: Int
    private(set) var offset = 0
    private var generator: SeededGenerator
    private let maxWrite: Int
    private let buffer: UnsafeMutableRawBufferPointer
    /// The current write: buffer[sentOfChunk ..< chunkLength] is still to go.
    private var chunkLength = 0
    private var sentOfChunk = 0
    private(set) var writes = 0

    init(pattern: StreamPattern, total: Int, seed: UInt64, maxWrite: Int = 1 << 20) {
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

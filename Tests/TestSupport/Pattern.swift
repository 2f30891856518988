/// Deterministic test data: stream `seed`, whose word at offset 8k is `(k + 1) · C ⊕ key`
/// (little-endian), `key` being the seed through SplitMix64. Multiplying by an odd constant is
/// a bijection, so every word of a stream differs from every other and `origin(of:limit:)` turns
/// a received word back into the offset it was sent from; the key makes streams of nearby seeds
/// (7 and 8) differ in nearly every byte, not only in the low byte of each word.
package struct Pattern: Sendable, Hashable {
    /// The seed the stream was made from.
    package let seed: UInt64
    private let key: UInt64
    private static let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
    private static let inverse: UInt64 = {
        var x = multiplier // Newton's iteration for the inverse modulo 2^64
        for _ in 0..<6 { x = x &* (2 &- multiplier &* x) }
        return x
    }()

    /// Stream `seed`: the same bytes in every run.
    package init(seed: UInt64) {
        self.seed = seed
        var generator = SeededGenerator(seed: seed)
        key = generator.next()
    }

    /// The pattern of connection `connection`, direction `direction` (0: client to server), run `run`.
    package init(run: UInt64, connection: Int, direction: Int) {
        self.init(seed: (run &* 0x1_0000_0001) ^ (UInt64(connection) << 8 | UInt64(direction)) &* 0xD6E8_FEB8_6659_FD93)
    }

    /// Bytes `offset ..< offset + count` of stream `seed`.
    package static func bytes(seed: UInt64, offset: Int, count: Int) -> [UInt8] {
        Pattern(seed: seed).bytes(offset: offset, count: count)
    }

    /// Bytes `offset ..< offset + count` of this stream.
    package func bytes(offset: Int, count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { fill($0, offset: offset) }
        return bytes
    }

    /// Writes stream bytes `offset ..< offset + buffer.count` into `buffer`.
    package func fill(_ buffer: UnsafeMutableRawBufferPointer, offset: Int) {
        let count = buffer.count
        guard count > 0 else { return }
        let base = buffer.baseAddress!
        var k = UInt64(offset / 8) &+ 1
        var position = 0
        let skip = offset % 8
        if skip != 0 { // the tail of a word that starts before the buffer
            let word = (k &* Self.multiplier ^ key).littleEndian
            position = min(8 - skip, count)
            withUnsafeBytes(of: word) { base.copyMemory(from: $0.baseAddress! + skip, byteCount: position) }
            k &+= 1
        }
        while position + 8 <= count {
            base.storeBytes(of: (k &* Self.multiplier ^ key).littleEndian, toByteOffset: position, as: UInt64.self)
            position &+= 8
            k &+= 1
        }
        if position < count { // the head of a word that ends after the buffer
            let word = (k &* Self.multiplier ^ key).littleEndian
            let rest = count - position
            withUnsafeBytes(of: word) { (base + position).copyMemory(from: $0.baseAddress!, byteCount: rest) }
        }
    }

    /// The stream offset that the 8 bytes at `word` were sent from, if they are an aligned word of
    /// this stream no further than `limit` bytes in.
    package func origin(of word: UnsafeRawPointer, limit: Int) -> Int? {
        let value = UInt64(littleEndian: word.loadUnaligned(as: UInt64.self))
        let k = (value ^ key) &* Self.inverse
        guard k >= 1, k <= UInt64(limit / 8 + 1) else { return nil }
        return Int(k - 1) * 8
    }
}

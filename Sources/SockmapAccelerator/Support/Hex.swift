/// Lower-case hex of bytes, as `dump-map` shows keys it cannot decode.
package enum Hex {
    /// The bytes as two lower-case hex digits each, without separators.
    package static func string(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }
}

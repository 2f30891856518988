import Glibc

/// Text forms of the 16-byte addresses that keys and policy entries hold (IPv4 as the
/// IPv4-mapped `::ffff:a.b.c.d`), through libc's `inet_pton` and `inet_ntop`: the forms they
/// accept and print are the ones every other tool on the host uses.
package enum IPAddress {
    /// IPv4-mapped addresses print as dotted quads (`127.0.0.1`), others in RFC 5952 form
    /// (`2001:db8::1`); "?" when `address` is not 16 bytes.
    package static func format(_ address: [UInt8]) -> String {
        guard address.count == 16 else { return "?" }
        let mapped = address[0..<10].allSatisfy { $0 == 0 } && address[10] == 0xFF && address[11] == 0xFF
        return mapped ? ntop(AF_INET, Array(address[12..<16])) : ntop(AF_INET6, address)
    }

    /// An address and port as text, IPv6 in brackets: `127.0.0.1:80`, `[::1]:80`.
    package static func endpoint(_ address: [UInt8], _ port: UInt16) -> String {
        let text = format(address)
        return text.contains(":") ? "[\(text)]:\(port)" : "\(text):\(port)"
    }

    /// Parses IPv4 in dotted-quad form (`127.0.0.1`) or IPv6 (`::1`, `::ffff:127.0.0.1`) into the
    /// 16-byte form; nil for anything `inet_pton` refuses (`+1.2.3.4`, `1.2.3`, a host name).
    package static func parse(_ text: String) -> [UInt8]? {
        if let v4 = pton(AF_INET, text, size: 4) { return [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + v4 }
        return pton(AF_INET6, text, size: 16)
    }

    private static func pton(_ family: Int32, _ text: String, size: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: size)
        let accepted = bytes.withUnsafeMutableBytes { inet_pton(family, text, $0.baseAddress) }
        return accepted == 1 ? bytes : nil
    }

    private static func ntop(_ family: Int32, _ bytes: [UInt8]) -> String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let written = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
        guard written != nil else { return "?" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

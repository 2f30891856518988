/// The 48-byte SOCKHASH key of `bpf/sockmap_shared.h` (`struct sock_key`): a connection as seen
/// from one socket, with the network-namespace cookie.
public struct SockKey: Sendable, Equatable, Hashable, Codable {
    /// The key's size in bytes.
    public static let size = 48

    /// The socket's network-namespace cookie (`bpf_get_netns_cookie`): equal 4-tuples in two
    /// namespaces get different keys.
    public var netnsCookie: UInt64
    /// 16 bytes, network order; IPv4 is stored as ::ffff:a.b.c.d.
    public var localAddress: [UInt8]
    /// The peer's address: 16 bytes, network order, IPv4 as ::ffff:a.b.c.d.
    public var remoteAddress: [UInt8]
    /// The local port, in host order.
    public var localPort: UInt16
    /// The peer's port, in host order.
    public var remotePort: UInt16

    /// A key from its parts; the addresses must be 16 bytes each.
    public init(netnsCookie: UInt64, localAddress: [UInt8], remoteAddress: [UInt8], localPort: UInt16, remotePort: UInt16) {
        self.netnsCookie = netnsCookie
        self.localAddress = localAddress
        self.remoteAddress = remoteAddress
        self.localPort = localPort
        self.remotePort = remotePort
    }

    /// Decodes the 48 bytes of a map key; nil when `bytes` is not 48 bytes long.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.size else { return nil }
        netnsCookie = bytes.littleEndian(UInt64.self, at: 0)
        localAddress = Array(bytes[8..<24])
        remoteAddress = Array(bytes[24..<40])
        localPort = UInt16(truncatingIfNeeded: bytes.littleEndian(UInt32.self, at: 40))
        remotePort = UInt16(truncatingIfNeeded: bytes.littleEndian(UInt32.self, at: 44))
    }

    /// The 48 bytes the map stores (little-endian integers, ports in 32-bit slots).
    public var bytes: [UInt8] {
        netnsCookie.littleEndianBytes + localAddress + remoteAddress + UInt32(localPort).littleEndianBytes
            + UInt32(remotePort).littleEndianBytes
    }

    /// The local end as text (`127.0.0.1:6379`, `[::1]:6379`).
    public var local: String { IPAddress.endpoint(localAddress, localPort) }
    /// The remote end as text (`127.0.0.1:6379`, `[::1]:6379`).
    public var remote: String { IPAddress.endpoint(remoteAddress, remotePort) }
}

/// Text forms of 16-byte addresses.
public enum IPAddress {
    /// IPv4-mapped addresses print as dotted quads, others in RFC 5952 form.
    public static func format(_ a: [UInt8]) -> String {
        guard a.count == 16 else { return "?" }
        if a[0..<10].allSatisfy({ $0 == 0 }) && a[10] == 0xFF && a[11] == 0xFF {
            return "\(a[12]).\(a[13]).\(a[14]).\(a[15])"
        }
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(a[$0]) << 8 | UInt16(a[$0 + 1]) }
        // Longest run (length >= 2) of zero groups becomes "::".
        var best = (start: -1, length: 0), run = (start: -1, length: 0)
        for (i, g) in groups.enumerated() {
            if g == 0 {
                run = run.start < 0 ? (i, 1) : (run.start, run.length + 1)
                if run.length > best.length { best = run }
            } else {
                run = (-1, 0)
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard best.length >= 2 else { return hex.joined(separator: ":") }
        let head = hex[0..<best.start].joined(separator: ":")
        let tail = hex[(best.start + best.length)...].joined(separator: ":")
        return head + "::" + tail
    }

    /// An address and port as text, IPv6 in brackets: `127.0.0.1:80`, `[::1]:80`.
    public static func endpoint(_ a: [UInt8], _ port: UInt16) -> String {
        let text = format(a)
        return text.contains(":") ? "[\(text)]:\(port)" : "\(text):\(port)"
    }

    /// Parses IPv4 ("127.0.0.1") or IPv6 ("::1") into the 16-byte form used by keys and policy.
    public static func parse(_ text: String) -> [UInt8]? {
        let v4 = text.split(separator: ".", omittingEmptySubsequences: false)
        if v4.count == 4 {
            let parts = v4.compactMap { UInt8($0) }
            guard parts.count == 4 else { return nil }
            return [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + parts
        }
        guard text.contains(":") else { return nil }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ s: String) -> [UInt16]? {
            s.isEmpty ? [] : s.split(separator: ":", omittingEmptySubsequences: false).map { UInt16($0, radix: 16) }
                .reduce(into: [UInt16]?([])) { acc, g in if let g, acc != nil { acc!.append(g) } else { acc = nil } }
        }
        guard let head = groups(halves[0]) else { return nil }
        let tail = halves.count == 2 ? groups(halves[1]) : []
        guard let tail else { return nil }
        let zeros = 8 - head.count - tail.count
        guard halves.count == 2 ? zeros >= 1 : zeros == 0 else { return nil }
        let all = head + [UInt16](repeating: 0, count: zeros) + tail
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }
}

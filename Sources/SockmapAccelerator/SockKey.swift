import BPFLoader

/// A connection as one socket sees it, in its own network namespace: what the data path records
/// of each socket in the SOCKHASH (`struct sock_key` inside `struct sock_info`,
/// `bpf/sockmap_shared.h`). The two sockets of a pair may see different addresses (NAT, a
/// published port) and live in different namespaces.
public struct SockKey: Sendable, Equatable, Hashable, Codable {
    /// The socket's network-namespace cookie (`bpf_get_netns_cookie`).
    public var netnsCookie: UInt64
    /// 16 bytes, network order; IPv4 is stored as ::ffff:a.b.c.d.
    public var localAddress: [UInt8]
    /// The peer's address as this socket sees it: 16 bytes, network order, IPv4 as ::ffff:a.b.c.d.
    public var remoteAddress: [UInt8]
    /// The local port, in host order.
    public var localPort: UInt16
    /// The peer's port as this socket sees it, in host order.
    public var remotePort: UInt16

    /// A key from its parts; the addresses must be 16 bytes each.
    public init(netnsCookie: UInt64, localAddress: [UInt8], remoteAddress: [UInt8], localPort: UInt16, remotePort: UInt16) {
        self.netnsCookie = netnsCookie
        self.localAddress = localAddress
        self.remoteAddress = remoteAddress
        self.localPort = localPort
        self.remotePort = remotePort
    }

    /// The local end as text (`127.0.0.1:6379`, `[::1]:6379`).
    public var local: String { IPAddress.endpoint(localAddress, localPort) }
    /// The remote end as text (`127.0.0.1:6379`, `[::1]:6379`).
    public var remote: String { IPAddress.endpoint(remoteAddress, remotePort) }
}

/// What the data path records of one socket in its SOCKHASH (`struct sock_info`, the `socks`
/// map, keyed by the socket's cookie): its peer once paired, and its connection.
package struct SockInfo: Sendable, Equatable {
    /// The size of `struct sock_info`.
    package static let size = 56
    /// The peer socket's cookie; nil until the accepting side has claimed the token.
    package var peerCookie: UInt64?
    /// The connection as this socket sees it.
    package var key: SockKey

    /// A record from its parts.
    package init(peerCookie: UInt64?, key: SockKey) {
        self.peerCookie = peerCookie
        self.key = key
    }

    /// Decodes a `socks` value; nil when `bytes` is not 56 bytes long.
    package init?(bytes: [UInt8]) {
        guard bytes.count == Self.size else { return nil }
        let peer = bytes.littleEndian(UInt64.self, at: 0)
        peerCookie = peer == 0 ? nil : peer
        key = SockKey(netnsCookie: bytes.littleEndian(UInt64.self, at: 8), localAddress: Array(bytes[16..<32]),
                      remoteAddress: Array(bytes[32..<48]),
                      localPort: UInt16(truncatingIfNeeded: bytes.littleEndian(UInt32.self, at: 48)),
                      remotePort: UInt16(truncatingIfNeeded: bytes.littleEndian(UInt32.self, at: 52)))
    }

    /// The records of a `socks` map under `keys` (its keys as listed), by socket cookie; a socket
    /// that closed since the listing is simply gone.
    package static func records(in map: BPFMap, keys: [[UInt8]]) throws(BPFMapError) -> [UInt64: SockInfo] {
        var records: [UInt64: SockInfo] = [:]
        for key in keys where key.count == 8 {
            if let value = try map.lookup(key), let info = SockInfo(bytes: value) { records[key.littleEndian(UInt64.self, at: 0)] = info }
        }
        return records
    }

    /// The 56 bytes the map stores (little-endian integers, ports in 32-bit slots).
    package var bytes: [UInt8] {
        (peerCookie ?? 0).littleEndianBytes + key.netnsCookie.littleEndianBytes + key.localAddress + key.remoteAddress
            + UInt32(key.localPort).littleEndianBytes + UInt32(key.remotePort).littleEndianBytes
    }
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

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
    package init(netnsCookie: UInt64, localAddress: [UInt8], remoteAddress: [UInt8], localPort: UInt16, remotePort: UInt16) {
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

import BPFLoader

/// A connection as one socket sees it, in its own network namespace: what the data path records
/// of each socket in the SOCKHASH (`struct sock_key` inside `struct socket_record`,
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

/// What the data path records of one socket in its SOCKHASH (`struct socket_record`, the head of
/// its state in `sock_state`, reported by the `sockmap_sockets` TCP iterator, one network namespace at a
/// time): its cookie, its peer once known, and its connection. The connecting side learns its
/// peer at its first send or callback after the accepting side's claim; until then only the
/// accepting side's record names the pair.
package struct SocketRecord: Sendable, Equatable {
    /// The size of `struct socket_record`.
    package static let size = 64
    /// The socket's cookie (its SOCKHASH key).
    package var cookie: UInt64
    /// The peer socket's cookie; nil while this socket does not know it.
    package var peerCookie: UInt64?
    /// The connection as this socket sees it.
    package var key: SockKey

    /// A record from its parts.
    package init(cookie: UInt64, peerCookie: UInt64?, key: SockKey) {
        self.cookie = cookie
        self.peerCookie = peerCookie
        self.key = key
    }

    /// Decodes one record; nil when `bytes` is not 64 bytes long.
    package init?(bytes: some Collection<UInt8>) {
        let bytes = Array(bytes)
        guard bytes.count == Self.size else { return nil }
        cookie = bytes.littleEndian(UInt64.self, at: 0)
        let peer = bytes.littleEndian(UInt64.self, at: 8)
        peerCookie = peer == 0 ? nil : peer
        key = SockKey(netnsCookie: bytes.littleEndian(UInt64.self, at: 16), localAddress: Array(bytes[24..<40]),
                      remoteAddress: Array(bytes[40..<56]),
                      localPort: UInt16(truncatingIfNeeded: bytes.littleEndian(UInt32.self, at: 56)),
                      remotePort: UInt16(truncatingIfNeeded: bytes.littleEndian(UInt32.self, at: 60)))
    }

    /// The records of one iteration (what `sockmap_sockets` wrote), by cookie, each with its peer
    /// filled in from the other side's record when it does not know it yet.
    package static func decodeAll(_ bytes: [UInt8]) -> [UInt64: SocketRecord] {
        var records: [UInt64: SocketRecord] = [:]
        var offset = 0
        while offset + size <= bytes.count {
            if let record = SocketRecord(bytes: bytes[offset..<offset + size]), record.cookie != 0 { records[record.cookie] = record }
            offset += size
        }
        for record in records.values {
            if let peer = record.peerCookie, records[peer]?.peerCookie == nil { records[peer]?.peerCookie = record.cookie }
        }
        return records
    }

    /// One pass of the data path's `sockmap_sockets` iterator (`iter/tcp`) in the caller's
    /// network namespace and in each of `namespaces` (`NetworkNamespaces.others`): every socket it
    /// entered in the SOCKHASH there.
    static func read(program: BPFProgram, namespaces: [String]) throws(BPFError) -> [UInt64: SocketRecord] {
        decodeAll(NetworkNamespaces.iterate(try IteratorLink(program: program), alsoIn: namespaces))
    }

    /// The 64 bytes the data path writes (little-endian integers, ports in 32-bit slots).
    package var bytes: [UInt8] {
        cookie.littleEndianBytes + (peerCookie ?? 0).littleEndianBytes + key.netnsCookie.littleEndianBytes + key.localAddress
            + key.remoteAddress + UInt32(key.localPort).littleEndianBytes + UInt32(key.remotePort).littleEndianBytes
    }
}

/// One socket in the SOCKHASH of our data path, which is keyed by socket cookie.
public struct SockhashEntry: Sendable, Equatable, Codable {
    /// The connection as this socket sees it; nil when no record of it was found (the socket is
    /// leaving the map, or lives in a network namespace that no process of the cgroup is in and
    /// that `ip netns` does not name).
    public let key: SockKey?
    /// The socket cookie (`SO_COOKIE`), the entry's key.
    public let cookie: UInt64?
    /// The cookie of the socket it is paired with; nil while unpaired (the connecting side before
    /// the accepting side has claimed its token, or a peer that never did).
    public let peerCookie: UInt64?

    /// An entry from its parts.
    package init(key: SockKey?, cookie: UInt64?, peerCookie: UInt64?) {
        self.key = key
        self.cookie = cookie
        self.peerCookie = peerCookie
    }
}

/// One socket in any SOCKHASH or SOCKMAP: its key as the object defines it.
public struct RawSockmapEntry: Sendable, Equatable {
    /// The entry's key bytes, as the object's key type lays them out.
    public let key: [UInt8]
    /// The socket cookie; nil when the map's values are not 8 bytes.
    public let cookie: UInt64?
}

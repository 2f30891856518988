/// One socket in the SOCKHASH.
public struct SockhashEntry: Sendable, Equatable, Codable {
    /// The entry's key: the connection as this socket sees it.
    public let key: SockKey
    /// The socket cookie (`SO_COOKIE`); nil when the map's values are not 8 bytes (lookups then fail).
    public let cookie: UInt64?
}

/// One socket in any SOCKHASH or SOCKMAP: its key as the object defines it.
public struct RawSockmapEntry: Sendable, Equatable {
    /// The entry's key bytes, as the object's key type lays them out.
    public let key: [UInt8]
    /// The socket cookie; nil when the map's values are not 8 bytes.
    public let cookie: UInt64?
}

/// One socket in the SOCKHASH.
public struct SockhashEntry: Sendable, Equatable, Codable {
    public let key: SockKey
    /// The socket cookie (`SO_COOKIE`); nil when the map's values are not 8 bytes (lookups then fail).
    public let cookie: UInt64?
}

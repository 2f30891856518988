import BPFLoader

/// One entry of the allow/deny list: a port (any address) or an address (any port).
///
/// The sock_ops program checks both ends of a connection when a socket becomes ESTABLISHED, so
/// both sockets of a connection always get the same decision. Changes apply to connections
/// established afterwards; accelerated connections stay accelerated until they close.
public enum PolicyEntry: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Every connection to or from this port, on any address.
    case port(UInt16)
    /// 16 bytes; IPv4 as ::ffff:a.b.c.d.
    case address([UInt8])

    /// Parses "6379", "127.0.0.2", "::1" or "[::1]".
    public init(parsing text: String) throws(AcceleratorError) {
        if let port = UInt16(text), port > 0 {
            self = .port(port)
            return
        }
        var trimmed = Substring(text)
        if trimmed.hasPrefix("[") && trimmed.hasSuffix("]") { trimmed = trimmed.dropFirst().dropLast() }
        guard let address = IPAddress.parse(String(trimmed)) else { throw .badPolicyEntry(text) }
        self = .address(address)
    }

    /// `struct policy_key { __u32 port; __u32 ip[4]; }`.
    var key: [UInt8] {
        switch self {
        case .port(let port): UInt32(port).littleEndianBytes + [UInt8](repeating: 0, count: 16)
        case .address(let address): UInt32(0).littleEndianBytes + address
        }
    }

    init?(key: [UInt8]) {
        guard key.count == 20 else { return nil }
        let port = key.littleEndian(UInt32.self, at: 0)
        if port != 0 {
            self = .port(UInt16(truncatingIfNeeded: port))
        } else {
            self = .address(Array(key[4..<20]))
        }
    }

    public var description: String {
        switch self {
        case .port(let port): "port \(port)"
        case .address(let address): "address \(IPAddress.format(address))"
        }
    }
}

extension Accelerator {
    /// The entries of the allow/deny list.
    public func policyEntries() throws(AcceleratorError) -> [PolicyEntry] {
        let map = try ownMap(DataPath.policyMap, feature: "a policy")
        do { return try map.keys().compactMap(PolicyEntry.init(key:)) } catch { throw .kernel(error) }
    }

    /// Adds `entry` to the list (needs root); connections established afterwards see it.
    public func addPolicy(_ entry: PolicyEntry) throws(AcceleratorError) {
        try Privileges.requireRoot()
        let map = try ownMap(DataPath.policyMap, feature: "a policy")
        do { try map.update(key: entry.key, value: UInt32(1).littleEndianBytes) } catch { throw AcceleratorError(error) }
        try syncPolicyFlag(map)
    }

    /// Returns whether the entry was there.
    @discardableResult
    public func removePolicy(_ entry: PolicyEntry) throws(AcceleratorError) -> Bool {
        try Privileges.requireRoot()
        let map = try ownMap(DataPath.policyMap, feature: "a policy")
        let removed: Bool
        do { removed = try map.delete(entry.key) } catch { throw AcceleratorError(error) }
        try syncPolicyFlag(map)
        return removed
    }

    /// Tells the data path whether the policy map has entries (it looks none up without), from
    /// the map itself, under the installation lock.
    func syncPolicyFlag(_ map: BPFMap) throws(AcceleratorError) {
        try updateConfig { config in config.hasPolicy = !((try? map.keys()) ?? [[0]]).isEmpty }
    }

    /// Sets whether the list allows or denies (needs root; under the installation lock).
    public func setPolicyMode(_ mode: DataPath.PolicyMode) throws(AcceleratorError) {
        try updateConfig { $0.policyMode = mode }
    }

    /// Pauses (every send takes the TCP path, no socket is added) or resumes redirection.
    public func setPaused(_ paused: Bool) throws(AcceleratorError) {
        try updateConfig { $0.passthrough = paused }
    }
}

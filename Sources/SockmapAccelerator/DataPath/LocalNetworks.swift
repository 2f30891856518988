import BPFLoader
import FoundationEssentials
import Glibc

/// An address prefix a SYN may carry a pairing token toward (and a token is accepted from):
/// one entry of the data path's `local_nets` LPM trie.
public struct LocalNetwork: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The prefix's address, 16 bytes, IPv4 as ::ffff:a.b.c.d (host bits zero).
    public var address: [UInt8]
    /// The prefix length in the 16-byte form (IPv4 /24 is 120).
    public var prefixLength: Int
    /// Where it comes from: `--local-prefix`, an interface's address, a container bridge.
    public var origin: String

    /// A prefix from its parts; host bits of `address` are cleared.
    public init(address: [UInt8], prefixLength: Int, origin: String) {
        self.prefixLength = max(0, min(128, prefixLength))
        self.address = Self.masked(address, prefixLength: self.prefixLength)
        self.origin = origin
    }

    /// Parses `10.0.0.0/24`, `fd00::/8` or a bare address (a host prefix); nil when it is not one.
    public init?(cidr text: String, origin: String = "--local-prefix") {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let address = IPAddress.parse(parts[0]) else { return nil }
        let isIPv4 = parts[0].contains(".")
        let maximum = isIPv4 ? 32 : 128
        var length = maximum
        if parts.count == 2 {
            guard let given = Int(parts[1]), (0...maximum).contains(given) else { return nil }
            length = given
        }
        self.init(address: address, prefixLength: isIPv4 ? 96 + length : length, origin: origin)
    }

    /// Whether the prefix is IPv4 (inside ::ffff:0:0/96).
    public var isIPv4: Bool { prefixLength >= 96 && address[0..<10].allSatisfy { $0 == 0 } && address[10] == 0xFF && address[11] == 0xFF }

    /// `10.0.0.0/24`, `fd00::/8`.
    public var description: String { "\(IPAddress.format(address))/\(isIPv4 ? prefixLength - 96 : prefixLength)" }

    /// The 20-byte `struct local_net_key`: prefix length (little-endian), then the address.
    var key: [UInt8] { UInt32(prefixLength).littleEndianBytes + address }

    private static func masked(_ address: [UInt8], prefixLength: Int) -> [UInt8] {
        address.enumerated().map { index, byte in
            let bits = prefixLength - index * 8
            if bits >= 8 { return byte }
            if bits <= 0 { return 0 }
            return byte & UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
        }
    }
}

/// Finds the destinations that can be on this host, for `local_nets`: beyond loopback and a
/// socket's own address (which the data path takes by itself), every address of every network
/// namespace swift-sockmap can see (its own, the named ones of `ip netns`, those of the cgroup's
/// processes), and the subnet of each container bridge of its own namespace: a bridge whose ports
/// are all veths (docker0, cni0, podman0), so containers started later are covered too. A bridge
/// with a physical port or a tap (a VM) reaches other hosts and only contributes its own address.
package enum LocalNetworks {
    /// What `load` writes: the operator's prefixes, then what discovery finds (unless `discover`
    /// is false), without duplicates.
    package static func resolve(operatorPrefixes: [LocalNetwork], discover: Bool, cgroup: Cgroup?) -> [LocalNetwork] {
        var seen = Set<String>()
        var result: [LocalNetwork] = []
        for network in operatorPrefixes + (discover ? discovered(cgroup: cgroup) : []) where seen.insert(network.description).inserted {
            result.append(network)
        }
        return result
    }

    /// Every address of every namespace seen, and the subnets of container bridges.
    package static func discovered(cgroup: Cgroup?) -> [LocalNetwork] {
        var result = interfaceNetworks(namespace: "this namespace", bridges: true)
        for path in NetworkNamespaces.others(than: cgroup) {
            result += NetworkNamespaces.run(in: path) { interfaceNetworks(namespace: path, bridges: false) } ?? []
        }
        return result
    }

    /// Replaces the contents of the data path's `local_nets` map with `networks`.
    package static func write(_ networks: [LocalNetwork], to map: BPFMap) throws(BPFMapError) {
        let wanted = Set(networks.map(\.key))
        if let keys = try? map.keys() {
            for key in keys where !wanted.contains(key) { _ = try map.delete(key) }
        }
        for network in networks { try map.update(key: network.key, value: UInt32(1).littleEndianBytes) }
    }

    /// The prefixes in a `local_nets` map.
    package static func read(from map: BPFMap) -> [LocalNetwork] {
        ((try? map.keys()) ?? []).compactMap { key in
            guard key.count == 20 else { return nil }
            return LocalNetwork(address: Array(key[4..<20]), prefixLength: Int(key.littleEndian(UInt32.self, at: 0)), origin: "map")
        }.sorted { $0.description < $1.description }
    }

    /// The addresses of the calling thread's namespace (loopback ones left out: the data path
    /// takes them by itself), with the subnets of container bridges when `bridges`.
    private static func interfaceNetworks(namespace: String, bridges: Bool) -> [LocalNetwork] {
        var result: [LocalNetwork] = []
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var cursor = list
        while let entry = cursor?.pointee {
            defer { cursor = entry.ifa_next }
            guard let address = entry.ifa_addr, let (bytes, isIPv4) = Self.bytes(of: address) else { continue }
            let name = String(cString: entry.ifa_name)
            // Loopback the data path takes by itself; link-local (fe80::/10) is on every link,
            // toward other hosts too.
            if IPAddress.format(bytes) == "::1" || (isIPv4 && bytes[12] == 127) || (bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80) { continue }
            result.append(LocalNetwork(address: bytes, prefixLength: 128, origin: "address of \(name) in \(namespace)"))
            if bridges, isContainerBridge(name), let mask = entry.ifa_netmask, let (maskBytes, _) = Self.bytes(of: mask) {
                let length = (isIPv4 ? 96 : 0) + maskBytes[(isIPv4 ? 12 : 0)...].reduce(0) { $0 + $1.nonzeroBitCount }
                result.append(LocalNetwork(address: bytes, prefixLength: length, origin: "container bridge \(name)"))
            }
        }
        return result
    }

    /// A bridge of this namespace whose ports are all virtual Ethernet pairs: no physical device
    /// (`device` link in sysfs) and no tap (`tun_flags`) behind any of them.
    static func isContainerBridge(_ name: String) -> Bool {
        let files = FileManager.default
        let base = "/sys/class/net/\(name)"
        guard files.fileExists(atPath: base + "/bridge") else { return false }
        let ports = (try? files.contentsOfDirectory(atPath: base + "/brif")) ?? []
        return ports.allSatisfy { port in
            !files.fileExists(atPath: "/sys/class/net/\(port)/device") && !files.fileExists(atPath: "/sys/class/net/\(port)/tun_flags")
        }
    }

    /// The 16-byte form of a socket address (IPv4 as ::ffff:a.b.c.d); nil for other families.
    private static func bytes(of address: UnsafeMutablePointer<sockaddr>) -> ([UInt8], Bool)? {
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                let raw = withUnsafeBytes(of: v4.pointee.sin_addr.s_addr) { Array($0) }
                return ([UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + raw, true)
            }
        case AF_INET6:
            return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                (withUnsafeBytes(of: v6.pointee.sin6_addr) { Array($0) }, false)
            }
        default:
            return nil
        }
    }

}

import Foundation
import SockmapAccelerator
import TestSupport

/// Test hosts on this machine, made the way Docker and Kubernetes make them: a "host" network
/// namespace holding a bridge, and one namespace per container joined to the bridge by a veth.
/// Addresses exist only inside these namespaces. `delete()` removes them all.
final class BridgeNetwork {
    let host: NetworkNamespace
    let containers: [NetworkNamespace]
    /// The bridge's IPv4 address in the host namespace, if it has one (a published port's target).
    let hostAddress: String?

    /// `containerAddresses[i]` (CIDR, IPv4 or IPv6; several per container, comma-separated) go
    /// on container i's `eth0`; `hostAddress` (CIDR) on the bridge. A few `ip -batch` runs make it
    /// all, one per namespace (process start-up is slow in the kernel matrix's emulated guests).
    init(name: String, hostAddress: String? = nil, containerAddresses: [String]) throws {
        let hostName = name + "-h"
        let names = containerAddresses.indices.map { "\(name)-c\($0 + 1)" }
        let leftovers = ([hostName] + names).filter { FileManager.default.fileExists(atPath: "/run/netns/" + $0) } // of a crashed run
        if !leftovers.isEmpty { try? Self.ipBatch(leftovers.map { "netns delete \($0)" }, force: true) }
        host = NetworkNamespace(existing: hostName)
        containers = names.map(NetworkNamespace.init(existing:))
        self.hostAddress = hostAddress.map { String($0.split(separator: "/")[0]) }

        var inHost = ["link set lo up", "link add br0 type bridge", "link set br0 up"]
        if let hostAddress { inHost.append("addr add \(hostAddress) dev br0" + Self.noDAD(hostAddress)) }
        var inContainers: [[String]] = []
        for (index, addresses) in containerAddresses.enumerated() {
            let port = "veth\(index + 1)"
            inHost += ["link add \(port) type veth peer name eth0 netns \(names[index])", "link set \(port) master br0 up"]
            var commands = ["link set lo up"] + addresses.split(separator: ",").map { "addr add \($0) dev eth0" + Self.noDAD(String($0)) }
            commands.append("link set eth0 up")
            if let gateway = self.hostAddress { commands.append("route add default via \(gateway)") }
            inContainers.append(commands)
        }
        do {
            try Self.ipBatch(([hostName] + names).map { "netns add \($0)" })
            try Self.ipBatch(inHost, namespace: hostName)
            for (index, commands) in inContainers.enumerated() { try Self.ipBatch(commands, namespace: names[index]) }
        } catch {
            delete()
            throw error
        }
    }

    func delete() {
        try? Self.ipBatch((containers + [host]).map { "netns delete \($0.name)" }, force: true)
    }

    /// A published port, as container engines make one: DNAT in the host namespace from
    /// `hostAddress`:`hostPort` to `target` (`ADDRESS:PORT`), for connections made on the host.
    func publish(hostPort: UInt16, to target: String) throws {
        guard let hostAddress else { throw TestSocketError("a published port needs the bridge's host address", 0) }
        try nft("""
            table ip sockmap_test {
                chain output { type nat hook output priority -100; ip daddr \(hostAddress) tcp dport \(hostPort) dnat to \(target); }
            }
            """)
    }

    /// Runs `nft` in the host namespace with `rules` as its input file (`nft -f`).
    func nft(_ rules: String) throws {
        let file = NSTemporaryDirectory() + "sockmap-nft-\(getpid())-\(UUID().uuidString).nft"
        try rules.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = try CommandRunner.run(NetworkNamespace.ipTool, ["netns", "exec", host.name, Self.nftTool, "-f", file], timeout: 20)
        guard result.status == 0 else { throw TestSocketError("nft -f in \(host.name): \(result.stderr)", 0) }
    }

    static let nftTool: String = ["/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft"]
        .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "nft"

    /// IPv6 addresses skip duplicate address detection, so they work at once.
    private static func noDAD(_ address: String) -> String { address.contains(":") ? " nodad" : "" }

    /// Runs `commands` in one `ip` process (in `namespace` when given); `force` goes on past a
    /// failing one.
    private static func ipBatch(_ commands: [String], namespace: String? = nil, force: Bool = false) throws {
        let file = NSTemporaryDirectory() + "sockmap-ip-\(getpid())-\(UUID().uuidString).batch"
        try (commands.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let options = (namespace.map { ["-n", $0] } ?? []) + (force ? ["-force"] : [])
        let result = try CommandRunner.run(NetworkNamespace.ipTool, options + ["-batch", file], timeout: 60)
        guard result.status == 0 else { throw TestSocketError("ip -batch: \(result.stderr)", 0) }
    }
}

/// Where one end of a test connection lives.
struct Endpoint {
    /// nil: the test process's own namespace.
    var namespace: NetworkNamespace?
    /// nil: outside any accelerated cgroup.
    var cgroup: AcceleratedCgroup?

    /// Creates a socket of `family` there: the socket keeps that namespace and cgroup for good.
    func socket(family: Int32) throws -> TestSocket {
        if let cgroup { return TestSocket(fd: try cgroup.socketDescriptor(family: family, in: namespace)) }
        let create = { () throws -> TestSocket in
            let fd = Glibc.socket(family, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw TestSocketError("socket") }
            return TestSocket(fd: fd)
        }
        return try namespace.map { try $0.run(create) } ?? create()
    }
}

extension TCPPair {
    /// A connection from `client` to `server`: the server listens on `listenAddress`:`port`, the
    /// client connects to `connectAddress`:`connectPort` (another address when NAT sits between).
    /// `saveSYN` keeps the SYN on the accepted socket (`TCP_SAVE_SYN`), for the test to read.
    static func make(server: Endpoint, listenAddress: String, port: UInt16, client: Endpoint,
                     connectAddress: String? = nil, connectPort: UInt16? = nil, saveSYN: Bool = false) throws -> TCPPair {
        let family = listenAddress.contains(":") ? AF_INET6 : AF_INET
        let listener = try server.socket(family: family)
        var one: Int32 = 1
        setsockopt(listener.fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if saveSYN { setsockopt(listener.fd, Int32(IPPROTO_TCP), 27 /* TCP_SAVE_SYN */, &one, socklen_t(MemoryLayout<Int32>.size)) }
        guard SocketAddress.withAddress(listenAddress, port, { Glibc.bind(listener.fd, $0, $1) }) == 0, listen(listener.fd, 16) == 0 else {
            throw TestSocketError("bind/listen \(listenAddress):\(port)")
        }
        let target = connectAddress ?? listenAddress
        let clientSocket = try client.socket(family: target.contains(":") ? AF_INET6 : AF_INET)
        guard SocketAddress.withAddress(target, connectPort ?? port, { Glibc.connect(clientSocket.fd, $0, $1) }) == 0 else {
            throw TestSocketError("connect \(target):\(connectPort ?? port)")
        }
        return try accepting(clientSocket, on: listener)
    }
}

/// IPv4 and IPv6 socket addresses from text.
enum SocketAddress {
    static func withAddress<T>(_ text: String, _ port: UInt16, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        if text.contains(":") {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            _ = inet_pton(AF_INET6, text, &address.sin6_addr)
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        _ = inet_pton(AF_INET, text, &address.sin_addr)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }
}

import Glibc

/// Two "containers" on this machine for the cross-namespace modes: network namespaces joined by
/// veths to a bridge in a third ("host") namespace, as Docker and Kubernetes make them. Their
/// addresses (10.213.0.1 and 10.213.0.2) exist only inside these namespaces. Made before
/// `swift-sockmap load`, so that load counts them as this host's; removed at the end or on error.
struct BenchBridge: Sendable {
    /// `ip netns` names: the bridge's namespace, then the client's and the server's.
    let host: String, client: String, server: String
    static let clientAddress = "10.213.0.1"
    static let serverAddress = "10.213.0.2"

    /// The server's namespace file, for `--netns`.
    var serverNamespace: String { "/run/netns/\(server)" }
    /// The client's namespace file, for `--netns`.
    var clientNamespace: String { "/run/netns/\(client)" }

    static func make() throws -> BenchBridge {
        let prefix = "smb-\(getpid())"
        let bridge = BenchBridge(host: prefix + "-h", client: prefix + "-c1", server: prefix + "-c2")
        for name in [bridge.host, bridge.client, bridge.server] {
            try ip(["netns", "add", name])
            Cleanup.shared.register("network namespace \(name)") { _ = try? runCommand(ipTool, ["netns", "delete", name]) }
            try ip(["-n", name, "link", "set", "lo", "up"])
        }
        try ip(["-n", bridge.host, "link", "add", "br0", "type", "bridge"])
        try ip(["-n", bridge.host, "link", "set", "br0", "up"])
        for (index, (name, address)) in [(bridge.client, clientAddress), (bridge.server, serverAddress)].enumerated() {
            let port = "veth\(index + 1)"
            try ip(["-n", bridge.host, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", name])
            try ip(["-n", bridge.host, "link", "set", port, "master", "br0", "up"])
            try ip(["-n", name, "addr", "add", address + "/24", "dev", "eth0"])
            try ip(["-n", name, "link", "set", "eth0", "up"])
        }
        note("made network namespaces \(bridge.client) (\(clientAddress)) and \(bridge.server) (\(serverAddress)) on a bridge in \(bridge.host)")
        return bridge
    }

    static let ipTool: String = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { (path: String) in access(path, X_OK) == 0 } ?? "ip"

    private static func ip(_ arguments: [String]) throws {
        let outcome = try runCommand(ipTool, arguments)
        guard outcome.status == 0 else { throw BenchError("ip \(arguments.joined(separator: " ")): \(outcome.stderr)") }
    }
}

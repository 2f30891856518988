import ArgumentParser

/// How the two processes talk.
enum Mode: String, CaseIterable, Codable, Sendable, ExpressibleByArgument {
    /// Loopback TCP; both processes outside the accelerated cgroup.
    case plain
    /// Loopback TCP; both processes inside the accelerated cgroup, so sockmap redirects.
    case accelerated
    /// Loopback TCP; both processes inside a second cgroup of the bench, where `swift-sockmap
    /// load` installed the seed document's own two programs (the `libbpf_seed_sockmap` fixture:
    /// a SOCKHASH keyed by the IPv4 4-tuple, no flow control, no counters): what the issue's
    /// targets compare ours with.
    case reference
    /// AF_UNIX stream sockets: the same-host floor.
    case unix
    /// Stream only: both processes inside the accelerated cgroup, the connection made on the fast
    /// path, then `pause` before the first write: what a connection still open after `pause` (or
    /// moved to TCP by backpressure) runs at once it has left the map.
    case paused
    /// Stream only, the noise floor of paused mode: its harness (`PausedPair`) with both groups
    /// of connections plain TCP, the second made in a cgroup with nothing attached. Its ratio to
    /// its own reference would be 1 on a quiet machine.
    case control
    /// Across network namespaces: client and server in two namespaces on a bridge the bench makes
    /// (``BenchBridge``), both outside the accelerated cgroup: TCP through two veths and a bridge.
    case bridgePlain = "bridge-plain"
    /// The same placement with both processes inside the accelerated cgroup: paired by token,
    /// redirected whatever namespace the peer lives in.
    case bridgeAccelerated = "bridge-accelerated"

    /// Runs in `PausedPair`'s harness, plain TCP reference connections inside the same run; a
    /// stream harness, so these modes have no other workload.
    var usesPausedHarness: Bool { self == .paused || self == .control }

    /// Client and server in the bench's two bridged namespaces.
    var acrossNamespaces: Bool { self == .bridgePlain || self == .bridgeAccelerated }

    /// Both processes in the accelerated cgroup.
    var isAccelerated: Bool { self == .accelerated || self == .paused || self == .bridgeAccelerated }

    /// Both processes in the cgroup of the seed's programs.
    var isReference: Bool { self == .reference }

    /// Whose sk_msg program carries this mode's sends: ours (the accelerated installation), the
    /// seed's, or none.
    var installation: Installation? {
        if isAccelerated { return .ours }
        if isReference { return .reference }
        return nil
    }

    /// The two BPF installations of a run.
    enum Installation: String, Codable, Sendable {
        /// `--object` (bpf/redir.o) on the accelerated cgroup.
        case ours
        /// `--reference-object` (the seed's programs) on the reference cgroup.
        case reference
    }
}

/// The four workload kinds; `--workloads` selects among them.
enum WorkloadKind: String, CaseIterable, Codable, Sendable, ExpressibleByArgument {
    case rtt, stream, connect, loader
}

/// Where the two processes run.
enum Pinning: String, Codable, Sendable {
    /// Both on CPU 0: every message is a context switch.
    case sameCPU = "same-cpu"
    /// Client on CPU 0, server on CPU 1: every message is a cross-CPU wake-up.
    case crossCPU = "cross-cpu"

    var serverCPU: Int { self == .sameCPU ? 0 : 1 }
    var clientCPU: Int { 0 }
}

/// One row group of the report: a two-process workload at one size and pinning.
struct Scenario: Hashable, Codable, Sendable {
    let kind: WorkloadKind
    /// Message size (rtt), write size (stream), request size (connect).
    let size: Int
    let pinning: Pinning
    /// Stream only: Nagle's algorithm left on (no TCP_NODELAY), as bulk senders usually run.
    var nagle = false

    var label: String {
        switch kind {
        case .rtt: "RTT \(formatBytes(size)) \(pinning.rawValue)"
        case .stream: "stream \(formatBytes(size)) writes \(pinning.rawValue)\(nagle ? " Nagle" : "")"
        case .connect: "connect+req/resp+close"
        case .loader: "loader"
        }
    }

    /// What each run reports, in report order.
    var metrics: [Metric] {
        switch kind {
        case .rtt: [.p50, .p99, .p999]
        case .stream: [.throughput]
        case .connect: [.connectionRate]
        case .loader: []
        }
    }
}

/// A measured quantity with its unit and its direction.
struct Metric: Hashable, Codable, Sendable {
    let name: String
    let unit: String
    let higherIsBetter: Bool

    static let p50 = Metric(name: "p50", unit: "µs", higherIsBetter: false)
    static let p99 = Metric(name: "p99", unit: "µs", higherIsBetter: false)
    static let p999 = Metric(name: "p99.9", unit: "µs", higherIsBetter: false)
    static let throughput = Metric(name: "throughput", unit: "MB/s", higherIsBetter: true)
    static let connectionRate = Metric(name: "rate", unit: "conn/s", higherIsBetter: true)
}

/// 64 B, 1 KiB, 16 KiB, 1 MiB.
func formatBytes(_ count: Int) -> String {
    if count >= 1 << 20, count % (1 << 20) == 0 { return "\(count >> 20) MiB" }
    if count >= 1 << 10, count % (1 << 10) == 0 { return "\(count >> 10) KiB" }
    return "\(count) B"
}

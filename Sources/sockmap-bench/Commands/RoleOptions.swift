import ArgumentParser
import BPFLoader
import Glibc

/// What both hidden child roles are told by the parent.
struct RoleOptions: ParsableArguments {
    @Option(help: "rtt, stream or connect.")
    var workload: WorkloadKind

    @Option(help: "Message, write or request size in bytes.")
    var size: Int

    @Option(help: "Pin this process to CPU N.")
    var cpu: Int?

    @Option(help: "Join this cgroup (v2 directory) before creating any socket.")
    var cgroup: String?

    @Option(help: "Join this network namespace (a file such as /run/netns/NAME) before creating any socket.")
    var netns: String?

    @Option(help: "Hard limit: SIGALRM ends the process after N seconds, whatever it is doing.")
    var timeout: UInt32 = 120

    @Option(help: "A socket operation without progress for this many seconds is an error.")
    var idleTimeout: Double = 10

    @Flag(help: "Leave Nagle's algorithm on (no TCP_NODELAY) on TCP sockets.")
    var nagle = false

    func validate() throws {
        guard workload != .loader else { throw ValidationError("loader is not a two-process workload") }
        guard size > 0 else { throw ValidationError("--size must be positive") }
    }

    var timeouts: SocketTimeouts { SocketTimeouts(idleSeconds: idleTimeout) }

    /// First things first: the hang bound, then the cgroup (before any socket exists), then the CPU.
    func enterPlacement() throws {
        armAlarm()
        try joinCgroupAndPin()
    }

    /// The hang bound alone: paused mode makes its plain reference socket after this, before
    /// `joinCgroupAndPin()`.
    func armAlarm() {
        alarm(timeout)
    }

    /// The network namespace and the cgroup (sockets made from now on belong to them), then the CPU.
    func joinCgroupAndPin() throws {
        if let netns {
            do { try HostSystem.enterNetworkNamespace(netns) } catch { throw BenchError("cannot join network namespace \(netns): \(error)") }
        }
        if let cgroup { try CgroupPlacement.joinSelf(cgroup) }
        if let cpu { try CPUAffinity.pinSelf(to: cpu) }
    }
}

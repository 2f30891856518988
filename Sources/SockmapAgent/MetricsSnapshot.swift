import BPFLoader
import FoundationEssentials
import Glibc
import SockmapAccelerator

/// Everything one scrape of `/metrics` shows, read from the kernel at the moment of the scrape:
/// the per-CPU counters summed by `Counters.read`, the map's fill, the programs' run statistics.
/// Nothing is cached between scrapes, so there is nothing to drift.
package struct MetricsSnapshot: Sendable {
    /// One attached program, with `kernel.bpf_stats_enabled` statistics.
    package struct Program: Sendable {
        package var name: String
        package var type: String
        package var runCount: UInt64
        package var runTimeNanoseconds: UInt64

        package init(name: String, type: String, runCount: UInt64, runTimeNanoseconds: UInt64) {
            self.name = name
            self.type = type
            self.runCount = runCount
            self.runTimeNanoseconds = runTimeNanoseconds
        }
    }

    /// Whether a complete installation is in place.
    package var loaded = false
    /// The data path's counters; nil when nothing is loaded or the object has none.
    package var counters: Counters?
    /// Sockets in the SOCKHASH and its capacity.
    package var sockhashEntries: Int?
    package var sockhashCapacity: UInt32?
    /// Processes in the accelerated cgroup.
    package var cgroupProcesses: Int?
    /// Whether redirection is paused (nil: the object has no config map).
    package var paused: Bool?
    /// The attached programs.
    package var programs: [Program] = []
    /// Whether `kernel.bpf_stats_enabled` is on (program statistics are only counted then).
    package var bpfStatsEnabled = false
    /// Maps kept by earlier detaches and the sockets still in them.
    package var drainingMaps = 0
    package var drainingSockets = 0
    /// For the info metric.
    package var kernelRelease: String
    package var object: String?
    package var objectSHA256: String?
    package var cgroup: String?
    package var policyMode: String?
    package var version: String
    /// The agent's own doings.
    package var reloadsSucceeded = 0
    package var reloadsFailed = 0
    package var ready = false

    package init(kernelRelease: String, version: String) {
        self.kernelRelease = kernelRelease
        self.version = version
    }

    /// Reads the installation under `accelerator` now.
    package static func collect(_ accelerator: Accelerator, version: String) -> MetricsSnapshot {
        var snapshot = MetricsSnapshot(kernelRelease: KernelRelease.running?.text ?? "unknown", version: version)
        snapshot.bpfStatsEnabled = bpfStatsEnabled()
        guard let report = try? accelerator.status() else { return snapshot }
        snapshot.loaded = report.loaded
        snapshot.counters = report.counters
        snapshot.sockhashEntries = report.sockhash?.entries
        snapshot.sockhashCapacity = report.sockhash?.maxEntries
        snapshot.cgroupProcesses = report.cgroupProcesses
        snapshot.paused = report.paused
        snapshot.programs = report.programs.map {
            Program(name: $0.name, type: $0.type, runCount: $0.runCount, runTimeNanoseconds: $0.runTimeNanoseconds)
        }
        snapshot.drainingMaps = report.draining.count
        snapshot.drainingSockets = report.draining.reduce(0) { $0 + ($1.sockets ?? 0) }
        snapshot.object = report.state?.object
        snapshot.objectSHA256 = report.state?.objectSHA256
        snapshot.cgroup = report.state?.cgroup
        snapshot.policyMode = report.policyMode
        return snapshot
    }

    /// `sysctl kernel.bpf_stats_enabled`.
    static func bpfStatsEnabled() -> Bool {
        (try? String(contentsOfFile: "/proc/sys/kernel/bpf_stats_enabled", encoding: .utf8))?
            .split(whereSeparator: \.isWhitespace).first == "1"
    }
}

import Foundation
import SockmapAccelerator

/// The cost of swift-sockmap itself: one `load` + `detach` cycle on a scratch cgroup through the
/// CLI, the start-up cost of the CLI (`--version`) so the two can be told apart, the same cycle
/// through the library in this process (no start-up at all), and libbpf's load of the same
/// object (`bpftool prog loadall`: parse, CO-RE against the kernel's BTF, maps, programs, pins),
/// spawned and timed the same way, with the peak memory of each process.
struct LoaderCycle {
    let sockmap: String
    let object: String
    /// An empty cgroup of our own, separate from the accelerated one.
    let cgroup: String
    let pinDir: String
    /// Where `bpftool prog loadall` pins the programs it loads (removed after each cycle).
    var libbpfPinDir: String { pinDir + "-libbpf" }

    struct Sample: Codable, Sendable {
        var loadMs: Double
        var detachMs: Double
        var cycleMs: Double
        var versionMs: Double
        /// The same cycle through the library, in this process: the loader's own cost.
        var inProcessLoadMs: Double
        var inProcessDetachMs: Double
        var inProcessCycleMs: Double { inProcessLoadMs + inProcessDetachMs }
        /// Peak resident set of the `load` and `--version` processes, MiB.
        var loadPeakMiB: Double?
        var versionPeakMiB: Double?
        /// `bpftool prog loadall` of the same object; nil without bpftool.
        var libbpfLoadMs: Double?
        var libbpfPeakMiB: Double?
    }

    /// One `--version`, one `load`, one `detach`, one `bpftool prog loadall`, each timed from
    /// spawn to exit; the same once more under `/usr/bin/time` for their peak memory; then the
    /// in-process cycle.
    func measure() throws -> Sample {
        let version = try checked(sockmap, ["--version"])
        let load = try checked(sockmap, ["load", object, "--cgroup", cgroup, "--pin-dir", pinDir])
        let detach = try checked(sockmap, ["detach", "--pin-dir", pinDir])
        let libbpf = try libbpfLoad()
        let versionPeak = try peakMemory(sockmap, ["--version"])
        let loadPeak = try peakMemory(sockmap, ["load", object, "--cgroup", cgroup, "--pin-dir", pinDir])
        _ = try checked(sockmap, ["detach", "--pin-dir", pinDir])
        let libbpfPeak = try Self.bpftool.flatMap { (bpftool) throws -> Double? in
            defer { Self.removePins(libbpfPinDir) }
            return try peakMemory(bpftool, ["prog", "loadall", object, libbpfPinDir])
        }
        let accelerator = Accelerator(pinDirectory: pinDir)
        let start = monotonicNanos()
        do {
            try accelerator.load(.init(objectPath: object, cgroup: cgroup))
        } catch {
            throw BenchError("in-process load: \(error)")
        }
        let loaded = monotonicNanos()
        do { try accelerator.detach() } catch { throw BenchError("in-process detach: \(error)") }
        let detached = monotonicNanos()
        return Sample(
            loadMs: load.seconds * 1e3,
            detachMs: detach.seconds * 1e3,
            cycleMs: (load.seconds + detach.seconds) * 1e3,
            versionMs: version.seconds * 1e3,
            inProcessLoadMs: Double(loaded - start) / 1e6,
            inProcessDetachMs: Double(detached - loaded) / 1e6,
            loadPeakMiB: loadPeak,
            versionPeakMiB: versionPeak,
            libbpfLoadMs: libbpf.map { $0.seconds * 1e3 },
            libbpfPeakMiB: libbpfPeak
        )
    }

    /// The peak resident memory (MiB) of `command` run under GNU time (`%M`); nil without
    /// `/usr/bin/time`. Not our own `wait4`: a child spawned from this process (posix_spawn
    /// shares our memory until exec) inherits our peak in `ru_maxrss`; time's children start small.
    private func peakMemory(_ command: String, _ arguments: [String]) throws -> Double? {
        guard access(Self.gnuTime, X_OK) == 0 else { return nil }
        let output = NSTemporaryDirectory() + "sockmap-bench-peak-\(getpid())"
        defer { unlink(output) }
        _ = try checked(Self.gnuTime, ["-f", "%M", "-o", output, command] + arguments)
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        guard let kib = text.split(separator: "\n").last.flatMap({ Double($0) }) else {
            throw BenchError("\(Self.gnuTime) wrote no peak memory for \(command): \(text)")
        }
        return kib / 1024
    }

    static let gnuTime = "/usr/bin/time"


    /// `bpftool prog loadall OBJECT DIR`, then its pins removed (which unloads the programs);
    /// nil when bpftool is not installed.
    private func libbpfLoad() throws -> CommandOutcome? {
        guard let bpftool = Self.bpftool else { return nil }
        defer { Self.removePins(libbpfPinDir) }
        Self.removePins(libbpfPinDir)
        return try checked(bpftool, ["prog", "loadall", object, libbpfPinDir])
    }

    static let bpftool: String? = ["/usr/sbin/bpftool", "/usr/local/sbin/bpftool", "/usr/bin/bpftool"]
        .first { access($0, X_OK) == 0 }

    /// Unlinks the pins in `directory` and the directory itself.
    private static func removePins(_ directory: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            unlink(directory + "/" + name)
        }
        rmdir(directory)
    }

    private func checked(_ command: String, _ arguments: [String]) throws -> CommandOutcome {
        let outcome = try runCommand(command, arguments)
        guard outcome.status == 0 else {
            throw BenchError("\(command) \(arguments.joined(separator: " ")) exited \(outcome.status): \(outcome.stderr)")
        }
        return outcome
    }
}

import Foundation
import SockmapAccelerator

/// The cost of swift-sockmap itself: one `load` + `detach` cycle on a scratch cgroup through the
/// CLI, the start-up cost of the CLI (`--version`) so the two can be told apart, and the same
/// cycle through the library in this process (no start-up at all).
struct LoaderCycle {
    let sockmap: String
    let object: String
    /// An empty cgroup of our own, separate from the accelerated one.
    let cgroup: String
    let pinDir: String

    struct Sample: Codable, Sendable {
        var loadMs: Double
        var detachMs: Double
        var cycleMs: Double
        var versionMs: Double
        /// The same cycle through the library, in this process: the loader's own cost.
        var inProcessLoadMs: Double
        var inProcessDetachMs: Double
        var inProcessCycleMs: Double { inProcessLoadMs + inProcessDetachMs }
    }

    /// One `--version`, one `load`, one `detach`, each timed from spawn to exit.
    func measure() throws -> Sample {
        let version = try checked(["--version"])
        let load = try checked(["load", object, "--cgroup", cgroup, "--pin-dir", pinDir])
        let detach = try checked(["detach", "--pin-dir", pinDir])
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
            inProcessDetachMs: Double(detached - loaded) / 1e6
        )
    }

    private func checked(_ arguments: [String]) throws -> CommandOutcome {
        let outcome = try runCommand(sockmap, arguments)
        guard outcome.status == 0 else {
            throw BenchError("swift-sockmap \(arguments.joined(separator: " ")) exited \(outcome.status): \(outcome.stderr)")
        }
        return outcome
    }
}

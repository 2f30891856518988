import Glibc

/// The cost of swift-sockmap itself: one `load` + `detach` cycle on a scratch cgroup, and the
/// start-up cost of the CLI (`--version`) so the two can be told apart.
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
    }

    /// One `--version`, one `load`, one `detach`, each timed from spawn to exit.
    func measure() throws -> Sample {
        let version = try checked(["--version"])
        let load = try checked(["load", object, "--cgroup", cgroup, "--pin-dir", pinDir])
        let detach = try checked(["detach", "--pin-dir", pinDir])
        return Sample(
            loadMs: load.seconds * 1e3,
            detachMs: detach.seconds * 1e3,
            cycleMs: (load.seconds + detach.seconds) * 1e3,
            versionMs: version.seconds * 1e3
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

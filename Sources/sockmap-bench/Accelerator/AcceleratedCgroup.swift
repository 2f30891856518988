import Glibc
import SystemPackage

/// A cgroup whose sockets sockmap accelerates during the run.
///
/// Either the bench makes it (a fresh `<cgroup2 mount>/sockmap-bench-<pid>`, loaded with
/// `swift-sockmap load` before the rounds, detached and removed at the end or on error), or the
/// caller hands over one that is already accelerated (`--no-load --cgroup PATH`). Reference mode
/// gets a second one the bench makes, `sockmap-bench-<pid>-reference`, with the seed's programs.
struct AcceleratedCgroup: Sendable {
    let path: String
    /// Where swift-sockmap pinned its objects; nil when the bench did not load and was not told.
    let pinDir: String?
    let loadedByBench: Bool

    /// Creates a fresh cgroup `sockmap-bench-<pid><suffix>` and loads `object` on it, pins in
    /// `/sys/fs/bpf/` under the same name; the undo steps go to `Cleanup.shared`.
    static func createAndLoad(sockmap: String, object: String, suffix: String = "") throws -> AcceleratedCgroup {
        let name = "sockmap-bench-\(getpid())\(suffix)"
        let path = "\(try CgroupPlacement.cgroup2Mount())/\(name)"
        let pinDir = "/sys/fs/bpf/\(name)"
        try CgroupPlacement.create(path)
        Cleanup.shared.register("cgroup \(path)") {
            do { try CgroupPlacement.remove(path) } catch { note("warning: \(error)") }
        }
        let load = try runCommand(sockmap, ["load", object, "--cgroup", path, "--pin-dir", pinDir])
        // Register the detach even if load failed halfway: it may have attached something.
        Cleanup.shared.register("detach \(pinDir)") {
            detach(sockmap: sockmap, pinDir: pinDir)
        }
        guard load.status == 0 else {
            throw BenchError("swift-sockmap load exited \(load.status): \(load.stderr)\(load.stdout)")
        }
        note("loaded \(object) on \(path) (pins in \(pinDir)) in \(Int(load.seconds * 1e3)) ms")
        return AcceleratedCgroup(path: path, pinDir: pinDir, loadedByBench: true)
    }

    /// Detaches (best effort, warnings only) and removes a leftover pin directory.
    static func detach(sockmap: String, pinDir: String) {
        do {
            let outcome = try runCommand(sockmap, ["detach", "--pin-dir", pinDir])
            if outcome.status != 0 {
                note("warning: swift-sockmap detach exited \(outcome.status): \(outcome.stderr)")
            }
        } catch {
            note("warning: detach failed: \(error)")
        }
        if rmdir(pinDir) != 0, errno != ENOENT {
            note("warning: could not remove \(pinDir): \(Errno(rawValue: errno))")
        }
    }
}

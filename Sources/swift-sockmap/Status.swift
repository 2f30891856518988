import ArgumentParser
import FoundationEssentials
import Glibc
import SockmapAccelerator

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show what is loaded where (cgroup, program and map ids, entries) and the counters.",
        discussion: "Exits 0 when loaded, 4 when nothing is loaded.")

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Flag(help: "Keep watching the counters (the same as `swift-sockmap stats`).")
    var watch = false

    @OptionGroup var options: InstallationOptions

    func run() throws {
        if watch {
            try Stats.watch(options.accelerator(), interval: 1, count: nil, json: json)
            return
        }
        let report = try CLILog.reporting { try options.accelerator().status() }
        if json {
            print(try JSONOutput.string(report))
        } else {
            print(StatusText.render(report))
        }
        if !report.loaded { throw ExitCode(4) }
    }
}

enum StatusText {
    static func render(_ r: StatusReport) -> String {
        var lines: [String] = []
        if r.loaded {
            lines.append("swift-sockmap: loaded")
        } else if let problem = r.problem {
            lines.append("swift-sockmap: incomplete installation (\(problem)); `swift-sockmap detach` cleans it up")
        } else {
            lines.append("swift-sockmap: not loaded (nothing pinned in \(r.pinDirectory))")
        }
        if let s = r.state {
            let created = s.createdCgroup ? ", created by load" : ""
            lines.append("  cgroup:    \(s.cgroup) (\(r.cgroupProcesses ?? 0) processes\(created))")
            let hash = s.objectSHA256.map { " (sha256 \($0))" } ?? ""
            lines.append("  object:    \(s.object)\(hash), loaded \(LoadState.iso8601(s.loadedAt))")
            lines.append("  pins:      \(r.pinDirectory)")
        }
        for p in r.programs {
            var line = "  program:   \(p.name) (id \(p.id), \(p.type)) on \(p.attachedTo)"
            if p.runCount > 0 { line += ", \(Formatting.fixed(Double(p.runTimeNanoseconds) / Double(p.runCount))) ns/run over \(p.runCount) runs" }
            lines.append(line)
        }
        if let m = r.sockhash {
            lines.append("  sockhash:  \(r.state?.sockhashMap ?? "") id \(m.id), \(m.entries) of \(m.maxEntries) entries")
        }
        if let s = r.state, !s.providesOwnMaps {
            lines.append("  counters:  not provided by this object (it has no counters, config or policy maps of bpf/redir.c);")
            lines.append("             policy, pause/resume and stats need them")
        }
        if let mode = r.policyMode {
            lines.append("  policy:    \(mode)-list; \(r.paused == true ? "paused (everything goes over TCP)" : "redirecting")")
        }
        if let networks = r.localNetworks {
            let listed = networks.isEmpty ? "" : ", " + networks.joined(separator: ", ")
            lines.append("  tokens to: loopback, each socket's own address\(listed)")
        }
        if let c = r.counters {
            lines.append("  counters:  \(c.socketsInserted) sockets inserted, \(c.insertFailed) insert failures (map full)")
            lines.append("             pairing: \(c.tokensOffered) SYNs carried a token, \(c.socketsPaired) accepted sockets paired; \(c.unanswered) unanswered, \(c.noToken) accepted without a token, \(c.tokenRejected) tokens refused, \(c.peerGone) whose peer had left, \(c.noOptionRoom) SYNs without room")
            lines.append("             not inserted: \(c.skippedByPolicy) by policy, \(c.skippedNotLocal) connects toward a destination that cannot be on this host, \(c.skippedEarlyData) with early (TFO) data, \(c.skippedPaused) while paused")
            lines.append("             \(c.messagesRedirected) messages (\(ByteCount.format(c.bytesRedirected))) redirected, \(c.redirectMissed) sends missed and \(c.keptOnTCP) kept on TCP after one")
            lines.append("             backpressure: \(c.backpressureToTCP) detours over TCP (\(ByteCount.format(c.bytesDetoured))), \(c.returnedToFastPath) back on the fast path; \(c.socketsReleased) sockets released from the map")
        }
        for d in r.draining {
            let sockets = d.sockets.map { "\($0) sockets still open" } ?? "its sockets cannot be counted"
            lines.append("  draining:  \(d.directory) (\(sockets))")
        }
        return lines.joined(separator: "\n")
    }
}

enum ByteCount {
    static func format(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes), unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return unit == 0 ? "\(bytes) B" : Formatting.fixed(value, digits: 1) + " " + units[unit]
    }
}

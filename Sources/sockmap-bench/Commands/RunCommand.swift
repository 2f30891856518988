import ArgumentParser
import BPFLoader
import Glibc
import SockmapAccelerator

/// The benchmark itself (the default command).
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the benchmark and print a Markdown report (the default command).",
        discussion: """
        Needs root for accelerated mode: the bench makes its own cgroup under the cgroup2 mount, \
        runs `swift-sockmap load` on it before the rounds and `detach` at the end. With --no-load \
        it uses a cgroup you have accelerated already (--cgroup). Progress goes to stderr.
        """
    )

    @Flag(help: "Fewer rounds, iterations and sizes: well under a minute, all modes and workload kinds.")
    var quick = false

    @Option(help: "Rounds of all modes (default 5, quick 3); the report shows medians over rounds.")
    var rounds: Int?

    @Option(help: "Timed round trips per RTT run (default 20000, quick 2000).")
    var iterations: Int?

    @Option(help: "Seconds per stream and connect run (default 0.5, quick 0.2).")
    var duration: Double?

    @Option(help: "load + detach cycles per round for the loader workload (default 3, quick 1).")
    var loaderCycles: Int?

    @Option(help: "Comma-separated subset of rtt,stream,connect,loader.")
    var workloads: String?

    @Option(help: "Comma-separated subset of plain,accelerated,reference,unix,paused,control,bridge-plain,bridge-accelerated (default plain,accelerated,unix; reference: the seed's two programs (--reference-object) loaded by swift-sockmap on a second cgroup of the bench, even with --no-load; paused: stream only, connections made accelerated, then `pause`, each run against plain TCP connections of the same processes; control: the same harness with plain TCP on both sides, its noise floor).")
    var modes: String?

    @Option(help: "The swift-sockmap binary (default: next to this executable).")
    var sockmap: String?

    @Option(help: "The BPF object to load.")
    var object = "bpf/redir.o"

    @Option(help: "Reference mode's BPF object: the seed document's programs (make -C bpf fixtures).")
    var referenceObject = "Tests/Fixtures/bpf/libbpf_seed_sockmap.o"

    @Flag(help: "Leave kernel.bpf_stats_enabled alone: no sk_msg ns/run in the report (statistics add two clock reads to every BPF program run, in every mode with one; the connect workload runs without them in any case).")
    var noBpfStats = false

    @Flag(help: "Do not load or detach: --cgroup is already accelerated.")
    var noLoad = false

    @Option(help: "With --no-load: the accelerated cgroup v2 directory.")
    var cgroup: String?

    @Option(help: "With --no-load: swift-sockmap's pin directory, to read its counters.")
    var pinDir: String?

    @Option(help: "With --no-load: a pinned counters map, read instead of the pin directory's.")
    var countersMap: String?

    @Option(help: "A socket operation without progress for this many seconds is an error.")
    var idleTimeout: Double = 10

    @Option(help: "Write every result, each round included, as JSON to this file.")
    var json: String?

    @Option(help: "Write a bar chart (relative to plain) as SVG to this file.")
    var svg: String?

    func validate() throws {
        let settings = try makeSettings()
        guard settings.rounds >= 1, settings.rttIterations >= 1, settings.duration > 0, settings.loaderCycles >= 1 else {
            throw ValidationError("--rounds, --iterations, --duration and --loader-cycles must be positive")
        }
        if noLoad, settings.needsAcceleratedCgroup, cgroup == nil {
            throw ValidationError("--no-load needs --cgroup PATH (the already accelerated cgroup)")
        }
        if !noLoad, cgroup != nil || countersMap != nil {
            throw ValidationError("--cgroup and --counters-map go with --no-load")
        }
    }

    func run() throws {
        let settings = try makeSettings()
        let executable = try currentExecutablePath()
        let sockmap = sockmap ?? String(executable[..<(executable.lastIndex(of: "/") ?? executable.startIndex)]) + "/swift-sockmap"
        let sockmapExists = access(sockmap, X_OK) == 0
        let signalSources = Cleanup.shared.installSignalHandlers()
        defer {
            Cleanup.shared.runAll()
            withExtendedLifetime(signalSources) {}
        }
        var results = BenchResults(machine: .current(), settings: settings)

        // Accelerated mode's cgroup, and where its counters can be read.
        var accelerated: AcceleratedCgroup?
        var counterSource: RedirectCounters.Source?
        // Before load: load counts the namespaces' addresses as this host's.
        let bridge = settings.needsBridge ? try BenchBridge.make() : nil
        if settings.needsAcceleratedCgroup {
            if noLoad {
                accelerated = AcceleratedCgroup(path: cgroup!, pinDir: pinDir, loadedByBench: false)
            } else {
                guard sockmapExists else {
                    throw BenchError("no swift-sockmap at \(sockmap): pass --sockmap PATH, or --no-load --cgroup PATH")
                }
                guard access(object, R_OK) == 0 else { throw BenchError("cannot read the BPF object \(object) (make -C bpf)") }
                accelerated = try AcceleratedCgroup.createAndLoad(sockmap: sockmap, object: object)
            }
            if let countersMap {
                counterSource = .pinnedMap(countersMap)
            } else if let pins = accelerated?.pinDir {
                counterSource = .pinDirectory(pins)
            } else {
                results.warnings.append("no way to read the redirect counters (give --pin-dir or --counters-map with --no-load)")
            }
        }

        // Reference mode's cgroup: the bench's own, whatever --no-load says.
        var reference: AcceleratedCgroup?
        if settings.needsReferenceCgroup {
            guard sockmapExists else { throw BenchError("reference mode needs swift-sockmap (\(sockmap) not found): pass --sockmap PATH") }
            guard access(referenceObject, R_OK) == 0 else {
                throw BenchError("cannot read the reference object \(referenceObject) (make -C bpf fixtures; it needs libbpf-dev)")
            }
            reference = try AcceleratedCgroup.createAndLoad(sockmap: sockmap, object: referenceObject, suffix: "-reference")
            results.referenceObject = referenceObject
        }

        // The sk_msg programs' run time per run, and our counters per run.
        var statistics: RunTimeStatistics?
        var probes: [Mode.Installation: InstallationProbe] = [:]
        if accelerated != nil || reference != nil {
            if !noBpfStats {
                do { statistics = try RunTimeStatistics() } catch {
                    results.warnings.append("could not enable kernel.bpf_stats_enabled (BPF_ENABLE_STATS): \(error); no sk_msg ns/run")
                }
            }
            results.bpfStatistics = statistics != nil
            for (installation, pins) in [(Mode.Installation.ours, accelerated?.pinDir), (.reference, reference?.pinDir)] {
                guard let pins else { continue }
                switch InstallationProbe.open(pinDir: pins, readCounters: installation == .ours) {
                case .success(let probe): probes[installation] = probe
                case .failure(let error): results.warnings.append("\(error)")
                }
            }
        }
        defer { withExtendedLifetime(statistics) {} }

        // The loader workload needs the CLI and a scratch cgroup of its own.
        var loader: LoaderCycle?
        if settings.workloads.contains(.loader) {
            results.loader = LoaderResults()
            if sockmapExists, access(object, R_OK) == 0 {
                loader = try makeLoaderCycle(sockmap: sockmap)
            } else {
                let reason = "swift-sockmap (\(sockmap)) or the object (\(object)) not found"
                results.loader?.skipped = reason
                results.warnings.append("loader workload skipped: \(reason)")
            }
        }

        let before = counterSource.flatMap { readCounters($0, into: &results) }
        let runner = PairRunner(
            executable: executable,
            acceleratedCgroup: accelerated?.path,
            pinDir: accelerated?.pinDir,
            referenceCgroup: reference?.path,
            controlCgroup: settings.modes.contains(.control) && settings.workloads.contains(.stream) ? try makeControlCgroup() : nil,
            bridge: bridge,
            settings: settings,
            canPinTwoCPUs: Set(CPUAffinity.allowedCPUs()).isSuperset(of: [0, 1])
        )
        if !runner.canPinTwoCPUs { results.warnings.append("CPUs 0 and 1 are not both available: cross-cpu runs are unpinned") }
        try BenchRun(settings: settings, runner: runner, loader: loader, probes: probes, statistics: statistics).execute(into: &results)

        if let counterSource, let before, let after = readCounters(counterSource, into: &results) {
            let delta = RedirectCounters(after.delta(since: before))
            results.redirectDelta = delta
            if settings.modes.contains(.accelerated), delta.messagesRedirected == 0 {
                results.warnings.append("accelerated runs redirected no messages: accelerated = plain TCP here")
            }
        }

        let report = MarkdownReport(results: results, profile: quick ? "quick" : "normal").render()
        try writeLineToStdout(report)
        if let json { try ResultFiles.writeJSON(results, to: json) }
        if let svg { try ResultFiles.writeText(SVGChart(results: results).render(), to: svg) }
    }

    /// Control mode's cgroup: a fresh one with nothing attached, removed at the end.
    private func makeControlCgroup() throws -> String {
        let path = "\(try CgroupPlacement.cgroup2Mount())/sockmap-bench-\(getpid())-control"
        try CgroupPlacement.create(path)
        Cleanup.shared.register("control cgroup") {
            do { try CgroupPlacement.remove(path) } catch { note("warning: \(error)") }
        }
        return path
    }

    /// A separate cgroup and pin directory, so cycles never touch the accelerated cgroup.
    private func makeLoaderCycle(sockmap: String) throws -> LoaderCycle {
        let name = "sockmap-bench-\(getpid())-loader"
        let path = "\(try CgroupPlacement.cgroup2Mount())/\(name)"
        let pins = "/sys/fs/bpf/\(name)"
        try CgroupPlacement.create(path)
        Cleanup.shared.register("loader cgroup") {
            // A cycle interrupted between load and detach leaves pins behind: detach them too.
            if access(pins, F_OK) == 0 { AcceleratedCgroup.detach(sockmap: sockmap, pinDir: pins) }
            do { try CgroupPlacement.remove(path) } catch { note("warning: \(error)") }
        }
        return LoaderCycle(sockmap: sockmap, object: object, cgroup: path, pinDir: pins)
    }

    /// Counters or nil, with the reason among the warnings: a failed read never ends the run.
    private func readCounters(_ source: RedirectCounters.Source, into results: inout BenchResults) -> Counters? {
        do {
            return try RedirectCounters.read(from: source)
        } catch {
            results.warnings.append("could not read the redirect counters: \(error)")
            note("warning: could not read the redirect counters: \(error)")
            return nil
        }
    }

    private func makeSettings() throws -> RunSettings {
        var settings = quick ? RunSettings.quick(rounds: rounds) : RunSettings.normal(rounds: rounds)
        if let iterations {
            settings.rttIterations = iterations
            settings.rttWarmup = max(1, iterations / 20)
        }
        if let duration { settings.duration = duration }
        if let loaderCycles { settings.loaderCycles = loaderCycles }
        if let workloads { settings.workloads = try parseList(workloads, "--workloads") }
        if let modes { settings.modes = try parseList(modes, "--modes") }
        settings.idleTimeoutSeconds = idleTimeout
        return settings
    }

    private func parseList<T: CaseIterable & RawRepresentable & Equatable>(_ text: String, _ option: String) throws -> [T] where T.RawValue == String {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: " ") }
        let values = try items.map { item in
            guard let value = T(rawValue: item) else {
                throw ValidationError("\(option): unknown '\(item)' (one of \(T.allCases.map(\.rawValue).joined(separator: ",")))")
            }
            return value
        }
        // Keep the canonical order (plain, accelerated, unix) whatever order was typed.
        let chosen = T.allCases.filter { values.contains($0) }
        guard !chosen.isEmpty else { throw ValidationError("\(option) is empty") }
        return chosen
    }
}

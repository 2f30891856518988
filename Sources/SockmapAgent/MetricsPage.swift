import Prometheus
import SockmapAccelerator

/// Renders a ``MetricsSnapshot`` in the Prometheus text format (0.0.4) through swift-prometheus.
///
/// swift-prometheus's metrics are meant to be pushed to as events happen (a counter only goes
/// up by increments), while these values live in the kernel and are read when scraped. So each
/// scrape builds a fresh registry, sets every metric to the value just read (a new counter
/// incremented by the total), and emits it: the library writes the names, HELP and TYPE lines,
/// labels and their escaping; no state survives the scrape.
package enum MetricsPage {
    /// The HTTP content type of the page.
    package static let contentType = "text/plain; version=0.0.4; charset=utf-8"
    /// Every metric name starts with it and an underscore.
    package static let namespace = "swift_sockmap"

    /// The page for `snapshot`.
    package static func render(_ snapshot: MetricsSnapshot) -> String {
        let registry = PrometheusCollectorRegistry()
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: namespace, metricName: metric, unitName: unit, helpText: help)
        }
        func counter(_ metric: String, _ help: String, _ value: UInt64, labels: [(String, String)] = []) {
            registry.makeCounter(descriptor: name(metric, "total", help), labels: labels).increment(by: Int64(clamping: value))
        }
        func gauge(_ metric: String, _ help: String, _ value: Double, labels: [(String, String)] = []) {
            registry.makeGauge(descriptor: name(metric, "", help), labels: labels).set(value)
        }

        gauge("loaded", "1 when a complete installation is in place (programs attached, pins present).", snapshot.loaded ? 1 : 0)
        gauge("ready", "1 when /readyz answers ready.", snapshot.ready ? 1 : 0)
        var info = [("version", snapshot.version), ("kernel_release", snapshot.kernelRelease)]
        if let object = snapshot.object { info.append(("object", object)) }
        if let hash = snapshot.objectSHA256 { info.append(("object_sha256", hash)) }
        if let cgroup = snapshot.cgroup { info.append(("cgroup", cgroup)) }
        if let mode = snapshot.policyMode { info.append(("policy_mode", mode)) }
        gauge("info", "The agent's version, the kernel release and the loaded object (always 1).", 1, labels: info)

        // Every counter the data path has, by its slot: a new slot shows up here by itself.
        if let counters = snapshot.counters {
            for slot in Counters.Slot.allCases {
                counter(slot.snakeCaseName, slot.help, counters[slot])
            }
        }
        if let entries = snapshot.sockhashEntries {
            gauge("sockhash_entries", "Sockets in the SOCKHASH now (two per accelerated connection).", Double(entries))
        }
        if let capacity = snapshot.sockhashCapacity {
            gauge("sockhash_capacity", "Capacity of the SOCKHASH (max_entries); sockets beyond it stay on plain TCP.", Double(capacity))
        }
        if let processes = snapshot.cgroupProcesses {
            gauge("cgroup_processes", "Processes in the accelerated cgroup (not its children).", Double(processes))
        }
        if let paused = snapshot.paused {
            gauge("paused", "1 while redirection is paused (every send goes over TCP).", paused ? 1 : 0)
        }
        gauge("draining_maps", "Maps a detach kept because sockets in them were still open.", Double(snapshot.drainingMaps))
        gauge("draining_sockets", "Sockets still open in the maps kept by detaches.", Double(snapshot.drainingSockets))
        gauge("bpf_stats_enabled", "1 when kernel.bpf_stats_enabled is on: only then are program runs counted.",
              snapshot.bpfStatsEnabled ? 1 : 0)
        if snapshot.bpfStatsEnabled {
            for program in snapshot.programs {
                let labels = [("program", program.name), ("type", program.type)]
                counter("program_runs", "Times the program ran while kernel.bpf_stats_enabled was on.",
                        program.runCount, labels: labels)
                registry.makeCounter(descriptor: name("program_run_seconds", "total",
                                                      "Time the program ran while kernel.bpf_stats_enabled was on, in seconds."),
                                     labels: labels)
                    .increment(by: Double(program.runTimeNanoseconds) / 1e9)
            }
        }
        counter("agent_reloads", "Reloads (SIGHUP: load --replace) the agent ran, by result.",
                UInt64(snapshot.reloadsSucceeded), labels: [("result", "ok")])
        counter("agent_reloads", "Reloads (SIGHUP: load --replace) the agent ran, by result.",
                UInt64(snapshot.reloadsFailed), labels: [("result", "failed")])
        return sortedByFamily(registry.emitToString())
    }

    /// The registry emits families in hash order; a page sorted by name reads (and diffs) better.
    /// Every family starts with its `# HELP` line (each metric here has help text).
    static func sortedByFamily(_ text: String) -> String {
        var families: [[Substring]] = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# HELP ") || families.isEmpty { families.append([]) }
            families[families.count - 1].append(line)
        }
        let sorted = families.sorted { ($0.first ?? "") < ($1.first ?? "") }
        return sorted.map { $0.joined(separator: "\n") + "\n" }.joined()
    }
}

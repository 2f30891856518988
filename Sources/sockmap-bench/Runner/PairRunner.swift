import Glibc
import SockmapAccelerator

/// Runs one measurement: a server child and a client child of this same executable (the hidden
/// `_server`/`_client` commands), placed per mode, each bounded by a deadline.
struct PairRunner {
    let executable: String
    let acceleratedCgroup: String?
    /// The accelerated cgroup's pins, for paused mode (its client pauses redirection after connecting).
    let pinDir: String?
    /// Reference mode's cgroup: the seed's programs attached to it.
    var referenceCgroup: String? = nil
    /// Control mode's cgroup: nothing attached to it.
    var controlCgroup: String? = nil
    /// The bridged namespaces of the cross-namespace modes.
    var bridge: BenchBridge? = nil
    let settings: RunSettings
    /// False on a one-CPU machine: "cross-cpu" then runs unpinned.
    let canPinTwoCPUs: Bool

    struct Outcome {
        let client: ChildReport
        let server: ChildReport
    }

    func run(_ scenario: Scenario, mode: Mode, sequence: Int) throws -> Outcome {
        let listen: Endpoint = mode == .unix
            ? .unixAbstract(name: "sockmap-bench-\(getpid())-\(sequence)")
            : mode.acrossNamespaces ? .bridgeTCP(address: BenchBridge.serverAddress, port: 0) : .loopbackTCP(port: 0)
        let budget = childBudgetSeconds(for: scenario, mode: mode)
        var common = [
            "--workload", scenario.kind.rawValue, "--size", "\(scenario.size)",
            "--idle-timeout", "\(settings.idleTimeoutSeconds)", "--timeout", "\(Int(budget.rounded(.up)))",
        ] + (scenario.nagle ? ["--nagle"] : [])
        if mode.isAccelerated {
            guard let acceleratedCgroup else { throw BenchError("\(mode.rawValue) mode without an accelerated cgroup") }
            common += ["--cgroup", acceleratedCgroup]
        }
        if mode.isReference {
            guard let referenceCgroup else { throw BenchError("reference mode without its cgroup") }
            common += ["--cgroup", referenceCgroup]
        }
        if mode == .control {
            guard let controlCgroup else { throw BenchError("control mode without its cgroup") }
            common += ["--cgroup", controlCgroup]
        }
        var clientOnly: [String] = [], serverOnly: [String] = []
        if mode.acrossNamespaces {
            guard let bridge else { throw BenchError("\(mode.rawValue) mode without the bridged namespaces") }
            clientOnly = ["--netns", bridge.clientNamespace]
            serverOnly = ["--netns", bridge.serverNamespace]
        }
        if mode == .paused {
            guard let pinDir else { throw BenchError("paused mode needs the accelerated cgroup's pin directory (--pin-dir)") }
            clientOnly = ["--pause-pins", pinDir]
        }
        // The client resumes when it is done; this covers a client that died while paused.
        defer { if mode == .paused, let pinDir { try? Accelerator(pinDirectory: pinDir).setPaused(false) } }
        let pin = scenario.pinning == .sameCPU || canPinTwoCPUs
        let deadline = Deadline(seconds: budget)

        let server = try ChildProcess(
            path: executable,
            arguments: ["_server"] + common + serverOnly + (mode.usesPausedHarness ? ["--reference"] : [])
                + (pin ? ["--cpu", "\(scenario.pinning.serverCPU)"] : []) + ["--listen", "\(listen)"],
            captureStderr: false
        )
        // "READY <endpoint>"; paused and control: "READY <endpoint> <reference endpoint>".
        let ready = try server.readLine(until: deadline)
        let words = ready.map { $0.split(separator: " ").map(String.init) } ?? []
        guard words.first == "READY", words.count == (mode.usesPausedHarness ? 3 : 2),
              let endpoint = Endpoint(argument: words[1])
        else { throw BenchError("server did not report READY (exit \(try server.wait(until: deadline)))") }
        if mode.usesPausedHarness {
            guard let reference = Endpoint(argument: words[2]) else { throw BenchError("server reported no reference endpoint: \(ready!)") }
            clientOnly += ["--reference-connect", "\(reference)"]
        }

        let client = try ChildProcess(
            path: executable,
            arguments: ["_client"] + common + clientOnly + (pin ? ["--cpu", "\(scenario.pinning.clientCPU)"] : []) + [
                "--connect", "\(endpoint)",
                "--iterations", "\(settings.rttIterations)", "--warmup", "\(settings.rttWarmup)",
                "--duration", "\(settings.duration)",
            ],
            captureStderr: false
        )
        let clientReport = try report(from: client, role: "client", until: deadline)
        let serverReport = try report(from: server, role: "server", until: deadline)
        try check(scenario, client: clientReport, server: serverReport)
        return Outcome(client: clientReport, server: serverReport)
    }

    /// The RESULT line, then a clean exit.
    private func report(from child: ChildProcess, role: String, until deadline: Deadline) throws -> ChildReport {
        while let line = try child.readLine(until: deadline) {
            guard line.hasPrefix(ChildReport.linePrefix) else { continue }
            let report = try ChildReport(line: line)
            let status = try child.wait(until: deadline)
            guard status == 0 else { throw BenchError("\(role) exited \(status) after its result") }
            return report
        }
        throw BenchError("\(role) exited \(try child.wait(until: deadline)) without a result")
    }

    /// What the two sides report must agree.
    private func check(_ scenario: Scenario, client: ChildReport, server: ChildReport) throws {
        switch scenario.kind {
        case .rtt:
            let expected = UInt64(settings.rttIterations + settings.rttWarmup)
            guard server.messages == expected else { throw BenchError("server echoed \(server.messages) of \(expected) messages") }
        case .stream:
            // Paused and control modes' client reports the timed part only and checks the server's full count
            // of each connection itself (PausedPair.send).
            guard client.referenceBytes != nil || server.bytes == client.bytes else {
                throw BenchError("sent \(client.bytes) bytes, received \(server.bytes)")
            }
            guard server.patternErrors == 0 else { throw BenchError("\(server.patternErrors) reads did not match the pattern") }
        case .connect:
            guard server.messages == client.messages + 1 else {
                throw BenchError("client made \(client.messages) connections (+1 to stop), server served \(server.messages)")
            }
        case .loader:
            break
        }
    }

    /// Generous wall-clock bound for one measurement; the children get it as their alarm too.
    private func childBudgetSeconds(for scenario: Scenario, mode: Mode) -> Double {
        let work = scenario.kind == .rtt
            ? Double(settings.rttIterations + settings.rttWarmup) * 0.001   // 1 ms per round trip is already pathological
            : settings.duration * (mode.usesPausedHarness ? 2.5 : 1)   // the reference connections write as long again, after a warm-up
        return 3 * settings.idleTimeoutSeconds + work
    }
}

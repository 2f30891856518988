/// How much work each measurement does; `--quick` and the options fill it in.
struct RunSettings: Codable, Sendable {
    var rounds: Int
    var rttSizes: [Int]
    var rttIterations: Int
    var rttWarmup: Int
    var streamSizes: [Int]
    /// Seconds of writing per stream run, and of connecting per connect run.
    var duration: Double
    var loaderCycles: Int
    var workloads: [WorkloadKind]
    var modes: [Mode]
    var pinnings: [Pinning]
    var idleTimeoutSeconds: Double

    static func normal(rounds: Int?) -> RunSettings {
        RunSettings(
            rounds: rounds ?? 5,
            rttSizes: [64, 1024, 16384],
            rttIterations: 20_000,
            rttWarmup: 1_000,
            streamSizes: [64, 1024, 16384, 65536, 1 << 20],
            duration: 0.5,
            loaderCycles: 3,
            workloads: WorkloadKind.allCases,
            modes: [.plain, .accelerated, .unix], // reference, paused, … on request (--modes; tools/bench.sh adds reference)
            pinnings: [.sameCPU, .crossCPU],
            idleTimeoutSeconds: 10
        )
    }

    /// Well under a minute: all modes and workload kinds, fewer sizes, rounds and iterations.
    static func quick(rounds: Int?) -> RunSettings {
        var settings = normal(rounds: rounds ?? 3)
        settings.rttSizes = [64, 16384]
        settings.rttIterations = 2_000
        settings.rttWarmup = 200
        settings.streamSizes = [64, 65536]
        settings.duration = 0.2
        settings.loaderCycles = 1
        return settings
    }

    /// Accelerated mode is selected and some two-process workload will use it.
    var needsAcceleratedCgroup: Bool { modes.contains { $0.isAccelerated } && !scenarios.isEmpty }

    /// Reference mode is selected and some two-process workload will use it.
    var needsReferenceCgroup: Bool { modes.contains(.reference) && !scenarios.isEmpty }

    /// Whether the run needs the bench's bridged namespaces.
    var needsBridge: Bool { modes.contains { $0.acrossNamespaces } && !scenarios.isEmpty }

    /// The two-process scenarios in report order (loader is separate: it has no modes).
    var scenarios: [Scenario] {
        var list: [Scenario] = []
        if workloads.contains(.rtt) {
            for pinning in pinnings {
                for size in rttSizes { list.append(Scenario(kind: .rtt, size: size, pinning: pinning)) }
            }
        }
        if workloads.contains(.stream) {
            for nagle in [false, true] {
                for pinning in pinnings {
                    list += streamSizes.map { Scenario(kind: .stream, size: $0, pinning: pinning, nagle: nagle) }
                }
            }
        }
        if workloads.contains(.connect) {
            list.append(Scenario(kind: .connect, size: ConnectRate.messageSize, pinning: .crossCPU))
        }
        return list
    }
}

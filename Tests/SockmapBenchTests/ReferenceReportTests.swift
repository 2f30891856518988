import SockmapAccelerator
import Testing
@testable import sockmap_bench

/// The report's reference columns and data-path section, from made-up rounds.
@Suite("reference report")
struct ReferenceReportTests {
    static let rtt = Scenario(kind: .rtt, size: 64, pinning: .sameCPU)
    static let stream = Scenario(kind: .stream, size: 16384, pinning: .sameCPU)

    /// Three rounds: RTT p50 ours 10, ref 9.5 (1.05: target missed); stream ours 2000, ref 2000
    /// (1.0: met); sk_msg 300 vs 200 ns/run (1.5: missed) on RTT, 240 vs 200 (1.2: met) on
    /// stream; stream fast path 99%, 50% and 99% of 1 MB, one demotion.
    static func results(modes: [Mode] = [.plain, .accelerated, .reference, .unix]) -> BenchResults {
        var settings = RunSettings.quick(rounds: 3)
        settings.modes = modes
        settings.workloads = [.rtt, .stream]
        var results = BenchResults(machine: MachineInfo(kernel: "6.18", cpuModel: "test CPU", onlineCPUs: 2, date: "2026-12-07"), settings: settings)
        results.bpfStatistics = true
        results.referenceObject = "seed.o"
        for metric in Self.rtt.metrics {
            var series = MetricSeries(scenario: Self.rtt, metric: metric)
            for _ in 0..<3 {
                series.append(20, for: .plain)
                series.append(10, for: .accelerated)
                series.append(9.5, for: .reference)
                series.append(8, for: .unix)
            }
            results.series.append(series)
        }
        var stream = MetricSeries(scenario: Self.stream, metric: .throughput)
        for _ in 0..<3 {
            stream.append(1000, for: .plain)
            stream.append(2000, for: .accelerated)
            stream.append(2000, for: .reference)
            stream.append(3000, for: .unix)
        }
        results.series.append(stream)

        var rttPath = DataPathSeries(scenario: Self.rtt)
        var streamPath = DataPathSeries(scenario: Self.stream)
        for round in 0..<3 {
            rttPath.append(RunReading(programRuns: 100, programNanoseconds: 30_000, counters: Counters()), for: .accelerated)
            rttPath.append(RunReading(programRuns: 100, programNanoseconds: 20_000), for: .reference)
            var counters = Counters()
            counters.bytesRedirected = (round == 1 ? 500_000 : 990_000) + 8
            counters.backpressureToTCP = round == 1 ? 1 : 0
            streamPath.append(RunReading(programRuns: 10, programNanoseconds: 2_400, counters: counters, bytesSent: 1_000_000), for: .accelerated)
            streamPath.append(RunReading(programRuns: 10, programNanoseconds: 2_000, bytesSent: 1_000_000), for: .reference)
        }
        results.dataPath = [rttPath, streamPath]
        return results
    }

    static func rowLine(_ report: String, after heading: String, startingWith prefix: String) -> String? {
        guard let section = report.range(of: heading) else { return nil }
        return report[section.upperBound...].split(separator: "\n").first { $0.hasPrefix(prefix) }.map(String.init)
    }

    @Test func tablesCarryOursOverRefWithTheTargets() throws {
        let report = MarkdownReport(results: Self.results(), profile: "quick").render()
        #expect(report.contains("| accelerated/reference (ours/ref, target ≤ 1.03) |"))
        #expect(report.contains("| accelerated/reference (ours/ref, target ≥ 0.97) |"))
        let p50 = try #require(Self.rowLine(report, after: "## Round-trip latency", startingWith: "| RTT 64 B same-cpu | p50 |"))
        #expect(p50.hasSuffix("| 1.05× (1.05–1.05) |"), "\(p50)")
        #expect(report.contains("target ≤ 1.03 met on 0 of 3 rows (p50 rows: 0 of 1); missed: RTT 64 B same-cpu p50 1.05×"))
        #expect(report.contains("target ≥ 0.97 met on 1 of 1 rows."))
        #expect(report.contains("| reference | `seed.o` loaded by `swift-sockmap load` on a second cgroup of the bench"))
        #expect(report.contains("tracing_on is unknown"))
    }

    @Test func dataPathSectionShowsCostFastPathAndDemotions() throws {
        let report = MarkdownReport(results: Self.results(), profile: "quick").render()
        #expect(report.contains("| workload | accelerated sk_msg ns/run | reference sk_msg ns/run | sk_msg ours/ref (target ≤ 1.3×) | accelerated: stream bytes on the fast path (target ≥ 95%) | accelerated: backpressureToTCP / socketsReleased (all rounds) |"))
        let rtt = try #require(Self.rowLine(report, after: "## The sk_msg program's cost", startingWith: "| RTT 64 B same-cpu |"))
        #expect(rtt == "| RTT 64 B same-cpu | 300 | 200 | 1.50× (1.50–1.50) | – | 0 / 0 in 3 runs |")
        let stream = try #require(Self.rowLine(report, after: "## The sk_msg program's cost", startingWith: "| stream 16 KiB writes same-cpu |"))
        #expect(stream == "| stream 16 KiB writes same-cpu | 240 | 200 | 1.20× (1.20–1.20) | 99.0% (min 50.0%) | 1 / 0 in 3 runs |")
        #expect(report.contains("met on 1 of 2 rows"))
        #expect(report.contains("target ≥ 95% met on 1 of 1 stream rows (median over rounds), 1 of 3 runs below it, lowest run 50.0%."))
        #expect(report.contains("1 detours over TCP by backpressure"))
    }

    @Test func withoutReferenceModeTheReportIsAsBefore() {
        let report = MarkdownReport(results: Self.results(modes: [.plain, .accelerated, .unix]), profile: "quick").render()
        #expect(!report.contains("ours/ref"))
        #expect(!report.contains("reference sk_msg"))
        #expect(report.hasPrefix("# sockmap-bench: plain TCP vs sockmap-accelerated TCP vs Unix sockets"))
    }

    @Test func modeListKeepsReferenceNextToAccelerated() {
        #expect(BenchRun.order([.plain, .accelerated, .reference, .unix], round: 3) == [.reference, .unix, .plain, .accelerated])
        #expect(Mode.reference.installation == .reference)
        #expect(Mode.bridgeAccelerated.installation == .ours)
        #expect(Mode.unix.installation == nil)
        #expect(!Mode.reference.isAccelerated)
    }
}

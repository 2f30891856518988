import Testing
@testable import sockmap_bench

/// How the benchmark turns rounds into ratios and in which order it runs the modes.
@Suite("benchmark statistics")
struct PairedRatioTests {
    @Test func pairsRoundIWithRoundI() throws {
        // Ratio of medians would be 110/100 = 1.1; the per-round ratios are 0.9, 1.0 and 2.0.
        let ratio = try #require(PairedRatio([90, 110, 400], over: [100, 110, 200]))
        #expect(ratio.median == 1.0)
        #expect(ratio.min == 0.9)
        #expect(ratio.max == 2.0)
        #expect(ratio.rounds == 3)
    }

    @Test func leavesOutRoundsWithoutBothValues() throws {
        let ratio = try #require(PairedRatio([50, .nan, 30, 80], over: [100, 100, 0]))
        #expect(ratio.rounds == 1)   // round 2 is NaN, round 3 divides by zero, round 4 has no partner
        #expect(ratio.median == 0.5)
        #expect(PairedRatio([], over: [1]) == nil)
        #expect(PairedRatio([1], over: [0]) == nil)
    }

    @Test func seriesRatioUsesThePairedRounds() throws {
        var series = MetricSeries(scenario: Scenario(kind: .stream, size: 64, pinning: .sameCPU), metric: .throughput)
        for (plain, paused) in [(100.0, 99.0), (120.0, 100.0), (80.0, 96.0)] {
            series.append(plain, for: .plain)
            series.append(paused, for: .paused)
        }
        let ratio = try #require(series.ratio(.paused, over: .plain))
        #expect(ratio.median == 0.99)
        #expect(abs(ratio.min - 100.0 / 120.0) < 1e-12)
        #expect(ratio.max == 1.2)
        #expect(series.ratio(.accelerated, over: .plain) == nil)
    }

    @Test func medianIntervalTakesTheBinomialRanks() throws {
        // n = 100: ranks 50 − 9.8 → 40 and 1 + 50 + 9.8 → 61 (1-based), i.e. values 39 and 60.
        let interval = try #require(Statistics.medianInterval((0..<100).map(Double.init).shuffled()))
        #expect(interval.low == 39)
        #expect(interval.high == 60)
        // n = 6: the ranks clamp to the smallest and the largest value.
        let small = try #require(Statistics.medianInterval([6, 1, 5, 2, 4, 3]))
        #expect(small.low == 1 && small.high == 6)
        #expect(Statistics.medianInterval([1, 2, 3, 4, 5]) == nil)
    }

    @Test func modeOrderRotatesEachRound() {
        let modes: [Mode] = [.plain, .accelerated, .paused]
        #expect(BenchRun.order(modes, round: 1) == [.plain, .accelerated, .paused])
        #expect(BenchRun.order(modes, round: 2) == [.accelerated, .paused, .plain])
        #expect(BenchRun.order(modes, round: 3) == [.paused, .plain, .accelerated])
        #expect(BenchRun.order(modes, round: 4) == modes)
        #expect(BenchRun.order([.plain, .paused], round: 2) == [.paused, .plain])
        #expect(BenchRun.order([], round: 5) == [])
    }
}

@Suite("benchmark report")
struct MarkdownReportTests {
    static func results(_ settings: RunSettings, _ series: [MetricSeries]) -> BenchResults {
        var results = BenchResults(
            machine: MachineInfo(kernel: "test", cpuModel: "test", onlineCPUs: 2, date: "2026-12-03"),
            settings: settings
        )
        results.series = series
        return results
    }

    @Test func pausedColumnShowsTheMedianRatioAndItsRange() {
        var settings = RunSettings.quick(rounds: 3)
        settings.workloads = [.stream]
        settings.modes = [.plain, .paused]
        var series = MetricSeries(scenario: Scenario(kind: .stream, size: 64, pinning: .sameCPU), metric: .throughput)
        for (plain, paused, reference) in [(100.0, 99.0, 100.0), (120.0, 100.0, 98.0), (80.0, 96.0, 100.0)] {
            series.append(plain, for: .plain)
            series.append(paused, for: .paused)
            series.appendReference(reference, for: .paused)
        }
        var results = Self.results(settings, [series])
        results.redirectDelta = RedirectCounters(values: ["socketsReleased": Double(3 * 2 * PausedPair.pairs), "keptOnTCP": 3])
        let report = MarkdownReport(results: results, profile: "quick").render()
        // Separate runs: 0.99, 0.833, 1.2; same processes: 0.99, 1.02, 0.96.
        #expect(report.contains("| stream 64 B writes same-cpu | throughput | 100 | 99.0 | 0.990× (0.833–1.20) | 0.990× (0.960–1.02) |"))
        #expect(report.contains("Target met (same processes, median ≥ 0.97×) on 1 of 1 rows"))
        #expect(report.contains("\(3 * PausedPair.pairs) paused connections, \(6 * PausedPair.pairs) sockets released from the map: every one left the map"))
        #expect(!report.contains("accelerated column is plain TCP"))
    }

    @Test func controlColumnShowsTheNoiseFloor() {
        var settings = RunSettings.quick(rounds: 2)
        settings.workloads = [.stream]
        settings.modes = [.plain, .paused, .control]
        var series = MetricSeries(scenario: Scenario(kind: .stream, size: 64, pinning: .crossCPU), metric: .throughput)
        for (plain, paused, pausedReference, control, controlReference) in [(10.0, 9.0, 10.0, 8.0, 10.0), (10.0, 10.0, 10.0, 11.0, 10.0)] {
            series.append(plain, for: .plain)
            series.append(paused, for: .paused)
            series.appendReference(pausedReference, for: .paused)
            series.append(control, for: .control)
            series.appendReference(controlReference, for: .control)
        }
        let results = Self.results(settings, [series])
        let report = MarkdownReport(results: results, profile: "quick").render()
        #expect(report.contains("| paused/plain, separate runs | paused/plain, same processes (target ≥ 0.97) | control: plain/plain, same processes (noise floor) |"))
        #expect(report.contains("| 0.950× (0.900–1.00) | 0.950× (0.900–1.00) | 0.950× (0.800–1.10) |"))
        #expect(report.contains("Target met (same processes, median ≥ 0.97×) on 0 of 1 rows; all 2 paused rounds together: median 0.950×."))
        #expect(report.contains("Control: 1 of 1 rows below 0.97× by noise alone; all 2 control rounds together: median 0.950×."))
        #expect(report.contains("Unknown: the redirect counters could not be read"))
    }
}

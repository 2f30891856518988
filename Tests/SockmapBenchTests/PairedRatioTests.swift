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
    @Test func pausedColumnShowsTheMedianRatioAndItsRange() {
        var settings = RunSettings.quick(rounds: 3)
        settings.workloads = [.stream]
        settings.modes = [.plain, .paused]
        var series = MetricSeries(scenario: Scenario(kind: .stream, size: 64, pinning: .sameCPU), metric: .throughput)
        for (plain, paused) in [(100.0, 99.0), (120.0, 100.0), (80.0, 96.0)] {
            series.append(plain, for: .plain)
            series.append(paused, for: .paused)
        }
        var results = BenchResults(
            machine: MachineInfo(kernel: "test", cpuModel: "test", onlineCPUs: 2, date: "2026-12-03"),
            settings: settings
        )
        results.series = [series]
        results.redirectDelta = RedirectCounters(values: ["socketsReleased": 6, "keptOnTCP": 3])
        let report = MarkdownReport(results: results, profile: "quick").render()
        #expect(report.contains("| stream 64 B writes same-cpu | throughput | 100 | 99.0 | 0.990× (0.833–1.20) |"))
        #expect(report.contains("paused/plain: 1 of 1 rows ≥ 0.97×"))
        #expect(report.contains("3 paused connections, 6 sockets released from the map: every one left the map"))
        #expect(!report.contains("accelerated column is plain TCP"))
    }
}

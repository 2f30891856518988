/// The measured part: rounds of every scenario × mode, interleaved (plain, accelerated, unix,
/// plain, …) so drift over the run hits all modes alike, the order rotated each round so no mode
/// always runs first or last; the loader cycles at the end of each round.
struct BenchRun {
    let settings: RunSettings
    let runner: PairRunner
    /// nil when the loader workload is not selected or cannot run (`results.loader.skipped` says why).
    let loader: LoaderCycle?
    /// Read around every run of a mode on that installation; none for a missing one.
    var probes: [Mode.Installation: InstallationProbe] = [:]
    /// BPF run-time statistics, off during the connect workload; nil when not on at all.
    var statistics: RunTimeStatistics?

    func execute(into results: inout BenchResults) throws {
        let scenarios = settings.scenarios
        var firstSeries: [Scenario: Int] = [:]
        var dataPathIndex: [Scenario: Int] = [:]
        for scenario in scenarios {
            firstSeries[scenario] = results.series.count
            results.series += scenario.metrics.map { MetricSeries(scenario: scenario, metric: $0) }
            dataPathIndex[scenario] = results.dataPath.count
            results.dataPath.append(DataPathSeries(scenario: scenario))
        }
        var sequence = 0
        for round in 1...settings.rounds {
            for scenario in scenarios {
                var line = "[round \(round)/\(settings.rounds)] \(scenario.label):"
                for mode in Self.order(settings.modes, round: round) where !mode.usesPausedHarness || scenario.kind == .stream {
                    sequence += 1
                    let outcome: PairRunner.Outcome
                    let probe = mode.installation.flatMap { probes[$0] }
                    var fastPath: Double?
                    let before = probe?.snapshot()
                    do {
                        let withoutStatistics = scenario.kind == .connect
                        if withoutStatistics { statistics?.pause() }
                        let run = Result { try runner.run(scenario, mode: mode, sequence: sequence) }
                        if withoutStatistics {
                            do { try statistics?.resume() } catch {
                                throw BenchError("could not turn kernel.bpf_stats_enabled on again after a connect run: \(error)")
                            }
                        }
                        outcome = try run.get()
                    } catch {
                        throw BenchError("\(scenario.label), \(mode.rawValue), round \(round): \(error)")
                    }
                    if let probe, let before {
                        // Paused and control runs report the timed part of their streams only.
                        let sent = scenario.kind == .stream && !mode.usesPausedHarness ? outcome.client.bytes : nil
                        let reading = RunReading(before: before, after: probe.snapshot(), bytesSent: sent)
                        results.dataPath[dataPathIndex[scenario]!].append(reading, for: mode)
                        fastPath = reading.fastPathFraction
                    }
                    let values = Self.metricValues(scenario, outcome.client)
                    for (offset, value) in values.enumerated() {
                        results.series[firstSeries[scenario]! + offset].append(value, for: mode)
                    }
                    if let reference = Self.referenceValue(outcome.client) {
                        results.series[firstSeries[scenario]!].appendReference(reference, for: mode)
                    }
                    line += " \(mode.rawValue) \(formatNumber(values[0])) \(scenario.metrics[0].unit)"
                    if let fastPath { line += " (\(formatNumber(fastPath * 100))% on the fast path)" }
                }
                note(line)
            }
            if let loader {
                for _ in 0..<settings.loaderCycles {
                    let sample = try loader.measure()
                    results.loader?.samples.append(sample)
                    note("[round \(round)/\(settings.rounds)] loader: load+detach \(formatNumber(sample.cycleMs)) ms, --version \(formatNumber(sample.versionMs)) ms")
                }
            }
        }
    }

    /// `modes` rotated left by `round - 1`: round 1 runs them as given, round 2 from the second, ….
    static func order(_ modes: [Mode], round: Int) -> [Mode] {
        guard !modes.isEmpty else { return [] }
        let shift = (round - 1) % modes.count
        return Array(modes[shift...] + modes[..<shift])
    }

    /// The in-run plain TCP reference's throughput (MB/s), when the run had one (paused mode).
    static func referenceValue(_ report: ChildReport) -> Double? {
        guard let bytes = report.referenceBytes, let seconds = report.referenceSeconds, seconds > 0 else { return nil }
        return Double(bytes) / seconds / 1e6
    }

    /// The client's report as the scenario's metrics, in `Scenario.metrics` order.
    static func metricValues(_ scenario: Scenario, _ report: ChildReport) -> [Double] {
        switch scenario.kind {
        case .rtt:
            let latency = report.latencyNanos ?? [:]
            return ["p50", "p99", "p99.9"].map { (latency[$0] ?? .nan) / 1e3 }
        case .stream:
            return [Double(report.bytes) / report.seconds / 1e6]
        case .connect:
            return [Double(report.messages) / report.seconds]
        case .loader:
            return []
        }
    }
}

/// Three significant digits, no exponent: 12.3, 4.56, 1234.
func formatNumber(_ value: Double) -> String {
    guard value.isFinite else { return "–" }
    let magnitude = abs(value)
    let decimals = magnitude >= 100 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3
    var scaled = (value * pow10(decimals)).rounded() / pow10(decimals)
    if scaled == 0 { scaled = 0 }   // no "-0"
    guard decimals > 0 else { return String(Int(scaled)) }
    let whole = Int(scaled.magnitude)
    let fraction = Int(((scaled.magnitude - Double(whole)) * pow10(decimals)).rounded())
    let fractionText = String(fraction)
    let padded = String(repeating: "0", count: max(0, decimals - fractionText.count)) + fractionText
    return (scaled < 0 ? "-" : "") + "\(whole).\(padded)"
}

private func pow10(_ exponent: Int) -> Double {
    (0..<exponent).reduce(1.0) { value, _ in value * 10 }
}

/// One metric of one scenario: every round's value per mode, and the medians the report shows.
struct MetricSeries: Codable, Sendable {
    let scenario: Scenario
    let label: String
    let metric: Metric
    /// Mode raw value → one value per round, in round order.
    var rounds: [String: [Double]] = [:]
    var medians: [String: Double] = [:]
    /// Mode raw value → per round, the plain TCP reference measured inside that mode's own run
    /// (paused mode's `PausedPair`), when the mode has one.
    var references: [String: [Double]] = [:]

    init(scenario: Scenario, metric: Metric) {
        self.scenario = scenario
        self.label = scenario.label
        self.metric = metric
    }

    mutating func append(_ value: Double, for mode: Mode) {
        rounds[mode.rawValue, default: []].append(value)
        medians[mode.rawValue] = Statistics.median(rounds[mode.rawValue]!)
    }

    /// Records round n's in-run plain TCP reference of `mode`; call once per round, after `append`.
    mutating func appendReference(_ value: Double, for mode: Mode) {
        references[mode.rawValue, default: []].append(value)
    }

    func median(for mode: Mode) -> Double? { medians[mode.rawValue] }

    /// `mode` over the plain TCP reference measured in the same runs (same processes, writes
    /// interleaved), round by round; nil for a mode without a reference.
    func ratioToReference(_ mode: Mode) -> PairedRatio? {
        guard let references = references[mode.rawValue] else { return nil }
        return PairedRatio(rounds[mode.rawValue] ?? [], over: references)
    }

    /// The ratio `numerator`/`denominator` as the median of per-round ratios (round i's value of
    /// one mode over round i's of the other: the two ran next to each other, so drift over the run
    /// cancels), with the smallest and largest of them; nil when no round has both.
    func ratio(_ numerator: Mode, over denominator: Mode) -> PairedRatio? {
        PairedRatio(rounds[numerator.rawValue] ?? [], over: rounds[denominator.rawValue] ?? [])
    }
}

/// The per-round ratios of two modes of one scenario, summarised.
struct PairedRatio: Equatable, Sendable {
    /// Median of the per-round ratios.
    let median: Double
    let min: Double
    let max: Double
    /// Rounds that had a finite value for both modes.
    var rounds: Int { values.count }
    /// Every round's ratio, in round order.
    let values: [Double]

    /// Pairs round i of `top` with round i of `bottom`; rounds missing on either side or with a
    /// zero or non-finite denominator are left out.
    init?(_ top: [Double], over bottom: [Double]) {
        let ratios = zip(top, bottom).compactMap { top, bottom -> Double? in
            guard top.isFinite, bottom.isFinite, bottom > 0 else { return nil }
            return top / bottom
        }
        guard !ratios.isEmpty else { return nil }
        median = Statistics.median(ratios)
        min = ratios.min()!
        max = ratios.max()!
        values = ratios
    }
}

/// The loader workload: every cycle of every round.
struct LoaderResults: Codable, Sendable {
    var samples: [LoaderCycle.Sample] = []
    var skipped: String?

    func median(_ field: KeyPath<LoaderCycle.Sample, Double>) -> Double? {
        samples.isEmpty ? nil : Statistics.median(samples.map { $0[keyPath: field] })
    }

    /// The median of a measure only some samples have (nil when none has it).
    func median(_ field: KeyPath<LoaderCycle.Sample, Double?>) -> Double? {
        let values = samples.compactMap { $0[keyPath: field] }
        return values.isEmpty ? nil : Statistics.median(values)
    }
}

/// Everything a run produced; `--json` writes this.
struct BenchResults: Codable, Sendable {
    var machine: MachineInfo
    var settings: RunSettings
    var series: [MetricSeries] = []
    var loader: LoaderResults?
    /// Counter increase over the accelerated runs (nil when they could not be read).
    var redirectDelta: RedirectCounters?
    /// Per scenario, the run readings of the modes with a BPF installation (sk_msg run time,
    /// our counters), in scenario order.
    var dataPath: [DataPathSeries] = []
    /// Whether `kernel.bpf_stats_enabled` was on for the run (sk_msg ns/run measured).
    var bpfStatistics = false
    /// Reference mode's BPF object, when the run had that mode.
    var referenceObject: String?
    var warnings: [String] = []
}

enum Statistics {
    /// The median (mean of the middle two for an even count); NaN for no values.
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// A 95% confidence interval for the median that assumes nothing about the distribution: the
    /// values at ranks n/2 − 0.98·√n and 1 + n/2 + 0.98·√n (the binomial's normal approximation);
    /// nil for fewer than 6 values.
    static func medianInterval(_ values: [Double]) -> (low: Double, high: Double)? {
        guard values.count >= 6 else { return nil }
        let sorted = values.sorted()
        let count = Double(sorted.count)
        let half = 0.98 * count.squareRoot()
        let lowRank = max(1, Int((count / 2 - half).rounded(.down)))
        let highRank = min(sorted.count, Int((1 + count / 2 + half).rounded(.up)))
        return (sorted[lowRank - 1], sorted[highRank - 1])
    }
}

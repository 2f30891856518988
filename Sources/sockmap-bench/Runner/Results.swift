/// One metric of one scenario: every round's value per mode, and the medians the report shows.
struct MetricSeries: Codable, Sendable {
    let scenario: Scenario
    let label: String
    let metric: Metric
    /// Mode raw value → one value per round, in round order.
    var rounds: [String: [Double]] = [:]
    var medians: [String: Double] = [:]

    init(scenario: Scenario, metric: Metric) {
        self.scenario = scenario
        self.label = scenario.label
        self.metric = metric
    }

    mutating func append(_ value: Double, for mode: Mode) {
        rounds[mode.rawValue, default: []].append(value)
        medians[mode.rawValue] = Statistics.median(rounds[mode.rawValue]!)
    }

    func median(for mode: Mode) -> Double? { medians[mode.rawValue] }

    /// `numerator`/`denominator` of the medians, when both exist.
    func ratio(_ numerator: Mode, over denominator: Mode) -> Double? {
        guard let top = median(for: numerator), let bottom = median(for: denominator), bottom > 0 else { return nil }
        return top / bottom
    }
}

/// The loader workload: every cycle of every round.
struct LoaderResults: Codable, Sendable {
    var samples: [LoaderCycle.Sample] = []
    var skipped: String?

    func median(_ field: KeyPath<LoaderCycle.Sample, Double>) -> Double? {
        samples.isEmpty ? nil : Statistics.median(samples.map { $0[keyPath: field] })
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
}

import SockmapAccelerator

/// One run of a mode with a BPF installation (accelerated, reference, bridge-accelerated,
/// paused): what its sk_msg program and our counters did during that run alone.
struct RunReading: Codable, Sendable, Equatable {
    /// Runs of the sk_msg program (`run_cnt` delta); nil when it could not be read.
    var programRuns: UInt64?
    /// Their summed run time (`run_time_ns` delta).
    var programNanoseconds: UInt64?
    /// Our counters' increase; nil for the seed's object (it has none) or when unreadable.
    var counters: Counters?
    /// Stream rows: the bytes the client wrote (what the server counted and checked).
    var bytesSent: UInt64?

    init(programRuns: UInt64? = nil, programNanoseconds: UInt64? = nil, counters: Counters? = nil, bytesSent: UInt64? = nil) {
        self.programRuns = programRuns
        self.programNanoseconds = programNanoseconds
        self.counters = counters
        self.bytesSent = bytesSent
    }

    /// The difference of two snapshots of one installation, taken around one run.
    init(before: InstallationProbe.Snapshot, after: InstallationProbe.Snapshot, bytesSent: UInt64?) {
        if let runs = after.runCount, let earlier = before.runCount, runs >= earlier {
            programRuns = runs - earlier
        }
        if let nanos = after.runTimeNanoseconds, let earlier = before.runTimeNanoseconds, nanos >= earlier {
            programNanoseconds = nanos - earlier
        }
        if let counters = after.counters, let earlier = before.counters {
            self.counters = counters.delta(since: earlier)
        }
        self.bytesSent = bytesSent
    }

    /// Mean cost of one sk_msg run in this run; nil without runs (statistics off, or nothing sent).
    var nanosecondsPerRun: Double? {
        guard let runs = programRuns, runs > 0, let nanos = programNanoseconds else { return nil }
        return Double(nanos) / Double(runs)
    }

    /// Stream rows of our installation: the share of the written bytes that was redirected
    /// (`bytesRedirected` over `bytesSent`), 0…1. The receiver's answer (its byte count, one
    /// `UInt64` sent back on the same connection once the stream ends) is redirected too on a
    /// connection that stayed on the fast path, so it is taken off first.
    var fastPathFraction: Double? {
        guard let counters, let sent = bytesSent, sent > 0 else { return nil }
        let answer = UInt64(MemoryLayout<UInt64>.size)
        let redirected = counters.bytesRedirected > answer ? counters.bytesRedirected - answer : 0
        return Double(redirected) / Double(sent)
    }
}

/// Every run reading of one scenario, per mode in round order.
struct DataPathSeries: Codable, Sendable {
    let scenario: Scenario
    let label: String
    /// Mode raw value → one reading per round, in round order.
    var readings: [String: [RunReading]] = [:]

    init(scenario: Scenario) {
        self.scenario = scenario
        self.label = scenario.label
    }

    mutating func append(_ reading: RunReading, for mode: Mode) {
        readings[mode.rawValue, default: []].append(reading)
    }

    /// Round i's ns/run, NaN where unknown, so that rounds stay aligned for `PairedRatio`.
    func nanosecondsPerRun(_ mode: Mode) -> [Double] {
        (readings[mode.rawValue] ?? []).map { $0.nanosecondsPerRun ?? .nan }
    }

    /// Median ns/run over the rounds that have one.
    func medianNanosecondsPerRun(_ mode: Mode) -> Double? {
        let values = nanosecondsPerRun(mode).filter(\.isFinite)
        return values.isEmpty ? nil : Statistics.median(values)
    }

    /// Round i's ns/run of `numerator` over round i's of `denominator`, summarised.
    func costRatio(_ numerator: Mode, over denominator: Mode) -> PairedRatio? {
        PairedRatio(nanosecondsPerRun(numerator), over: nanosecondsPerRun(denominator))
    }

    /// Stream rows: per round, the fraction of written bytes on the fast path.
    func fastPathFractions(_ mode: Mode) -> [Double] {
        (readings[mode.rawValue] ?? []).compactMap(\.fastPathFraction)
    }

    /// How many detours over TCP backpressure made, and how many sockets were released from
    /// the map, over all of `mode`'s runs of this row; nil when no run had counters.
    func leftFastPath(_ mode: Mode) -> (backpressureToTCP: UInt64, socketsReleased: UInt64, runs: Int)? {
        let counted = (readings[mode.rawValue] ?? []).compactMap(\.counters)
        guard !counted.isEmpty else { return nil }
        return (counted.reduce(0) { $0 + $1.backpressureToTCP }, counted.reduce(0) { $0 + $1.socketsReleased }, counted.count)
    }

    /// All runs of `mode` in `series` together: total run time over total runs, and the run count.
    static func pooledNanosecondsPerRun(_ series: [DataPathSeries], _ mode: Mode) -> (nanosecondsPerRun: Double, runs: UInt64)? {
        let readings = series.flatMap { $0.readings[mode.rawValue] ?? [] }
            .filter { ($0.programRuns ?? 0) > 0 && $0.programNanoseconds != nil }
        let runs = readings.reduce(UInt64(0)) { $0 + $1.programRuns! }
        guard runs > 0 else { return nil }
        let nanos = readings.reduce(UInt64(0)) { $0 + $1.programNanoseconds! }
        return (Double(nanos) / Double(runs), runs)
    }
}

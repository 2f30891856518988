/// The report's data-path section: per row, the sk_msg program's cost per run in each mode with
/// a BPF installation and ours over the seed's, and for our installation the stream bytes that
/// stayed on the fast path and the connections that left it.
struct DataPathSection {
    let results: BenchResults

    /// The targets: sk_msg cost at most 1.3× the seed's; at least 95% of a stream's bytes
    /// on the fast path.
    static let costTarget = 1.3
    static let fastPathTarget = 0.95

    private var modes: [Mode] { results.settings.modes }
    /// Modes whose sk_msg cost is shown, in column order.
    private var costModes: [Mode] { [Mode.accelerated, .reference, .bridgeAccelerated].filter(modes.contains) }
    /// Modes on our installation whose fast path is shown.
    private var oursModes: [Mode] { [Mode.accelerated, .bridgeAccelerated].filter(modes.contains) }
    private var comparesCost: Bool { modes.contains(.accelerated) && modes.contains(.reference) }

    func render() -> String {
        let rows = results.dataPath.filter { row in (costModes).contains { row.readings[$0.rawValue] != nil } }
        guard !rows.isEmpty else { return "" }
        var columns = ["workload"]
        columns += costModes.map { "\($0.rawValue) sk_msg ns/run" }
        if comparesCost { columns.append("sk_msg ours/ref (target ≤ \(String(Self.costTarget))×)") }
        for mode in oursModes {
            columns.append("\(mode.rawValue): stream bytes on the fast path (target ≥ \(Int(Self.fastPathTarget * 100))%)")
            columns.append("\(mode.rawValue): backpressureToTCP / socketsReleased (all rounds)")
        }
        var out = "## The sk_msg program's cost and the fast path\n\n| " + columns.joined(separator: " | ") + " |\n"
        out += "|---|" + String(repeating: "--:|", count: columns.count - 1) + "\n"
        for row in rows {
            var cells = [row.label]
            cells += costModes.map { row.medianNanosecondsPerRun($0).map(formatNumber) ?? "–" }
            if comparesCost { cells.append(row.costRatio(.accelerated, over: .reference).map(Self.withRange) ?? "–") }
            for mode in oursModes {
                cells.append(Self.fastPathCell(row.fastPathFractions(mode)))
                cells.append(row.leftFastPath(mode).map { "\($0.backpressureToTCP) / \($0.socketsReleased) in \($0.runs) runs" } ?? "–")
            }
            out += "| " + cells.joined(separator: " | ") + " |\n"
        }
        return out + "\n" + summary(rows) + "\n"
    }

    /// Median over rounds, with the lowest round: "99.9% (min 97.1%)".
    static func fastPathCell(_ fractions: [Double]) -> String {
        guard !fractions.isEmpty else { return "–" }
        let median = percent(Statistics.median(fractions))
        return fractions.count == 1 ? median : "\(median) (min \(percent(fractions.min()!)))"
    }

    static func percent(_ fraction: Double) -> String { "\(formatNumber(fraction * 100))%" }

    static func withRange(_ ratio: PairedRatio) -> String {
        "\(formatNumber(ratio.median))× (\(formatNumber(ratio.min))–\(formatNumber(ratio.max)))"
    }

    /// What the columns mean, and the targets over all rows.
    private func summary(_ rows: [DataPathSeries]) -> String {
        var out = results.bpfStatistics
            ? "sk_msg ns/run: the verdict program's `run_time_ns` over `run_cnt` (BPF_OBJ_GET_INFO_BY_FD) across each run alone, the median over rounds."
            : "sk_msg ns/run: the bench did not turn kernel.bpf_stats_enabled on (--no-bpf-stats, or see the warnings); any figure above comes from another process having it on."
        if comparesCost, results.bpfStatistics {
            out += " The sk_msg ratio ours/ref pairs round i of accelerated with round i of reference (the reference object's verdict program, whatever it calls: the seed's calls `bpf_printk` on every send); in brackets the lowest and highest round."
        }
        for mode in costModes {
            if let pooled = DataPathSeries.pooledNanosecondsPerRun(rows, mode) {
                out += " All \(mode.rawValue) runs together: \(formatNumber(pooled.nanosecondsPerRun)) ns/run over \(pooled.runs) runs."
            }
        }
        if comparesCost {
            let ratios = rows.compactMap { $0.costRatio(.accelerated, over: .reference) }
            if !ratios.isEmpty {
                let met = ratios.filter { $0.median <= Self.costTarget }.count
                out += " sk_msg cost target (ours ≤ \(String(Self.costTarget))× the seed's) met on \(met) of \(ratios.count) rows"
                if let ours = DataPathSeries.pooledNanosecondsPerRun(rows, .accelerated),
                   let seed = DataPathSeries.pooledNanosecondsPerRun(rows, .reference) {
                    out += "; all runs together \(formatNumber(ours.nanosecondsPerRun / seed.nanosecondsPerRun))×"
                }
                out += "."
            }
        }
        for mode in oursModes {
            let streams = rows.filter { $0.scenario.kind == .stream }.map { $0.fastPathFractions(mode) }.filter { !$0.isEmpty }
            guard !streams.isEmpty else { continue }
            let met = streams.filter { Statistics.median($0) >= Self.fastPathTarget }.count
            let runs = streams.flatMap { $0 }
            let below = runs.filter { $0 < Self.fastPathTarget }.count
            out += "\n\nFast path (\(mode.rawValue)): `bytesRedirected` over each stream run (less the receiver's 8-byte answer) against the bytes the client wrote; target ≥ \(Int(Self.fastPathTarget * 100))% met on \(met) of \(streams.count) stream rows (median over rounds), \(below) of \(runs.count) runs below it, lowest run \(Self.percent(runs.min()!))."
        }
        for mode in oursModes {
            let counted = rows.compactMap { $0.leftFastPath(mode) }
            guard !counted.isEmpty else { continue }
            let demoted = counted.reduce(UInt64(0)) { $0 + $1.backpressureToTCP }
            let released = counted.reduce(UInt64(0)) { $0 + $1.socketsReleased }
            let runs = counted.reduce(0) { $0 + $1.runs }
            out += "\n\nLeft the fast path (\(mode.rawValue), our counters per run): \(demoted) detours over TCP by backpressure (`backpressureToTCP`) and \(released) sockets released from the map (`socketsReleased`) over \(runs) runs."
        }
        return out + "\n"
    }
}

/// A hand-written SVG bar chart: one group of horizontal bars per workload row, one bar per mode,
/// every bar relative to plain TCP = 1.0 and oriented so that longer always means better
/// (latency is drawn as plain ÷ mode, throughput and rates as mode ÷ plain).
struct SVGChart {
    let results: BenchResults

    /// One colour per mode (an exhaustive switch: a new mode cannot be left without one).
    static func colour(_ mode: Mode) -> String {
        switch mode {
        case .plain: "#8c8c8c"
        case .accelerated: "#1f77b4"
        case .reference: "#d62728"
        case .unix: "#2ca02c"
        case .paused: "#ff7f0e"
        case .control: "#bcbd22"
        case .bridgePlain: "#c5b0d5"
        case .bridgeAccelerated: "#9467bd"
        }
    }
    private let labelWidth = 330.0
    private let plotWidth = 520.0
    private let barHeight = 11.0
    private let groupGap = 10.0
    private let top = 70.0

    func render() -> String {
        // p99.9 stays in the table: three percentiles per size would crowd the picture.
        let rows = results.series.filter { $0.metric != .p999 }
        let modes = results.settings.modes
        let groupHeight = Double(modes.count) * barHeight + groupGap
        let relative = rows.map { row in modes.map { speedUp(row, $0) } }
        let largest = max(1.5, relative.joined().compactMap { $0 }.max() ?? 1)
        let scaleMax = (largest * 2).rounded(.up) / 2   // next multiple of 0.5
        let width = labelWidth + plotWidth + 80
        let height = top + Double(rows.count) * groupHeight + 40
        let x = { (value: Double) in labelWidth + value / scaleMax * plotWidth }

        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>
        <text x="10" y="20" font-size="15" font-weight="bold">sockmap-bench: relative to plain loopback TCP (= 1.0), longer is better</text>
        <text x="10" y="38" fill="#555">latency rows: plain ÷ mode; throughput and connection rows: mode ÷ plain. \(escape(results.machine.kernel)), \(escape(results.machine.cpuModel)), \(results.machine.date)</text>

        """
        for (index, mode) in modes.enumerated() {
            let legendX = labelWidth + Double(index) * 110
            svg += "<rect x=\"\(legendX)\" y=\"48\" width=\"12\" height=\"12\" fill=\"\(Self.colour(mode))\"/>"
            svg += "<text x=\"\(legendX + 16)\" y=\"58\">\(mode.rawValue)</text>\n"
        }
        var tick = 0.0
        while tick <= scaleMax + 1e-9 {
            svg += "<line x1=\"\(x(tick))\" y1=\"\(top - 4)\" x2=\"\(x(tick))\" y2=\"\(height - 30)\" stroke=\"\(tick == 1 ? "#000" : "#ddd")\"\(tick == 1 ? " stroke-dasharray=\"4 3\"" : "")/>"
            let tickLabel = tick == tick.rounded() ? "\(Int(tick))" : formatNumber(tick).trimmingTrailingZeros
            svg += "<text x=\"\(x(tick))\" y=\"\(height - 16)\" text-anchor=\"middle\">\(tickLabel)×</text>\n"
            tick += 0.5
        }
        for (rowIndex, row) in rows.enumerated() {
            let groupTop = top + Double(rowIndex) * groupHeight
            let plain = row.median(for: .plain).map { " (plain \(formatNumber($0)) \(row.metric.unit))" } ?? ""
            let label = row.label + (row.scenario.kind == .rtt ? " \(row.metric.name)" : "") + plain
            svg += "<text x=\"\(labelWidth - 8)\" y=\"\(groupTop + Double(modes.count) * barHeight / 2 + 4)\" text-anchor=\"end\">\(escape(label))</text>\n"
            for (modeIndex, mode) in modes.enumerated() {
                let barTop = groupTop + Double(modeIndex) * barHeight
                guard let value = relative[rowIndex][modeIndex] else { continue }
                let absolute = row.median(for: mode).map { "\(formatNumber($0)) \(row.metric.unit)" } ?? ""
                svg += "<rect x=\"\(labelWidth)\" y=\"\(barTop)\" width=\"\(max(1, x(value) - labelWidth))\" height=\"\(barHeight - 1)\" fill=\"\(Self.colour(mode))\">"
                svg += "<title>\(mode.rawValue): \(escape(absolute))</title></rect>"
                svg += "<text x=\"\(x(value) + 4)\" y=\"\(barTop + barHeight - 2)\" font-size=\"9\">\(formatNumber(value))×</text>\n"
            }
        }
        return svg + "</svg>\n"
    }

    /// Relative performance against plain, larger = better; nil without both medians.
    private func speedUp(_ row: MetricSeries, _ mode: Mode) -> Double? {
        guard let ratio = row.ratio(mode, over: .plain)?.median, ratio > 0, ratio.isFinite else { return nil }
        return row.metric.higherIsBetter ? ratio : 1 / ratio
    }

    private func escape(_ text: String) -> String {
        text.replacing("&", with: "&amp;").replacing("<", with: "&lt;").replacing(">", with: "&gt;")
    }
}

private extension String {
    /// "0.500" → "0.5".
    var trimmingTrailingZeros: String {
        guard contains(".") else { return self }
        var text = Substring(self)
        while text.hasSuffix("0") { text = text.dropLast() }
        if text.hasSuffix(".") { text = text.dropLast() }
        return String(text)
    }
}

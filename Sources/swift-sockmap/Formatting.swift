/// Numbers as the status and stats lines print them, as `%.Nf` would (ties to even), without
/// Foundation's `String(format:)`: the CLI links FoundationEssentials alone (no ICU).
enum Formatting {
    /// `value` with `digits` digits after the point (`fixed(1.25, digits: 1)` is `1.2`).
    static func fixed(_ value: Double, digits: Int = 0) -> String {
        var scale: UInt64 = 1
        for _ in 0..<digits { scale *= 10 }
        let scaled = value * Double(scale)
        guard scaled.isFinite, abs(scaled) < 9e18 else { return "\(value)" }
        let rounded = Int64(scaled.rounded(.toNearestOrEven))
        let sign = rounded < 0 ? "-" : "", magnitude = rounded.magnitude
        guard digits > 0 else { return sign + String(magnitude) }
        let fraction = String(magnitude % scale)
        return sign + String(magnitude / scale) + "." + String(repeating: "0", count: digits - fraction.count) + fraction
    }

    /// `text` padded with spaces on the right to `width` characters (unchanged when longer).
    static func padded(_ text: String, to width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }
}

import ArgumentParser
import FoundationEssentials
import Glibc
import SockmapAccelerator

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Watch the counters live: redirected messages and bytes per second, misses, insert failures, entries.",
        discussion: "One line per interval until interrupted (or --count lines). `status --watch` is the same.")

    @Option(help: "Seconds between lines.")
    var interval: Double = 1

    @Option(help: "Stop after this many lines.")
    var count: Int?

    @Flag(help: "Print one JSON object per line.")
    var json = false

    @OptionGroup var options: InstallationOptions

    func validate() throws {
        if interval < 0.05 { throw ValidationError("--interval must be at least 0.05 seconds") }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
    }

    func run() throws {
        try Self.watch(options.accelerator(), interval: interval, count: count, json: json)
    }

    static func watch(_ accelerator: Accelerator, interval: Double, count: Int?, json: Bool) throws {
        var previous = try CLILog.reporting { () throws -> Counters in
            try Privileges.requireRoot()
            return try accelerator.counters()
        }
        var lines = 0
        var last = Date()
        if !json {
            emit(Self.row(["time", "msgs/s", "bytes/s", "missed/s", "inserted", "failed", "skipped", "to-tcp", "released", "entries"]))
        }
        while count.map({ lines < $0 }) ?? true {
            pause(seconds: interval)
            let now = Date()
            let (current, entries) = try CLILog.reporting { () throws -> (Counters, Int) in
                (try accelerator.counters(), (try? accelerator.map(DataPath.sockhashMap).keys().count) ?? 0)
            }
            let seconds = now.timeIntervalSince(last)
            // A detach and load between two samples restarts the counters: count from zero then.
            let restarted = Counters.Slot.allCases.contains { current[$0] < previous[$0] }
            let delta = current.delta(since: restarted ? Counters() : previous)
            let rate = { (value: UInt64) in Double(value) / seconds }
            if json {
                struct Line: Encodable {
                    let time: Date, interval: Double, messagesPerSecond: Double, bytesPerSecond: Double
                    let missedPerSecond: Double, entries: Int, totals: Counters
                }
                let line = Line(time: now, interval: seconds, messagesPerSecond: rate(delta.messagesRedirected),
                                bytesPerSecond: rate(delta.bytesRedirected), missedPerSecond: rate(delta.redirectMissed),
                                entries: entries, totals: current)
                let encoder = JSONEncoder()
                encoder.dateEncodingStrategy = .iso8601
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                emit(String(decoding: try encoder.encode(line), as: UTF8.self))
            } else {
                let time = clockTime(now)
                let columns = [time, Formatting.fixed(rate(delta.messagesRedirected)),
                               ByteCount.format(UInt64(clamping: Int64(rate(delta.bytesRedirected)))) + "/s",
                               Formatting.fixed(rate(delta.redirectMissed)), "\(current.socketsInserted)",
                               "\(current.insertFailed)", "\(current.skippedByPolicy)", "\(current.backpressureToTCP)",
                               "\(current.socketsReleased)", "\(entries)"]
                emit(Self.row(columns))
            }
            previous = current
            last = now
            lines += 1
        }
    }
}

extension Stats {
    static let widths = [10, 10, 13, 10, 10, 8, 9, 8, 10, 8]

    static func row(_ columns: [String]) -> String {
        let text = zip(columns, widths).map { Formatting.padded($0, to: max($1, $0.count + 1)) }.joined()
        return String(text.reversed().drop { $0 == " " }.reversed())
    }
}

/// Writes a line straight to standard output, unbuffered, so a pipe sees each line as it comes.
private func emit(_ line: String) {
    CLILog.write(line + "\n", to: STDOUT_FILENO)
}

/// Sleeps `seconds` (resumed after a signal).
private func pause(seconds: Double) {
    var request = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}

/// `date` as local `HH:mm:ss`.
private func clockTime(_ date: Date) -> String {
    var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
    var parts = tm()
    localtime_r(&seconds, &parts)
    func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
    return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
}

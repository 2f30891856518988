import Glibc

/// The header of every report: what the numbers were measured on, and when.
struct MachineInfo: Codable, Sendable {
    var kernel: String
    var cpuModel: String
    var onlineCPUs: Int
    /// UTC, ISO 8601.
    var date: String
    /// `/sys/kernel/tracing/tracing_on`: while on, each `bpf_printk` of the seed's programs
    /// (reference mode) writes a line to the trace ring buffer; nil when unreadable.
    var tracingOn: Bool? = nil

    static func current() -> MachineInfo {
        var names = utsname()
        uname(&names)
        let kernel = withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let cpuinfo = (try? readTextFile("/proc/cpuinfo")) ?? ""
        let model = cpuinfo.split(separator: "\n")
            .first { $0.hasPrefix("model name") || $0.hasPrefix("Model") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: " \t") } ?? "unknown"
        return MachineInfo(
            kernel: kernel,
            cpuModel: model,
            onlineCPUs: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))),
            date: utcTimestamp(),
            tracingOn: (try? readTextFile("/sys/kernel/tracing/tracing_on")).map { $0.hasPrefix("1") }
        )
    }

    private static func utcTimestamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension Substring {
    /// Without leading and trailing characters from `set` (no Foundation needed).
    func trimmingCharacters(in set: String) -> String {
        let trimmed = drop { set.contains($0) }.reversed().drop { set.contains($0) }.reversed()
        return String(trimmed)
    }
}

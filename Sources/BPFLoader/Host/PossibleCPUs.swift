import BPFObject
import SystemPackage

/// The number of possible CPUs (`/sys/devices/system/cpu/possible`), which sizes per-CPU map values.
package enum PossibleCPUs {
    /// When the file cannot be read, the kernel's largest CPU count: per-CPU lookups then get a
    /// buffer too large rather than one the kernel would write past.
    package static let count: Int = {
        guard let bytes = try? FileBytes.read("/sys/devices/system/cpu/possible"),
              let count = parse(String(decoding: bytes, as: UTF8.self)) else { return fallback }
        return count
    }()

    /// `CONFIG_NR_CPUS` maximum on x86-64.
    static let fallback = 8192

    /// Parses a CPU list such as "0-3" or "0,2-5"; returns the highest CPU number plus one.
    package static func parse(_ text: String) -> Int? {
        var highest = -1
        for part in text.split(whereSeparator: { $0 == "," || $0.isWhitespace }) {
            let bounds = part.split(separator: "-")
            guard let last = bounds.last.flatMap({ Int($0) }) else { return nil }
            highest = max(highest, last)
        }
        return highest >= 0 ? highest + 1 : nil
    }
}

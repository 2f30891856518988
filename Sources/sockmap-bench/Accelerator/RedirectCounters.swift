import BPFLoader
import SockmapAccelerator

/// The data path's counters as the report and `--json` show them: by slot name (as
/// `swift-sockmap status --json` names them), the increase over the accelerated runs.
struct RedirectCounters: Codable, Sendable {
    var values: [String: Double]

    var messagesRedirected: Double { values["messagesRedirected"] ?? 0 }
    var bytesRedirected: Double { values["bytesRedirected"] ?? 0 }

    init(values: [String: Double]) { self.values = values }

    init(_ counters: Counters) {
        values = Dictionary(uniqueKeysWithValues: Counters.Slot.allCases.map { ("\($0)", Double(counters[$0])) })
    }

    /// Where to read the counters from.
    enum Source: Sendable {
        /// The installation pinned in this directory (`Accelerator.counters()`, what `status` reads).
        case pinDirectory(String)
        /// A pinned per-CPU counters map (for `--no-load` with an installation of another pin layout).
        case pinnedMap(String)
    }

    /// The counters now, summed over CPUs.
    static func read(from source: Source) throws -> Counters {
        switch source {
        case .pinDirectory(let directory): try Accelerator(pinDirectory: directory).counters()
        case .pinnedMap(let path): try Counters.read(from: BPFMap(pinned: path))
        }
    }
}

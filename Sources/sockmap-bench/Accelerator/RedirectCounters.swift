import FoundationEssentials
import SockmapAccelerator

/// The data path's counters (bpf/sockmap_shared.h), read before and after the accelerated runs
/// to show that messages were actually redirected.
struct RedirectCounters: Codable, Sendable {
    var values: [String: Double]

    var messagesRedirected: Double { values["messagesRedirected"] ?? 0 }
    var bytesRedirected: Double { values["bytesRedirected"] ?? 0 }

    /// Where to read them from.
    enum Source: Sendable {
        /// `swift-sockmap status --pin-dir DIR --json`, object "counters".
        case status(sockmap: String, pinDir: String)
        /// `bpftool map dump pinned PATH -j` of the per-CPU counters array (for `--no-load`).
        case bpftool(mapPath: String)
    }

    /// Index order of enum sockmap_counter, named as `status --json` names them.
    static let names = Counters.Slot.allCases.map { "\($0)" }

    static func read(from source: Source) throws -> RedirectCounters {
        switch source {
        case .status(let sockmap, let pinDir):
            let outcome = try runCommand(sockmap, ["status", "--pin-dir", pinDir, "--json"])
            guard outcome.status == 0 else { throw BenchError("swift-sockmap status exited \(outcome.status): \(outcome.stderr)") }
            let json = try JSONDecoder().decode(JSONValue.self, from: Data(outcome.stdout.utf8))
            guard case .object(let counters)? = json["counters"] else { throw BenchError("status JSON has no \"counters\" object") }
            return RedirectCounters(values: counters.compactMapValues(\.number))
        case .bpftool(let mapPath):
            let outcome = try runCommand("bpftool", ["-j", "map", "dump", "pinned", mapPath])
            guard outcome.status == 0 else { throw BenchError("bpftool map dump exited \(outcome.status): \(outcome.stderr)") }
            return try fromBpftool(try JSONDecoder().decode(JSONValue.self, from: Data(outcome.stdout.utf8)))
        }
    }

    /// after - before, key by key.
    func delta(since before: RedirectCounters) -> RedirectCounters {
        RedirectCounters(values: values.merging(before.values.mapValues { -$0 }, uniquingKeysWith: +))
    }

    /// Entries look like {"key": [bytes], "values": [{"cpu": n, "value": [bytes]}], "formatted": {...}};
    /// use "formatted" (BTF) when present, else the little-endian hex bytes.
    private static func fromBpftool(_ dump: JSONValue) throws -> RedirectCounters {
        guard case .array(let entries) = dump else { throw BenchError("unexpected bpftool output") }
        var values: [String: Double] = [:]
        for entry in entries {
            let source = entry["formatted"] ?? entry
            guard let index = source["key"].flatMap(integer), index >= 0, index < names.count,
                  case .array(let perCPU)? = source["values"] else { continue }
            values[names[index]] = perCPU.reduce(0) { $0 + Double($1["value"].flatMap(integer) ?? 0) }
        }
        guard !values.isEmpty else { throw BenchError("no counters in bpftool output") }
        return RedirectCounters(values: values)
    }

    /// A number, or bpftool's ["0x01", "0x00", ...] little-endian bytes.
    private static func integer(_ value: JSONValue) -> Int? {
        switch value {
        case .number(let number): return Int(number)
        case .array(let bytes):
            var result = 0
            for byte in bytes.reversed() {
                guard case .string(let hex) = byte, let value = Int(hex.dropFirst(2), radix: 16) else { return nil }
                result = result << 8 | value
            }
            return result
        default: return nil
        }
    }
}

/// Just enough of a JSON value to read other tools' output tolerantly.
enum JSONValue: Decodable, Sendable {
    case number(Double), string(String), bool(Bool), array([JSONValue]), object([String: JSONValue]), null

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { members[key] } else { nil }
    }

    var number: Double? {
        if case .number(let value) = self { value } else { nil }
    }
}

import Foundation
import TestSupport

/// bpftool as the oracle: what libbpf makes of an object, and how the kernel sees a program or map.
enum Bpftool {
    struct Failure: Error, CustomStringConvertible {
        let arguments: [String]
        let result: CommandResult
        var description: String { "bpftool \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)" }
    }

    static func run(_ arguments: [String]) throws -> String {
        let result = try CommandRunner.run(Environment.bpftool, arguments)
        guard result.status == 0 else { throw Failure(arguments: arguments, result: result) }
        return result.stdout
    }

    static func json(_ arguments: [String]) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(try run(["-j"] + arguments).utf8))
    }

    /// `bpftool prog loadall OBJECT DIR`: libbpf loads every program and pins each by name.
    static func loadAll(_ object: String, into directory: String) throws {
        _ = try run(["prog", "loadall", object, directory])
    }

    /// A map as `bpftool map show -j` describes it, with the name libbpf gives global-data maps
    /// ("<object prefix>.rodata") reduced to the section name, as this loader names them.
    struct Map: Equatable, CustomStringConvertible {
        let name: String
        let type: String
        let keySize: Int
        let valueSize: Int
        let maxEntries: Int
        let flags: Int
        let frozen: Bool
        let hasBTF: Bool

        var description: String {
            "\(name): \(type) key \(keySize) value \(valueSize) max \(maxEntries) flags 0x\(String(flags, radix: 16))"
                + (frozen ? " frozen" : "") + (hasBTF ? " btf" : "")
        }
    }

    static func map(id: Int) throws -> Map {
        let object = try json(["map", "show", "id", "\(id)"]) as? [String: Any] ?? [:]
        return Map(name: normalisedMapName(object["name"] as? String ?? ""), type: object["type"] as? String ?? "",
                   keySize: object["bytes_key"] as? Int ?? -1, valueSize: object["bytes_value"] as? Int ?? -1,
                   maxEntries: object["max_entries"] as? Int ?? -1, flags: object["flags"] as? Int ?? -1,
                   frozen: (object["frozen"] as? Int ?? 0) != 0, hasBTF: (object["btf_id"] as? Int ?? 0) != 0)
    }

    static func normalisedMapName(_ name: String) -> String {
        for section in [".rodata", ".data", ".bss"] {
            if let range = name.range(of: section) { return String(name[range.lowerBound...]) }
        }
        return name
    }

    /// `bpftool prog dump xlated id N` (with source lines and function names from BTF), every
    /// `map[id:N]` replaced by the name of map N in `maps` (its normalised name), so two loads of
    /// one object compare equal. The symbol bpftool appends to a bpf-to-bpf call
    /// (`call pc+10#bpf_prog_<tag>_record`) is dropped: bpftool finds it in `/proc/kallsyms` at
    /// dump time and, when that read races with other programs being loaded or freed, prints the
    /// raw address instead (seen once in a full run). The call's offset stays, and the callee's
    /// instructions are compared as part of the same dump.
    static func xlated(programID: Int, maps: [Int: Map]) throws -> String {
        var text = try run(["prog", "dump", "xlated", "id", "\(programID)"])
        let call = try NSRegularExpression(pattern: #"(call pc[+-]\d+)#\S+"#)
        text = call.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "$1")
        let pattern = try NSRegularExpression(pattern: #"map\[id:(\d+)\]"#)
        for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).reversed() {
            let range = Range(match.range, in: text)!
            let id = Int(text[Range(match.range(at: 1), in: text)!])!
            text.replaceSubrange(range, with: "map[\(maps[id]?.name ?? "id?")]")
        }
        return text
    }
}

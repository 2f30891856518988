import ArgumentParser
import FoundationEssentials
import Glibc
import SockmapAccelerator

struct DumpMap: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump-map",
        abstract: "List every socket in the SOCKHASH: both endpoints, network namespace and socket cookie.",
        discussion: "For an object not built from bpf/redir.c, each key is shown field by field as the object's BTF describes it (hex where it has none).")

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var options: InstallationOptions

    func run() throws {
        let accelerator = options.accelerator()
        if let state = accelerator.recordedState(), !state.providesOwnMaps {
            try ForeignKeys(state: state, json: json).print(try CLILog.reporting { () throws -> [RawSockmapEntry] in
                try Privileges.requireRoot()
                return try accelerator.rawEntries()
            })
            return
        }
        let entries = try CLILog.reporting { () throws -> [SockhashEntry] in
            try Privileges.requireRoot()
            return try accelerator.entries()
        }
        if json {
            struct Output: Encodable {
                struct Entry: Encodable {
                    let local: String, remote: String, netnsCookie: UInt64, socketCookie: UInt64?
                }
                let count: Int
                let entries: [Entry]
            }
            let output = Output(count: entries.count, entries: entries.map {
                .init(local: $0.key.local, remote: $0.key.remote, netnsCookie: $0.key.netnsCookie, socketCookie: $0.cookie)
            })
            print(try JSONOutput.string(output))
            return
        }
        for entry in entries.sorted(by: { ($0.key.netnsCookie, $0.key.localPort) < ($1.key.netnsCookie, $1.key.localPort) }) {
            let cookie = entry.cookie.map { String($0) } ?? "-"
            print("\(entry.key.local) -> \(entry.key.remote)  netns \(entry.key.netnsCookie)  cookie \(cookie)")
        }
        print("\(entries.count) \(entries.count == 1 ? "entry" : "entries")")
    }
}

/// `dump-map` for an object that is not ours: keys decoded from the layout its BTF gave at load.
struct ForeignKeys {
    let state: LoadState
    let json: Bool

    func fields(_ key: [UInt8]) -> [(name: String, value: String)] {
        state.keyLayout?.decode(key) ?? [("key", Hex.string(key))]
    }

    func print(_ entries: [RawSockmapEntry]) throws {
        let sorted = entries.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        if json {
            struct Output: Encodable {
                struct Entry: Encodable { let key: String; let fields: [String: String]; let socketCookie: UInt64? }
                let map: String, keyType: String?, count: Int, entries: [Entry]
            }
            let output = Output(map: state.sockhashMap, keyType: state.keyLayout?.typeName, count: entries.count, entries: sorted.map { entry in
                .init(key: Hex.string(entry.key), fields: Dictionary(fields(entry.key).map { ($0.name, $0.value) }, uniquingKeysWith: { a, _ in a }),
                      socketCookie: entry.cookie)
            })
            Swift.print(try JSONOutput.string(output))
            return
        }
        for entry in sorted {
            let text = fields(entry.key).map { "\($0.name)=\($0.value)" }.joined(separator: " ")
            Swift.print("\(text)  cookie \(entry.cookie.map { String($0) } ?? "-")")
        }
        let layout = state.keyLayout.map { "keys as \($0.fields.count > 1 ? "struct " : "")\($0.typeName) from the object's BTF" } ?? "keys in hex (no BTF for them)"
        Swift.print("\(entries.count) \(entries.count == 1 ? "entry" : "entries") in \(state.sockhashMap) (\(layout))")
    }
}

enum JSONOutput {
    static func string<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

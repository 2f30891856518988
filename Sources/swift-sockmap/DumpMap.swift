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
        let pairs = SocketPairs(entries)
        if json {
            print(try JSONOutput.string(pairs.output))
            return
        }
        for line in pairs.lines { print(line) }
    }
}

/// The SOCKHASH of our data path grouped into connections: each pair with both of its sockets
/// as each sees the connection, in its own namespace, then the sockets still without a peer.
struct SocketPairs {
    /// Both sockets of a paired connection, the connecting side first when it is known.
    let pairs: [(SockhashEntry, SockhashEntry)]
    /// Sockets in the map with no peer in it: a connecting side whose listener has not claimed
    /// its token (yet, or ever), or one whose peer already closed.
    let unpaired: [SockhashEntry]

    init(_ entries: [SockhashEntry]) {
        let byCookie = Dictionary(entries.compactMap { entry in entry.cookie.map { ($0, entry) } }, uniquingKeysWith: { a, _ in a })
        var pairs: [(SockhashEntry, SockhashEntry)] = [], unpaired: [SockhashEntry] = [], done = Set<UInt64>()
        for entry in entries.sorted(by: { ($0.cookie ?? 0) < ($1.cookie ?? 0) }) {
            guard let cookie = entry.cookie, !done.contains(cookie) else { continue }
            done.insert(cookie)
            if let peerCookie = entry.peerCookie, let peer = byCookie[peerCookie], !done.contains(peerCookie) {
                done.insert(peerCookie)
                pairs.append((entry, peer)) // the lower cookie: the socket made first, the connecting one
            } else {
                unpaired.append(entry)
            }
        }
        self.pairs = pairs
        self.unpaired = unpaired
    }

    static func describe(_ entry: SockhashEntry) -> String {
        let cookie = entry.cookie.map { String($0) } ?? "-"
        guard let key = entry.key else { return "(no record: leaving the map, or in a namespace of no process of the cgroup)  cookie \(cookie)" }
        return "\(key.local) -> \(key.remote)  netns \(key.netnsCookie)  cookie \(cookie)"
    }

    var lines: [String] {
        var lines: [String] = []
        for (first, second) in pairs {
            lines.append(Self.describe(first))
            lines.append("  <-> " + Self.describe(second))
        }
        for entry in unpaired { lines.append(Self.describe(entry) + "  (no peer)") }
        let count = pairs.count * 2 + unpaired.count
        lines.append("\(count) \(count == 1 ? "entry" : "entries"): \(pairs.count) \(pairs.count == 1 ? "pair" : "pairs"), \(unpaired.count) without a peer")
        return lines
    }

    struct Output: Encodable {
        struct Socket: Encodable {
            let local: String?, remote: String?, netnsCookie: UInt64?, socketCookie: UInt64?, peerCookie: UInt64?
            init(_ entry: SockhashEntry) {
                local = entry.key?.local
                remote = entry.key?.remote
                netnsCookie = entry.key?.netnsCookie
                socketCookie = entry.cookie
                peerCookie = entry.peerCookie
            }
        }
        let count: Int
        let entries: [Socket]
        let pairs: [[Socket]]
        let unpaired: [Socket]
    }

    var output: Output {
        let all = pairs.flatMap { [$0.0, $0.1] } + unpaired
        return Output(count: all.count, entries: all.map(Output.Socket.init), pairs: pairs.map { [.init($0.0), .init($0.1)] },
                      unpaired: unpaired.map(Output.Socket.init))
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

import ArgumentParser
import Foundation
import SockmapAccelerator

struct DumpMap: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump-map",
        abstract: "List every socket in the SOCKHASH: both endpoints, network namespace and socket cookie.")

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var options: InstallationOptions

    func run() throws {
        let entries = try CLILog.reporting { () throws -> [SockhashEntry] in
            try Privileges.requireRoot()
            return try options.accelerator().entries()
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

enum JSONOutput {
    static func string<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

import ArgumentParser
import SockmapAccelerator

struct Policy: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Show or change which connections are accelerated (allow/deny list of ports and addresses).",
        discussion: """
            In deny mode (the default) every connection in the cgroup is accelerated except those with a \
            listed port or address at either end; in allow mode only those are. Use it to exclude \
            applications that rely on what redirected sockets do not support (splice, FIONREAD before \
            Linux 7.0, blocking reads racing a writer thread: see README). Changes apply to connections \
            established afterwards.
            """,
        subcommands: [List.self, Add.self, Remove.self, Mode.self],
        defaultSubcommand: List.self)

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the mode and the entries.")
        @Flag(help: "Print JSON instead of text.") var json = false
        @OptionGroup var options: InstallationOptions

        func run() throws {
            let accelerator = options.accelerator()
            let (mode, entries) = try CLILog.reporting { () throws -> (DataPath.PolicyMode, [PolicyEntry]) in
                try Privileges.requireRoot()
                return (try accelerator.config().policyMode, try accelerator.policyEntries())
            }
            let modeName = mode == .allow ? "allow" : "deny"
            if json {
                struct Output: Encodable { let mode: String; let entries: [String] }
                print(try JSONOutput.string(Output(mode: modeName, entries: entries.map(\.description))))
                return
            }
            print("mode: \(modeName) (\(mode == .allow ? "only listed connections are accelerated" : "listed connections are not accelerated"))")
            for entry in entries { print("  \(entry)") }
            if entries.isEmpty { print("  (no entries)") }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add", abstract: "Add ports or addresses (e.g. 5432 10.0.0.7 ::1).")
        @Argument(help: "Ports or IPv4/IPv6 addresses.") var entries: [String]
        @OptionGroup var options: InstallationOptions

        func run() throws {
            try CLILog.reporting {
                for text in entries { try options.accelerator().addPolicy(try PolicyEntry(parsing: text)) }
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Remove ports or addresses.")
        @Argument(help: "Ports or IPv4/IPv6 addresses.") var entries: [String]
        @OptionGroup var options: InstallationOptions

        func run() throws {
            try CLILog.reporting {
                for text in entries { try options.accelerator().removePolicy(try PolicyEntry(parsing: text)) }
            }
        }
    }

    struct Mode: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "mode", abstract: "Set the mode: deny (accelerate all but listed) or allow (only listed).")
        @Argument(help: "deny or allow") var mode: DataPath.PolicyMode
        @OptionGroup var options: InstallationOptions

        func run() throws {
            try CLILog.reporting { try options.accelerator().setPolicyMode(mode) }
        }
    }
}

struct Pause: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Stop redirecting at once (every send takes the TCP path, in order); programs stay loaded.")
    @OptionGroup var options: InstallationOptions
    func run() throws {
        try CLILog.reporting { try options.accelerator().setPaused(true) }
        print("paused: traffic goes over TCP until `swift-sockmap resume`")
    }
}

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume redirecting, for connections made from now on.",
        discussion: "Connections that sent while paused stay on TCP: redirecting them again could deliver their later bytes first.")
    @OptionGroup var options: InstallationOptions
    func run() throws {
        try CLILog.reporting { try options.accelerator().setPaused(false) }
        print("resumed")
    }
}

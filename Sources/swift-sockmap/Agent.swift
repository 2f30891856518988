import ArgumentParser
import EmbeddedDataPath
import FoundationEssentials
import Glibc
import Logging
import SockmapAccelerator
import SockmapAgent

/// `--log-format`: how the agent logs.
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json
}

struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Keep the accelerator loaded and serve Prometheus metrics, /healthz and /readyz over HTTP.",
        discussion: """
            Loads the data path (or adopts the installation already in --pin-dir; one loaded from \
            another object, such as an older binary's, gets this one's programs as with \
            `load --replace`), then serves GET /metrics (Prometheus text: the data path's counters \
            read from the kernel at each scrape, the map's fill, program statistics when \
            kernel.bpf_stats_enabled is on), /healthz (the agent serves) and /readyz (the \
            programs are attached to the cgroup and the map and the pins are there; 503 with the \
            reason otherwise). SIGHUP reloads (load --replace). SIGTERM or SIGINT stops the agent \
            and leaves the installation in place, so connections keep their fast path across a \
            restart; --detach-on-exit detaches it instead. Under systemd (NOTIFY_SOCKET) it \
            reports READY, RELOADING and STOPPING. One agent per pin directory.
            """)

    @Option(help: ArgumentHelp("Address to serve HTTP on: IP:PORT, [IPV6]:PORT.", valueName: "address"))
    var listen = ListenAddress.default.description

    @Flag(help: "Allow a --listen address other hosts can reach (anything but loopback).")
    var allowExternal = false

    @Flag(help: "Detach the installation when stopped (by default it stays, and so does acceleration).")
    var detachOnExit = false

    @Option(help: "Log format on standard error: text or json (one object per line).")
    var logFormat: LogFormat = .text

    @Option(help: "A BPF object to load instead of the data path built into this binary.")
    var object: String?

    @Option(help: "cgroup v2 directory to accelerate: absolute, or relative to the cgroup2 mount. Default: <mount>/swift-sockmap.")
    var cgroup: String?

    @Option(help: "Capacity of the SOCKHASH when the agent loads it (a running installation keeps its own).")
    var maxEntries: UInt32?

    @OptionGroup var policy: PolicyOptions

    @OptionGroup var localNetworks: LocalNetworkOptions

    @OptionGroup var options: InstallationOptions

    func validate() throws {
        if let maxEntries, maxEntries == 0 { throw ValidationError("--max-entries must be at least 1") }
    }

    func run() throws {
        let logger = Self.bootstrapLogging(format: logFormat, verbose: options.verbose)
        let report = { (error: AgentError) -> ExitCode in
            if logFormat == .json { logger.error("\(error.description)") } else { CLILog.printError(error.description) }
            return ExitCode(error.exitCode)
        }
        let address: ListenAddress
        do { address = try ListenAddress(parsing: listen) } catch { throw report(.badAddress(error.description)) }
        var load = Accelerator.LoadOptions(objectPath: object ?? EmbeddedDataPath.name, cgroup: cgroup, maxEntries: maxEntries)
        if object == nil { load.objectBytes = EmbeddedDataPath.bytes }
        policy.apply(to: &load)
        localNetworks.apply(to: &load)
        let agent = Agent(.init(listen: address, allowExternal: allowExternal, pinDirectory: options.pinDirectory, load: load,
                                detachOnExit: detachOnExit, version: SwiftSockmap.configuration.version),
                          logger: logger)
        let status: Int32
        do { status = try agent.run() } catch { throw report(error) }
        if status != 0 { throw ExitCode(status) }
    }

    /// swift-log for the agent: info and up (debug with --verbose), as text or JSON lines.
    static func bootstrapLogging(format: LogFormat, verbose: Bool) -> Logger {
        let level: Logger.Level = verbose ? .debug : .info
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .json:
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
        var logger = Logger(label: "swift-sockmap")
        logger.logLevel = level
        return logger
    }
}

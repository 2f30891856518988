import ArgumentParser
import Logging
import SockmapAccelerator

@main
struct SwiftSockmap: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swift-sockmap",
        abstract: "Same-host TCP acceleration with sockmap: redirect loopback TCP between processes of a cgroup past the TCP/IP stack.",
        discussion: """
            Exit codes: 0 success; 1 the operation failed (the message says why); 3 already loaded; \
            4 not loaded; 64 bad usage; 77 not root; 127 `run` could not execute its command.
            """,
        version: "0.1.0",
        subcommands: [Load.self, Detach.self, Status.self, DumpMap.self, Run.self, Stats.self, Policy.self, Pause.self, Resume.self, Trace.self, Probe.self, AgentCommand.self]
    )
}

/// Options every command that touches an installation shares.
struct InstallationOptions: ParsableArguments {
    @Option(name: .customLong("pin-dir"), help: "Directory in bpffs holding the pins.")
    var pinDirectory: String = PinLayout.defaultDirectory

    @Flag(name: .shortAndLong, help: "Log each step to standard error.")
    var verbose = false

    func accelerator() -> Accelerator {
        Accelerator(pinDirectory: pinDirectory, logger: CLILog.logger(verbose: verbose))
    }
}

import ArgumentParser

/// `sockmap-bench`: plain loopback TCP vs sockmap-accelerated TCP vs Unix sockets, two processes.
@main
struct SockmapBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sockmap-bench",
        abstract: "Benchmark plain loopback TCP, sockmap-accelerated TCP and Unix sockets side by side.",
        subcommands: [RunCommand.self, ServerCommand.self, ClientCommand.self],
        defaultSubcommand: RunCommand.self
    )
}

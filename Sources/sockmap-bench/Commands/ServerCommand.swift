import ArgumentParser

/// Hidden child role: listen, print `READY <endpoint>`, serve one workload, print `RESULT {json}`.
struct ServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_server",
        abstract: "(internal) The server process of one measurement.",
        shouldDisplay: false
    )

    @OptionGroup var role: RoleOptions

    @Option(help: "tcp:0 (127.0.0.1, any port) or unix:@NAME (abstract Unix socket).")
    var listen: Endpoint

    func run() throws {
        try role.enterPlacement()
        let listener = try Socket.listen(on: listen, timeouts: role.timeouts)
        try writeLineToStdout("READY \(try listener.boundEndpoint(like: listen))")
        let noDelay = listen.isTCP && !role.nagle
        let report = switch role.workload {
        case .rtt: try PingPong.serve(listener, size: role.size, noDelay: noDelay, timeouts: role.timeouts)
        case .stream: try Stream.receive(listener, writeSize: role.size, noDelay: noDelay, timeouts: role.timeouts)
        case .connect, .loader: try ConnectRate.serve(listener, noDelay: noDelay, timeouts: role.timeouts)
        }
        try report.emit()
    }
}

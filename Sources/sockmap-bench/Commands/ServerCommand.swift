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

    @Flag(help: "Paused and control modes (stream): also listen for a plain reference connection, on a socket made before joining --cgroup; READY then prints both endpoints.")
    var reference = false

    func validate() throws {
        if reference, role.workload != .stream || !listen.isTCP || role.cgroup == nil {
            throw ValidationError("--reference goes with --workload stream, a tcp: --listen and --cgroup")
        }
    }

    func run() throws {
        if reference {
            try servePausedPair()
            return
        }
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

    /// Paused and control modes: `READY <paused endpoint> <reference endpoint>`, then all connections at once.
    private func servePausedPair() throws {
        role.armAlarm()
        let referenceListener = try Socket.listen(on: listen, timeouts: role.timeouts)
        try role.joinCgroupAndPin()
        let listener = try Socket.listen(on: listen, timeouts: role.timeouts)
        try writeLineToStdout("READY \(try listener.boundEndpoint(like: listen)) \(try referenceListener.boundEndpoint(like: listen))")
        let noDelay = !role.nagle
        var connections: [PausedPair.Connection] = []
        for _ in 0..<PausedPair.pairs {
            connections.append(PausedPair.Connection(try referenceListener.accept(timeouts: role.timeouts, noDelay: noDelay), isReference: true))
        }
        for _ in 0..<PausedPair.pairs {
            connections.append(PausedPair.Connection(try listener.accept(timeouts: role.timeouts, noDelay: noDelay), isReference: false))
        }
        let report = try PausedPair.receive(connections, writeSize: role.size, timeouts: role.timeouts)
        try report.emit()
    }
}

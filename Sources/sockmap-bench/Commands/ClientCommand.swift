import ArgumentParser
import SockmapAccelerator

/// Hidden child role: connect to the server, drive one workload, print `RESULT {json}`.
struct ClientCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_client",
        abstract: "(internal) The client process of one measurement.",
        shouldDisplay: false
    )

    @OptionGroup var role: RoleOptions

    @Option(help: "The endpoint the server printed.")
    var connect: Endpoint

    @Option(help: "Timed round trips (rtt).")
    var iterations: Int = 10_000

    @Option(help: "Untimed round trips first (rtt).")
    var warmup: Int = 500

    @Option(help: "Seconds of writing (stream) or connecting (connect).")
    var duration: Double = 1

    @Option(help: "Paused mode (stream, with --reference-connect): once connected, pause the installation pinned here; resume at the end.")
    var pausePins: String?

    @Option(help: "Paused and control modes (stream): the server's plain reference endpoint, connected before joining --cgroup and written in slices taken in turn with the connections to --connect (paused with --pause-pins, plain without).")
    var referenceConnect: Endpoint?

    func validate() throws {
        if referenceConnect != nil, role.workload != .stream || role.cgroup == nil {
            throw ValidationError("--reference-connect goes with --workload stream and --cgroup")
        }
        if pausePins != nil, referenceConnect == nil {
            throw ValidationError("--pause-pins goes with --reference-connect (paused mode)")
        }
    }

    func run() throws {
        if let referenceConnect {
            try runPausedPair(reference: referenceConnect)
            return
        }
        try role.enterPlacement()
        let report: ChildReport
        switch role.workload {
        case .rtt:
            let connection = try Socket.connect(to: connect, timeouts: role.timeouts)
            report = try PingPong.run(connection, size: role.size, iterations: iterations, warmup: warmup, timeouts: role.timeouts)
        case .stream:
            let connection = try Socket.connect(to: connect, timeouts: role.timeouts, noDelay: !role.nagle)
            report = try Stream.send(connection, writeSize: role.size, duration: duration, timeouts: role.timeouts)
        case .connect, .loader:
            report = try ConnectRate.run(to: connect, duration: duration, timeouts: role.timeouts)
        }
        try report.emit()
    }

    /// Paused and control modes: the reference connections from outside the cgroup, the others
    /// from inside (then paused, in paused mode).
    private func runPausedPair(reference endpoint: Endpoint) throws {
        role.armAlarm()
        var connections: [PausedPair.Connection] = []
        for _ in 0..<PausedPair.pairs {
            let socket = try Socket.connect(to: endpoint, timeouts: role.timeouts, noDelay: !role.nagle)
            connections.append(PausedPair.Connection(socket, isReference: true))
        }
        try role.joinCgroupAndPin()
        for _ in 0..<PausedPair.pairs {
            let socket = try Socket.connect(to: connect, timeouts: role.timeouts, noDelay: !role.nagle)
            connections.append(PausedPair.Connection(socket, isReference: false))
        }
        let accelerator = pausePins.map { Accelerator(pinDirectory: $0) }   // nil: control mode
        try accelerator?.setPaused(true)
        defer { try? accelerator?.setPaused(false) }
        let report = try PausedPair.send(connections, writeSize: role.size, duration: duration, timeouts: role.timeouts)
        try report.emit()
    }
}

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

    @Option(help: "Paused mode (stream): once connected, pause the installation pinned here; resume at the end.")
    var pausePins: String?

    func run() throws {
        try role.enterPlacement()
        let report: ChildReport
        switch role.workload {
        case .rtt:
            let connection = try Socket.connect(to: connect, timeouts: role.timeouts)
            report = try PingPong.run(connection, size: role.size, iterations: iterations, warmup: warmup, timeouts: role.timeouts)
        case .stream:
            let connection = try Socket.connect(to: connect, timeouts: role.timeouts, noDelay: !role.nagle)
            let paused = pausePins.map { Accelerator(pinDirectory: $0) }
            try paused?.setPaused(true)
            defer { try? paused?.setPaused(false) }
            report = try Stream.send(connection, writeSize: role.size, duration: duration, timeouts: role.timeouts)
        case .connect, .loader:
            report = try ConnectRate.run(to: connect, duration: duration, timeouts: role.timeouts)
        }
        try report.emit()
    }
}

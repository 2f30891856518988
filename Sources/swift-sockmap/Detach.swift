import ArgumentParser
import SockmapAccelerator

struct Detach: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detach",
        abstract: "Detach both programs, remove the pins and the cgroup load created (if empty).",
        discussion: """
            Redirection stops at once; open connections go on over TCP, in order. Connections that \
            move data leave the map within about a second; idle ones are taken out of it where that \
            cannot drop a byte (see docs/backpressure.md). If sockets are still in it, the map is kept \
            under <pin-dir>-draining until they close, because freeing it would drop redirected data \
            they have not read yet; any later detach or load sweeps it again, and they or status free \
            it once empty. --force frees it now. Running detach when nothing is loaded succeeds.
            """)

    @Flag(help: "Free the map even if sockets are still open (their unread redirected data is lost).")
    var force = false

    @OptionGroup var options: InstallationOptions

    func run() throws {
        let report = try CLILog.reporting { try options.accelerator().detach(force: force) }
        guard report.wasLoaded else {
            print("nothing loaded at \(options.pinDirectory)")
            return
        }
        var line = "detached"
        if report.removedCgroup { line += "; removed the cgroup load had created" }
        print(line)
        if report.idleSocketsReleased > 0 { print("\(report.idleSocketsReleased) sockets of idle connections left the map") }
        if let draining = report.drainingDirectory {
            print("\(report.socketsStillOpen) sockets are still open: their map stays at \(draining) until they close")
        }
    }
}

import ArgumentParser
import FoundationEssentials
import Glibc
import SockmapAccelerator
import SystemPackage

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a command inside the accelerated cgroup.",
        discussion: "Moves this process into the cgroup, then executes COMMAND in its place. Example: swift-sockmap run -- redis-server")

    @Option(help: "cgroup to run in; default: the one the loaded accelerator uses.")
    var cgroup: String?

    @OptionGroup var options: InstallationOptions

    @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the command to run after --, e.g. `swift-sockmap run -- curl http://127.0.0.1:8080/`") }
    }

    func run() throws {
        let accelerator = options.accelerator()
        let target = try CLILog.reporting { () throws -> Cgroup in
            try Privileges.requireRoot()
            if let cgroup { return try Cgroup.resolve(cgroup) }
            if case .loaded(let state) = accelerator.installation() { return Cgroup(path: state.cgroup) }
            throw AcceleratorError.notLoaded(pinDir: options.pinDirectory)
        }
        try CLILog.reporting {
            guard target.exists else { throw AcceleratorError.cgroupNotFound(path: target.path) }
            try target.add()
        }
        switch target.acceleration() {
        case .accelerated: break
        case .notAccelerated:
            CLILog.printError("warning: no sock_ops program using a sockmap runs on cgroup \(target.path); \(command[0]) runs unaccelerated")
        case .unknown(let reason):
            CLILog.printError("warning: cannot tell whether cgroup \(target.path) is accelerated (\(reason))")
        }
        var arguments = command.map { strdup($0) }
        arguments.append(nil)
        execvp(command[0], arguments)
        CLILog.printError("cannot run \(command[0]): \(Errno(rawValue: errno))")
        throw ExitCode(127)
    }
}

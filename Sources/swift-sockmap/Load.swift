import ArgumentParser
import SockmapAccelerator

extension DataPath.PolicyMode: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument {
        case "deny": self = .deny
        case "allow": self = .allow
        default: return nil
        }
    }
    public static var allValueStrings: [String] { ["deny", "allow"] }
}

struct Load: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load the BPF object, pin it and attach it to a cgroup.",
        discussion: """
            Creates the object's maps, loads its sock_ops and sk_msg programs, attaches the sk_msg \
            program to the SOCKHASH and the sock_ops program to the cgroup (created if missing), and \
            pins everything under --pin-dir. All or nothing: a failure undoes the earlier steps.
            """)

    @Argument(help: "The BPF object built by `make -C bpf` (e.g. bpf/redir.o).")
    var object: String

    @Option(help: "cgroup v2 directory to accelerate: absolute, or relative to the cgroup2 mount. Default: <mount>/swift-sockmap.")
    var cgroup: String?

    @Option(help: "Capacity of the SOCKHASH (sockets, two per connection). Extra sockets stay on plain TCP.")
    var maxEntries: UInt32?

    @Option(help: "Policy mode: 'deny' accelerates everything but listed ports/addresses; 'allow' only listed ones.")
    var policyMode: DataPath.PolicyMode = .deny

    @Flag(help: "If already loaded, swap in this object's programs without dropping tracked connections (maps are kept).")
    var replace = false

    @OptionGroup var options: InstallationOptions

    func validate() throws {
        if let maxEntries, maxEntries == 0 { throw ValidationError("--max-entries must be at least 1") }
    }

    func run() throws {
        let loadOptions = Accelerator.LoadOptions(objectPath: object, cgroup: cgroup, maxEntries: maxEntries, policyMode: policyMode)
        let state = try CLILog.reporting {
            replace ? try options.accelerator().replace(loadOptions) : try options.accelerator().load(loadOptions)
        }
        print("loaded \(object): accelerating TCP in cgroup \(state.cgroup) (pins in \(options.pinDirectory))")
        print("run a command inside it with: swift-sockmap run -- COMMAND")
    }
}

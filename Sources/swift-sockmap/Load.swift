import ArgumentParser
import EmbeddedDataPath
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
        commandName: "load",
        abstract: "Load the BPF object, pin it and attach it to a cgroup.",
        discussion: """
            Creates the object's maps, loads its sock_ops and sk_msg programs, attaches the sk_msg \
            program to the SOCKHASH and the sock_ops program to the cgroup (created if missing), and \
            pins everything under --pin-dir. All or nothing: a failure undoes the earlier steps. \
            Any sockmap object loads: its programs are found by type (sockops; sk_msg, or an \
            sk_skb/stream_parser + sk_skb/stream_verdict pair) and its SOCKHASH/SOCKMAP by what the \
            verdict program references (--map settles it).
            """)

    @Argument(help: "A BPF object (e.g. bpf/redir.o from `make -C bpf`, or any sockmap object). Default: the data path built into this binary.")
    var object: String?

    @Option(help: "cgroup v2 directory to accelerate: absolute, or relative to the cgroup2 mount. Default: <mount>/swift-sockmap.")
    var cgroup: String?

    @Option(name: .customLong("map"), help: ArgumentHelp(
        "The SOCKHASH or SOCKMAP to attach the verdict program to, when the object's verdict program references none or several.",
        valueName: "name"))
    var mapName: String?

    @Option(help: "Capacity of the SOCKHASH (sockets, two per connection; the sockets' state gets twice as much). Extra sockets stay on plain TCP.")
    var maxEntries: UInt32?

    @OptionGroup var policy: PolicyOptions

    @Flag(help: "If already loaded, swap in this object's programs without dropping tracked connections (maps are kept).")
    var replace = false

    @Option(name: .customLong("set"), help: ArgumentHelp(
        "Set a .rodata/.data variable of the object before loading, NAME=INTEGER (repeatable), e.g. debug=1 for `swift-sockmap trace`.",
        valueName: "name=value"))
    var globals: [String] = []

    @Option(name: .customLong("btf"), help: ArgumentHelp(
        "BTF file to resolve the object's CO-RE relocations against, instead of the running kernel's /sys/kernel/btf/vmlinux.",
        valueName: "PATH"))
    var btfPath: String?

    @OptionGroup var localNetworks: LocalNetworkOptions

    @OptionGroup var options: InstallationOptions

    func validate() throws {
        if let maxEntries, maxEntries == 0 { throw ValidationError("--max-entries must be at least 1") }
        if replace, maxEntries != nil {
            throw ValidationError("--max-entries cannot change with --replace: the SOCKHASH and its sockets are kept")
        }
        if replace, !policy.policyEntries.isEmpty {
            throw ValidationError("--policy cannot be given with --replace: the policy is kept (use `swift-sockmap policy add`)")
        }
        if replace, policy.policyMode != nil {
            throw ValidationError("--policy-mode cannot be given with --replace: the policy is kept (use `swift-sockmap policy mode`)")
        }
        _ = try parsedGlobals()
    }

    func run() throws {
        var loadOptions = Accelerator.LoadOptions(objectPath: object ?? EmbeddedDataPath.name, cgroup: cgroup, maxEntries: maxEntries)
        if object == nil { loadOptions.objectBytes = EmbeddedDataPath.bytes }
        policy.apply(to: &loadOptions)
        loadOptions.globals = try parsedGlobals()
        loadOptions.mapName = mapName
        loadOptions.btfPath = btfPath
        localNetworks.apply(to: &loadOptions)
        let state = try CLILog.reporting {
            replace ? try options.accelerator().replace(loadOptions) : try options.accelerator().load(loadOptions)
        }
        print("loaded \(loadOptions.objectPath): accelerating TCP in cgroup \(state.cgroup) (pins in \(options.pinDirectory))")
        if let adopted = state.listenersAdopted, let refused = state.listenersNotAdopted, adopted + refused > 0 {
            print("listeners opened before load: \(adopted) now pair their connections" + (refused > 0 ? ", \(refused) cannot on this kernel (before 6.12) and keep TCP until they listen again" : ""))
        }
        print("run a command inside it with: swift-sockmap run -- COMMAND")
    }

    /// `--set NAME=VALUE` pairs; values are decimal or 0x-prefixed hexadecimal integers.
    func parsedGlobals() throws -> [String: Int64] {
        var result: [String: Int64] = [:]
        for pair in globals {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--set \(pair): expected NAME=VALUE") }
            let text = parts[1]
            let value = text.hasPrefix("0x") ? Int64(text.dropFirst(2), radix: 16) : Int64(text)
            guard let value else { throw ValidationError("--set \(pair): \(text) is not an integer") }
            result[parts[0]] = value
        }
        return result
    }
}

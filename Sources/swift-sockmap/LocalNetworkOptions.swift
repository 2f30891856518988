import ArgumentParser
import SockmapAccelerator

/// Where the SYNs' pairing tokens may go, for `load` and `agent`.
struct LocalNetworkOptions: ParsableArguments {
    @Option(name: .customLong("local-prefix"), help: ArgumentHelp(
        "A prefix whose addresses are on this host (CIDR: 10.88.0.0/16, fd00::/64), for the SYNs' pairing tokens, besides loopback, the addresses of every network namespace found and the subnets of container bridges (repeatable). List only this host's addresses: a token sent elsewhere leaves the host.",
        valueName: "CIDR"))
    var localPrefixes: [String] = []

    @Flag(help: "Write pairing tokens only toward loopback, each socket's own address and --local-prefix, without looking for the host's namespaces and bridges.")
    var noDiscoverLocal = false

    func validate() throws {
        for prefix in localPrefixes where LocalNetwork(cidr: prefix) == nil {
            throw ValidationError("--local-prefix \(prefix) is not an address prefix (10.88.0.0/16, fd00::/64)")
        }
    }

    /// Puts the prefixes and the discovery choice into `options`.
    func apply(to options: inout Accelerator.LoadOptions) {
        options.localPrefixes = localPrefixes.compactMap { LocalNetwork(cidr: $0) }
        options.discoverLocalNetworks = !noDiscoverLocal
    }
}

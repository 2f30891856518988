import SockmapAccelerator

/// Why the agent could not start (or stop cleanly). Each case is one line for the operator.
package enum AgentError: Error, CustomStringConvertible {
    /// The listen address is not loopback and `--allow-external` was not given.
    case externalAddress(ListenAddress)
    /// `--listen` could not be parsed.
    case badAddress(String)
    /// Another agent holds the pin directory.
    case pinDirectoryTaken(pinDir: String)
    /// The agent's lock could not be taken for another reason.
    case lock(path: String, reason: String)
    /// The HTTP server could not bind.
    case listen(ListenAddress, reason: String)
    /// The installation is live but for another cgroup than the one asked for.
    case otherCgroup(pinDir: String, running: String, wanted: String)
    /// An accelerator operation failed.
    case accelerator(AcceleratorError)

    package var description: String {
        switch self {
        case .externalAddress(let address):
            return "refusing to serve on \(address): it is reachable from other hosts; give a loopback address (the default is \(ListenAddress.default)) or --allow-external"
        case .badAddress(let text): return text
        case .pinDirectoryTaken(let pinDir):
            return "another swift-sockmap agent already serves the pin directory \(pinDir): stop it first, or give this one another --pin-dir"
        case .lock(let path, let reason): return "\(path): cannot take the agent's lock: \(reason)"
        case .listen(let address, let reason): return "cannot listen on \(address): \(reason)"
        case .otherCgroup(let pinDir, let running, let wanted):
            return "the installation in \(pinDir) accelerates cgroup \(running), not \(wanted): detach it first, or run the agent with --cgroup \(running)"
        case .accelerator(let error): return error.description
        }
    }

    /// The exit status: the CLI's codes (1 failed, 3 taken, 64 bad usage, 77 not root).
    package var exitCode: Int32 {
        switch self {
        case .externalAddress, .badAddress: 64
        case .pinDirectoryTaken: 3
        case .accelerator(.notRoot): 77
        case .accelerator(.alreadyLoaded), .accelerator(.cgroupTaken), .otherCgroup: 3
        default: 1
        }
    }
}

import BPFLoader
import SystemPackage

/// Why an accelerator operation could not be done. Each case says what is missing or wrong.
public enum AcceleratorError: Error, Sendable, CustomStringConvertible {
    /// The caller is not root.
    case notRoot
    /// No cgroup2 file system is mounted.
    case noCgroup2Mount
    /// The cgroup directory does not exist.
    case cgroupNotFound(path: String)
    /// The given cgroup path lies outside the cgroup2 mount.
    case cgroupNotUnderMount(path: String, mount: String)
    /// No BPF file system covers the pin directory and none could be mounted.
    case bpffsUnavailable(path: String, reason: String)
    /// An installation is already live in the pin directory.
    case alreadyLoaded(pinDir: String, cgroup: String)
    /// The cgroup already runs a program of that name from another installation (another pin directory).
    case cgroupTaken(cgroup: String, program: String, id: ProgramID)
    /// Nothing is pinned in the pin directory.
    case notLoaded(pinDir: String)
    /// Pins exist, but whether their programs are attached cannot be told.
    case unverifiable(pinDir: String, reason: String)
    /// The BPF object cannot be read, parsed or configured.
    case objectUnusable(path: String, reason: String)
    /// The object has no program of the kind needed.
    case missingProgram(kind: String, path: String)
    /// The object has no map of that name.
    case missingMap(name: String, path: String)
    /// A bpf(2) command failed.
    case kernel(BPFError)
    /// A key or value that does not fit a map's layout (refused before any system call).
    case map(BPFMapError)
    /// Something at `path` could not be done, as `reason` says.
    case io(path: String, reason: String)
    /// A host-system call on `path` failed: `operation` says what was being done ("move pins
    /// aside"), `errno` why.
    case systemCall(path: String, operation: String, errno: Errno)
    /// A policy entry is neither a port nor an IP address.
    case badPolicyEntry(String)
    /// The loaded object lacks the maps a feature needs (it is not built from `bpf/redir.c`).
    case notProvided(feature: String, object: String)
    /// The running kernel lacks a feature the accelerator needs (see `KernelSupport`).
    case kernelFeatureMissing(feature: KernelFeature, running: String)

    /// What went wrong and, where there is one, what to do about it.
    public var description: String {
        switch self {
        case .notRoot:
            return "swift-sockmap needs root (CAP_BPF, CAP_NET_ADMIN and write access to cgroups): run it with sudo"
        case .noCgroup2Mount:
            return "no cgroup2 file system is mounted (none in /proc/self/mountinfo): mount one, e.g. `mount -t cgroup2 none /sys/fs/cgroup`"
        case .cgroupNotFound(let path): return "cgroup \(path) does not exist"
        case .cgroupNotUnderMount(let path, let mount): return "\(path) is not a cgroup v2 directory under \(mount)"
        case .bpffsUnavailable(let path, let reason): return "cannot use the BPF file system at \(path): \(reason)"
        case .alreadyLoaded(let pinDir, let cgroup):
            return "already loaded (pins in \(pinDir), attached to cgroup \(cgroup)): run `swift-sockmap detach` first, or `load --replace` to swap programs"
        case .cgroupTaken(let cgroup, let program, let id):
            return "cgroup \(cgroup) is already accelerated by another installation (program \(program), id \(id)): detach that one (with its --pin-dir) first"
        case .notLoaded(let pinDir): return "not loaded: nothing is pinned in \(pinDir)"
        case .unverifiable(let pinDir, let reason):
            return "cannot tell whether the installation in \(pinDir) is live (\(reason)); nothing was changed; `swift-sockmap detach --force` removes it"
        case .objectUnusable(let path, let reason): return "\(path): \(reason)"
        case .missingProgram(let kind, let path): return "\(path) has no \(kind) program"
        case .missingMap(let name, let path): return "\(path) has no map named \(name)"
        case .kernel(let error): return error.description
        case .map(let error): return error.description
        case .io(let path, let reason): return "\(path): \(reason)"
        case .systemCall(let path, let operation, let errno): return "\(path): cannot \(operation): \(errno)"
        case .notProvided(let feature, let object):
            return "\(object) does not provide \(feature): it has no counters and config maps of swift-sockmap's data path (bpf/redir.c)"
        case .kernelFeatureMissing(let feature, let running):
            return "this kernel (\(running)) lacks \(feature.summary), which first appeared in Linux \(feature.firstKernel): "
                + KernelSupport.consequence(feature)
        case .badPolicyEntry(let text): return "bad policy entry \"\(text)\": expected a port (1-65535) or an IPv4/IPv6 address"
        }
    }
}

extension AcceleratorError {
    /// A failed map operation: the kernel's error as `.kernel`, a refused key or value as `.map`.
    package init(_ error: BPFMapError) {
        if case .kernel(let kernelError) = error { self = .kernel(kernelError) } else { self = .map(error) }
    }
}

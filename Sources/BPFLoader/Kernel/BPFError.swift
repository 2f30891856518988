import BPFObject
import SystemPackage

/// A `bpf(2)` command failed. Carries the command, the errno, what was being done, and for
/// `BPF_PROG_LOAD` the verifier's log.
public struct BPFError: Error, Sendable, CustomStringConvertible {
    /// The command that failed.
    public let command: BPFCommand
    /// The error the kernel returned.
    public let errno: Errno
    /// What the loader was doing, e.g. "create map sock_hash" or "load program sockmap_redirect".
    public let context: String
    /// The verifier log, when the kernel produced one.
    public let verifierLog: String?

    /// An error of `command` with `errno`, `context` saying what was being done.
    public init(command: BPFCommand, errno: Errno, context: String, verifierLog: String? = nil) {
        self.command = command
        self.errno = errno
        self.context = context
        self.verifierLog = verifierLog
    }

    /// One line: the context, the command and the errno, for `EPERM` its likely cause; then the
    /// last 30 lines of the verifier log, if any.
    public var description: String {
        var text = "\(context): \(command) failed: \(errno) (errno \(errno.rawValue))"
        switch errno {
        case .notPermitted: text += " — " + Self.permissionCause()
        case .invalidArgument where command == .progAttach: text += " — the kernel rejected the attachment"
        default: break
        }
        if let log = verifierLog, !log.isEmpty {
            text += "\nverifier log (last lines):\n" + log.split(separator: "\n").suffix(30).joined(separator: "\n")
        }
        return text
    }
}

extension BPFError {
    /// What an `EPERM` most likely means, judged from who the caller is and its memlock limit.
    static func permissionCause() -> String {
        guard HostSystem.isRoot else { return "run as root (CAP_BPF and CAP_NET_ADMIN are needed)" }
        if MemlockLimit.kernelCharges, let limit = MemlockLimit.current {
            let raise = MemlockLimit.raised.map { " (raising it failed: errno \($0))" } ?? ""
            return "running as root, but RLIMIT_MEMLOCK is \(limit) bytes\(raise): kernels before 5.11 charge BPF memory "
                + "to it; raise it (ulimit -l unlimited, LimitMEMLOCK=infinity, or CAP_SYS_RESOURCE)"
        }
        return "denied although running as root: kernel lockdown, a security module (SELinux, AppArmor), "
            + "kernel.unprivileged_bpf_disabled in a user namespace, or a container without CAP_BPF/CAP_SYS_ADMIN"
    }
}

/// A `bpf(2)` command number (`enum bpf_cmd`).
public struct BPFCommand: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    /// `BPF_MAP_CREATE`.
    public static let mapCreate = BPFCommand(rawValue: 0)
    /// `BPF_MAP_LOOKUP_ELEM`.
    public static let mapLookupElem = BPFCommand(rawValue: 1)
    /// `BPF_MAP_UPDATE_ELEM`.
    public static let mapUpdateElem = BPFCommand(rawValue: 2)
    /// `BPF_MAP_DELETE_ELEM`.
    public static let mapDeleteElem = BPFCommand(rawValue: 3)
    /// `BPF_MAP_GET_NEXT_KEY`.
    public static let mapGetNextKey = BPFCommand(rawValue: 4)
    /// `BPF_PROG_LOAD`.
    public static let progLoad = BPFCommand(rawValue: 5)
    /// `BPF_OBJ_PIN`.
    public static let objPin = BPFCommand(rawValue: 6)
    /// `BPF_OBJ_GET`.
    public static let objGet = BPFCommand(rawValue: 7)
    /// `BPF_PROG_ATTACH`.
    public static let progAttach = BPFCommand(rawValue: 8)
    /// `BPF_PROG_DETACH`.
    public static let progDetach = BPFCommand(rawValue: 9)
    /// `BPF_PROG_GET_FD_BY_ID`.
    public static let progGetFDByID = BPFCommand(rawValue: 13)
    /// `BPF_MAP_GET_FD_BY_ID`.
    public static let mapGetFDByID = BPFCommand(rawValue: 14)
    /// `BPF_OBJ_GET_INFO_BY_FD`.
    public static let objGetInfoByFD = BPFCommand(rawValue: 15)
    /// `BPF_PROG_TEST_RUN`.
    public static let progTestRun = BPFCommand(rawValue: 10)
    /// `BPF_PROG_QUERY`.
    public static let progQuery = BPFCommand(rawValue: 16)
    /// `BPF_BTF_LOAD`.
    public static let btfLoad = BPFCommand(rawValue: 18)
    /// `BPF_MAP_FREEZE`.
    public static let mapFreeze = BPFCommand(rawValue: 22)
    /// `BPF_LINK_CREATE`.
    public static let linkCreate = BPFCommand(rawValue: 28)
    /// `BPF_ENABLE_STATS`.
    public static let enableStats = BPFCommand(rawValue: 32)
    /// `BPF_ITER_CREATE`.
    public static let iterCreate = BPFCommand(rawValue: 33)

    public var description: String {
        switch self {
        case .mapCreate: "BPF_MAP_CREATE"
        case .mapLookupElem: "BPF_MAP_LOOKUP_ELEM"
        case .mapUpdateElem: "BPF_MAP_UPDATE_ELEM"
        case .mapDeleteElem: "BPF_MAP_DELETE_ELEM"
        case .mapGetNextKey: "BPF_MAP_GET_NEXT_KEY"
        case .progLoad: "BPF_PROG_LOAD"
        case .objPin: "BPF_OBJ_PIN"
        case .objGet: "BPF_OBJ_GET"
        case .progAttach: "BPF_PROG_ATTACH"
        case .progDetach: "BPF_PROG_DETACH"
        case .progGetFDByID: "BPF_PROG_GET_FD_BY_ID"
        case .mapGetFDByID: "BPF_MAP_GET_FD_BY_ID"
        case .objGetInfoByFD: "BPF_OBJ_GET_INFO_BY_FD"
        case .progTestRun: "BPF_PROG_TEST_RUN"
        case .progQuery: "BPF_PROG_QUERY"
        case .btfLoad: "BPF_BTF_LOAD"
        case .mapFreeze: "BPF_MAP_FREEZE"
        case .linkCreate: "BPF_LINK_CREATE"
        case .enableStats: "BPF_ENABLE_STATS"
        case .iterCreate: "BPF_ITER_CREATE"
        default: "bpf command \(rawValue)"
        }
    }
}

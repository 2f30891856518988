/// A program type (`enum bpf_prog_type`).
public struct ProgramType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `BPF_PROG_TYPE_SOCKET_FILTER`.
    public static let socketFilter = ProgramType(rawValue: 1)
    /// `BPF_PROG_TYPE_SCHED_CLS`.
    public static let schedCls = ProgramType(rawValue: 3)
    /// `BPF_PROG_TYPE_XDP`.
    public static let xdp = ProgramType(rawValue: 6)
    /// `BPF_PROG_TYPE_CGROUP_SKB`.
    public static let cgroupSkb = ProgramType(rawValue: 8)
    /// `BPF_PROG_TYPE_SOCK_OPS`.
    public static let sockOps = ProgramType(rawValue: 13)
    /// `BPF_PROG_TYPE_SK_SKB`.
    public static let skSkb = ProgramType(rawValue: 14)
    /// `BPF_PROG_TYPE_SK_MSG`.
    public static let skMsg = ProgramType(rawValue: 16)
    /// `BPF_PROG_TYPE_RAW_TRACEPOINT`.
    public static let rawTracepoint = ProgramType(rawValue: 17)
    /// `BPF_PROG_TYPE_TRACING` (fentry/fexit and BPF iterators).
    public static let tracing = ProgramType(rawValue: 26)

    public var description: String {
        switch self {
        case .socketFilter: "socket_filter"
        case .schedCls: "sched_cls"
        case .xdp: "xdp"
        case .cgroupSkb: "cgroup_skb"
        case .sockOps: "sock_ops"
        case .skSkb: "sk_skb"
        case .skMsg: "sk_msg"
        case .rawTracepoint: "raw_tracepoint"
        case .tracing: "tracing"
        default: "type \(rawValue)"
        }
    }
}

/// An attach type (`enum bpf_attach_type`).
public struct AttachType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// `BPF_CGROUP_INET_INGRESS`.
    public static let cgroupInetIngress = AttachType(rawValue: 0)
    /// `BPF_CGROUP_INET_EGRESS`.
    public static let cgroupInetEgress = AttachType(rawValue: 1)
    /// `BPF_CGROUP_SOCK_OPS`.
    public static let cgroupSockOps = AttachType(rawValue: 3)
    /// `BPF_SK_SKB_STREAM_PARSER`.
    public static let skSkbStreamParser = AttachType(rawValue: 4)
    /// `BPF_SK_SKB_STREAM_VERDICT`.
    public static let skSkbStreamVerdict = AttachType(rawValue: 5)
    /// `BPF_SK_MSG_VERDICT`.
    public static let skMsgVerdict = AttachType(rawValue: 7)
    /// `BPF_TRACE_ITER`: a BPF iterator (`iter/…` sections).
    public static let traceIter = AttachType(rawValue: 28)

    public var description: String {
        switch self {
        case .cgroupInetIngress: "cgroup_inet_ingress"
        case .cgroupInetEgress: "cgroup_inet_egress"
        case .cgroupSockOps: "cgroup_sock_ops"
        case .skSkbStreamParser: "sk_skb_stream_parser"
        case .skSkbStreamVerdict: "sk_skb_stream_verdict"
        case .skMsgVerdict: "sk_msg_verdict"
        case .traceIter: "trace_iter"
        default: "attach type \(rawValue)"
        }
    }
}

/// How an instruction of a linked program refers to a map.
package struct MapReference: Sendable, Equatable {
    /// What the instruction's immediate is to become.
    public enum Kind: Sendable, Equatable {
        /// `ld_imm64 rX, map` → `BPF_PSEUDO_MAP_FD`.
        case fd
        /// `ld_imm64 rX, &global + offset` → `BPF_PSEUDO_MAP_VALUE`.
        case value(offset: UInt32)
    }

    /// Index of the (first half of the) ld_imm64 in the linked program.
    public let instruction: Int
    /// The map referred to.
    public let mapName: String
    /// A map's fd, or an address inside its value.
    public let kind: Kind
}

/// One program of an object: its entry function with every called subprogram appended.
public struct ProgramSpec: Sendable, Equatable {
    /// The entry function's symbol name.
    public var name: String
    /// The ELF section the program is in (`sk_msg`, `sockops`).
    public var sectionName: String
    /// The program type, from the section name.
    public var type: ProgramType
    /// The attach type the kernel checks at load time (`expected_attach_type`), if the type has one.
    public var expectedAttachType: AttachType?
    /// The attach type `attach` uses by default for this section.
    public var defaultAttachType: AttachType?
    /// The kernel function a tracing program attaches to, looked up by name in the kernel's BTF
    /// at load time (`bpf_iter_tcp` for an `iter/tcp` section); nil for other programs.
    public var attachFunction: String? = nil
    /// The BTF id of `attachFunction` in the target kernel's BTF (`attach_btf_id`), set with the
    /// CO-RE relocations (`ObjectSpec.relocatingCORE(against:)`); 0 until then.
    package var attachBTFID: UInt32 = 0
    /// The linked instructions: the entry function, then each called subprogram.
    package var instructions: [Instruction]
    /// Instructions that refer to a map, patched with the map's fd at load time.
    package var mapReferences: [MapReference]
    /// The object's license.
    public var license: String
    /// The object's kernel version (`version` section), 0 when absent.
    public var kernelVersion: UInt32
    /// This program's func_info and line_info from `.BTF.ext`, rebased onto `instructions`, so
    /// the verifier names functions and prints source lines (used only when BTF is loaded).
    package var btfExtInfo: BTFExtInfo? = nil
    /// CO-RE relocations not yet applied, rebased onto `instructions` (see
    /// `ObjectSpec.relocatingCORE(against:)`); empty once applied.
    package var coreRelocations: [CORERelocation] = []
    /// Relocations applied by poisoning their instruction (the target lacks the field): if the
    /// verifier reaches one, it reports a call to unknown helper 195896080.
    package var poisonedCORE: [CORERelocation] = []
}

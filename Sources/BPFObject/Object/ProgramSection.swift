/// The conventional ELF section names for program types, as libbpf and clang users write them.
package struct ProgramSection: Sendable {
    /// The section name or its first component (`sk_msg`, `cgroup_skb/ingress`).
    package let prefix: String
    /// The program type such sections hold.
    package let type: ProgramType
    /// The `expected_attach_type` the kernel checks at load time, if any.
    package let expectedAttachType: AttachType?
    /// The attach type used to attach such programs, if they attach with `BPF_PROG_ATTACH`.
    package let attachType: AttachType?
    /// Whether names may continue after the prefix with "/anything".
    package let allowsSuffix: Bool

    /// The sections this loader recognises, in match order: the more specific
    /// `sk_skb/stream_parser` before `sk_skb`.
    package static let known: [ProgramSection] = [
        .init(prefix: "sockops", type: .sockOps, expectedAttachType: nil, attachType: .cgroupSockOps, allowsSuffix: true),
        .init(prefix: "sk_msg", type: .skMsg, expectedAttachType: .skMsgVerdict, attachType: .skMsgVerdict, allowsSuffix: true),
        .init(prefix: "sk_skb/stream_parser", type: .skSkb, expectedAttachType: .skSkbStreamParser, attachType: .skSkbStreamParser, allowsSuffix: true),
        .init(prefix: "sk_skb/stream_verdict", type: .skSkb, expectedAttachType: .skSkbStreamVerdict, attachType: .skSkbStreamVerdict, allowsSuffix: true),
        .init(prefix: "sk_skb", type: .skSkb, expectedAttachType: nil, attachType: nil, allowsSuffix: true),
        .init(prefix: "socket", type: .socketFilter, expectedAttachType: nil, attachType: nil, allowsSuffix: true),
        .init(prefix: "xdp", type: .xdp, expectedAttachType: nil, attachType: nil, allowsSuffix: true),
        .init(prefix: "tc", type: .schedCls, expectedAttachType: nil, attachType: nil, allowsSuffix: true),
        .init(prefix: "classifier", type: .schedCls, expectedAttachType: nil, attachType: nil, allowsSuffix: true),
        .init(prefix: "cgroup_skb/ingress", type: .cgroupSkb, expectedAttachType: .cgroupInetIngress, attachType: .cgroupInetIngress, allowsSuffix: false),
        .init(prefix: "cgroup_skb/egress", type: .cgroupSkb, expectedAttachType: .cgroupInetEgress, attachType: .cgroupInetEgress, allowsSuffix: false),
        .init(prefix: "raw_tp", type: .rawTracepoint, expectedAttachType: nil, attachType: nil, allowsSuffix: true),
        .init(prefix: "raw_tracepoint", type: .rawTracepoint, expectedAttachType: nil, attachType: nil, allowsSuffix: true),
        .init(prefix: "iter", type: .tracing, expectedAttachType: .traceIter, attachType: nil, allowsSuffix: true),
    ]

    /// The kernel function a program of section `name` attaches to, for sections that name one:
    /// `bpf_iter_TARGET` for `iter/TARGET` (the kernel's `DEFINE_BPF_ITER_FUNC`), nil otherwise.
    package func attachFunction(section name: String) -> String? {
        guard expectedAttachType == .traceIter, name.hasPrefix(prefix + "/") else { return nil }
        return "bpf_iter_" + name.dropFirst(prefix.count + 1)
    }

    /// The first entry whose prefix is the whole name or the name up to a "/".
    package static func match(_ name: String) -> ProgramSection? {
        known.first { name == $0.prefix || ($0.allowsSuffix && name.hasPrefix($0.prefix + "/")) }
    }
}

/// A BPF capability of the running kernel that the accelerator depends on or reports, with the
/// first mainline kernel that has it: the catalogue `swift-sockmap probe` lists. What each one is
/// for, and what `load` does without it, is `KernelSupport`'s.
public enum KernelFeature: String, CaseIterable, Sendable, Codable {
    /// BTF type information (BPF_BTF_LOAD).
    case btf
    /// SOCKHASH map with 8-byte values (socket cookies).
    case sockhashMap = "map.sockhash"
    /// Socket-local storage map (BPF_MAP_TYPE_SK_STORAGE).
    case skStorageMap = "map.sk_storage"
    /// `BPF_MAP_TYPE_PERCPU_ARRAY`, which holds the counters.
    case percpuArrayMap = "map.percpu_array"
    /// `BPF_PROG_TYPE_SOCK_OPS`: the program that puts sockets in the SOCKHASH.
    case sockOpsProgram = "prog.sock_ops"
    /// `BPF_PROG_TYPE_SK_MSG`: the program that redirects each send.
    case skMsgProgram = "prog.sk_msg"
    /// `bpf_get_netns_cookie` callable from sock_ops (keys a socket by its namespace).
    case netnsCookieInSockOps = "helper.sock_ops.get_netns_cookie"
    /// `bpf_get_netns_cookie` callable from sk_msg.
    case netnsCookieInSkMsg = "helper.sk_msg.get_netns_cookie"
    /// `bpf_sock_hash_update` callable from sock_ops.
    case sockHashUpdateInSockOps = "helper.sock_ops.sock_hash_update"
    /// `bpf_sk_storage_get` callable from sock_ops.
    case skStorageGetInSockOps = "helper.sock_ops.sk_storage_get"
    /// `bpf_sk_storage_get` callable from sk_msg.
    case skStorageGetInSkMsg = "helper.sk_msg.sk_storage_get"
    /// `bpf_msg_redirect_hash` callable from sk_msg: the redirect itself.
    case msgRedirectHashInSkMsg = "helper.sk_msg.msg_redirect_hash"
    /// `bpf_skc_to_tcp_sock` callable from sock_ops.
    case skcToTCPSockInSockOps = "helper.sock_ops.skc_to_tcp_sock"
    /// `bpf_skc_to_tcp_sock` callable from sk_msg.
    case skcToTCPSockInSkMsg = "helper.sk_msg.skc_to_tcp_sock"
    /// `BPF_F_REPLACE` for cgroup attachments, which `replace` swaps programs with.
    case cgroupAttachReplace = "attach.replace"
    /// BPF memory charged to memory cgroups, not RLIMIT_MEMLOCK.
    case memcgAccounting = "memcg_accounting"
    /// TCP header options written and read by sock_ops (bpf_store_hdr_opt and its siblings).
    case headerOptionsInSockOps = "helper.sock_ops.store_hdr_opt"
    /// BPF atomic compare-and-exchange instructions (BPF_ATOMIC | BPF_CMPXCHG).
    case atomicCompareExchange = "insn.atomic_cmpxchg"

    /// One line saying what the feature is.
    public var summary: String {
        switch self {
        case .btf: "BTF type information (BPF_BTF_LOAD)"
        case .sockhashMap: "SOCKHASH map with 8-byte values (socket cookies)"
        case .skStorageMap: "socket-local storage map (BPF_MAP_TYPE_SK_STORAGE)"
        case .percpuArrayMap: "per-CPU array map"
        case .sockOpsProgram: "sock_ops programs"
        case .skMsgProgram: "sk_msg programs"
        case .netnsCookieInSockOps: "bpf_get_netns_cookie in sock_ops"
        case .netnsCookieInSkMsg: "bpf_get_netns_cookie in sk_msg"
        case .sockHashUpdateInSockOps: "bpf_sock_hash_update in sock_ops"
        case .skStorageGetInSockOps: "bpf_sk_storage_get in sock_ops"
        case .skStorageGetInSkMsg: "bpf_sk_storage_get in sk_msg"
        case .msgRedirectHashInSkMsg: "bpf_msg_redirect_hash in sk_msg"
        case .skcToTCPSockInSockOps: "bpf_skc_to_tcp_sock in sock_ops"
        case .skcToTCPSockInSkMsg: "bpf_skc_to_tcp_sock in sk_msg"
        case .cgroupAttachReplace: "BPF_F_REPLACE for cgroup attachments"
        case .memcgAccounting: "BPF memory charged to memory cgroups, not RLIMIT_MEMLOCK"
        case .headerOptionsInSockOps: "TCP header options in sock_ops (bpf_store_hdr_opt)"
        case .atomicCompareExchange: "atomic compare-and-exchange instructions"
        }
    }

    /// The first mainline release that has the feature, as "major.minor".
    public var firstKernel: String {
        switch self {
        case .btf, .sockhashMap, .skMsgProgram, .msgRedirectHashInSkMsg, .sockHashUpdateInSockOps: "4.18"
        case .skStorageMap: "5.2"
        case .percpuArrayMap: "4.6"
        case .sockOpsProgram: "4.13"
        case .netnsCookieInSockOps, .netnsCookieInSkMsg: "5.15"
        case .skStorageGetInSockOps: "5.10"
        case .skStorageGetInSkMsg: "5.8"
        case .skcToTCPSockInSockOps, .skcToTCPSockInSkMsg: "5.9"
        case .cgroupAttachReplace: "5.6"
        case .memcgAccounting: "5.11"
        case .headerOptionsInSockOps: "5.10"
        case .atomicCompareExchange: "5.12"
        }
    }
}

/// What a probe found out about one feature.
package struct FeatureResult: Sendable, Equatable, Codable {
    /// The feature probed.
    package let feature: KernelFeature
    /// Whether the running kernel has it.
    package let supported: Bool
    /// How it was decided, e.g. "the verifier: unknown func bpf_get_netns_cookie#122", or the
    /// errno of the probe, or "kernel 5.10 (from the release)".
    package let detail: String

    /// A result; `detail` says how it was decided.
    package init(feature: KernelFeature, supported: Bool, detail: String) {
        self.feature = feature
        self.supported = supported
        self.detail = detail
    }
}

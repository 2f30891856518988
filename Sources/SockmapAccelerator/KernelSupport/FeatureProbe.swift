import BPFLoader
import BPFObject

/// Probes the running kernel for each `KernelFeature` through the loader's `KernelProbe`: a map,
/// a program or a helper call the kernel accepts or refuses; for `BPF_F_REPLACE`, the release.
/// Needs root, like loading does.
package enum FeatureProbe {
    /// Probes every feature, in catalogue order.
    package static func all() -> [FeatureResult] {
        KernelFeature.allCases.map(probe)
    }

    /// Probes one feature. Never throws: a failed probe is an unsupported result.
    package static func probe(_ feature: KernelFeature) -> FeatureResult {
        let outcome: KernelProbe.Outcome
        switch feature {
        case .btf: outcome = KernelProbe.btf()
        case .sockhashMap: outcome = KernelProbe.map(type: .sockhash, keySize: 4, valueSize: 8)
        // SK_STORAGE maps need BTF for their key and value (the kernel checks the key is an int).
        case .skStorageMap:
            outcome = KernelProbe.map(type: .skStorage, keySize: 4, valueSize: 4, flags: .noPrealloc, maxEntries: 0, intBTF: true)
        case .percpuArrayMap: outcome = KernelProbe.map(type: .percpuArray, keySize: 4, valueSize: 8)
        case .sockOpsProgram: outcome = KernelProbe.program(type: .sockOps, helper: nil)
        case .skMsgProgram: outcome = KernelProbe.program(type: .skMsg, helper: nil)
        case .netnsCookieInSockOps: outcome = KernelProbe.program(type: .sockOps, helper: .getNetnsCookie)
        case .netnsCookieInSkMsg: outcome = KernelProbe.program(type: .skMsg, helper: .getNetnsCookie)
        case .sockHashUpdateInSockOps: outcome = KernelProbe.program(type: .sockOps, helper: .sockHashUpdate)
        case .skStorageGetInSockOps: outcome = KernelProbe.program(type: .sockOps, helper: .skStorageGet)
        case .skStorageGetInSkMsg: outcome = KernelProbe.program(type: .skMsg, helper: .skStorageGet)
        case .msgRedirectHashInSkMsg: outcome = KernelProbe.program(type: .skMsg, helper: .msgRedirectHash)
        case .skcToTCPSockInSockOps: outcome = KernelProbe.program(type: .sockOps, helper: .skcToTCPSock)
        case .skcToTCPSockInSkMsg: outcome = KernelProbe.program(type: .skMsg, helper: .skcToTCPSock)
        case .cgroupAttachReplace: return fromRelease(feature)
        // libbpf's probe: bpf_ktime_get_coarse_ns arrived in the same release (5.11) as memcg accounting.
        case .memcgAccounting: outcome = KernelProbe.program(type: .socketFilter, helper: .ktimeGetCoarseNs)
        case .headerOptionsInSockOps: outcome = KernelProbe.program(type: .sockOps, helper: .storeHeaderOption)
        case .atomicCompareExchange: outcome = KernelProbe.atomicCompareExchange()
        }
        return FeatureResult(feature: feature, supported: outcome.supported, detail: outcome.detail)
    }

    /// Attach semantics cannot be probed without a cgroup to attach to; the release decides.
    static func fromRelease(_ feature: KernelFeature) -> FeatureResult {
        guard let release = KernelRelease.running, let first = KernelRelease(feature.firstKernel) else {
            return FeatureResult(feature: feature, supported: false, detail: "kernel release unknown")
        }
        return FeatureResult(feature: feature, supported: release >= first,
                             detail: "kernel \(release.major).\(release.minor) (decided by the release)")
    }
}

/// The helpers the accelerator's features call (`enum bpf_func_id`).
extension KernelProbe.Helper {
    static let sockHashUpdate = Self(id: 70, name: "bpf_sock_hash_update")
    static let msgRedirectHash = Self(id: 71, name: "bpf_msg_redirect_hash")
    static let skStorageGet = Self(id: 107, name: "bpf_sk_storage_get")
    static let getNetnsCookie = Self(id: 122, name: "bpf_get_netns_cookie")
    static let skcToTCPSock = Self(id: 137, name: "bpf_skc_to_tcp_sock")
    static let storeHeaderOption = Self(id: 143, name: "bpf_store_hdr_opt")
    static let ktimeGetCoarseNs = Self(id: 160, name: "bpf_ktime_get_coarse_ns")
}

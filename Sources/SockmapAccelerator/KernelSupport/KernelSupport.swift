import BPFLoader

/// What the accelerator does about each kernel feature, and the check `load` runs before it
/// creates anything: a kernel missing a required feature is refused with one line naming the
/// feature and the first kernel that has it. There is no weaker fallback: without the
/// network-namespace cookie in sock_ops, the fingerprint that ties a listener's answer to its
/// connection could match a connection of another namespace with the same 4-tuple.
public enum KernelSupport {
    /// How the accelerator depends on a feature.
    public enum Need: String, Sendable, Codable {
        /// `load` refuses without it.
        case required
        /// Something works differently without it (the `consequence` says what).
        case adapted
        /// Reported only; the accelerator does not use it.
        case informational
    }

    /// How much the accelerator depends on `feature`.
    package static func need(_ feature: KernelFeature) -> Need {
        switch feature {
        case .btf, .sockhashMap, .percpuArrayMap, .sockOpsProgram, .skMsgProgram,
             .netnsCookieInSockOps, .sockHashUpdateInSockOps, .msgRedirectHashInSkMsg, .headerOptionsInSockOps,
             .atomicCompareExchange, .skcToTCPSockInSockOps, .skcToTCPSockInSkMsg:
            .required
        case .cgroupAttachReplace, .memcgAccounting: .adapted
        case .skStorageMap, .skStorageGetInSockOps, .skStorageGetInSkMsg, .netnsCookieInSkMsg:
            .informational
        }
    }

    /// What the accelerator does when the feature is missing.
    package static func consequence(_ feature: KernelFeature) -> String {
        switch feature {
        case .btf: "load refuses: the object's maps are BTF-defined (.maps)"
        case .sockhashMap: "load refuses: the SOCKHASH holds the accelerated sockets"
        case .percpuArrayMap: "load refuses: the counters are a per-CPU array"
        case .sockOpsProgram, .sockHashUpdateInSockOps: "load refuses: sock_ops inserts established sockets"
        case .skMsgProgram, .msgRedirectHashInSkMsg: "load refuses: sk_msg redirects each send"
        case .netnsCookieInSockOps:
            "load refuses: the pairing fingerprints each connection with its network namespace, or equal 4-tuples in two namespaces could claim each other's tokens"
        case .headerOptionsInSockOps: "load refuses: connections are paired by a token in the SYN and an echo in the SYN-ACK"
        case .atomicCompareExchange: "load refuses: the first listener to answer a token must be its only owner (compare-and-exchange)"
        case .cgroupAttachReplace: "load --replace refuses; use detach then load"
        case .memcgAccounting: "RLIMIT_MEMLOCK is raised to unlimited before loading (kernels before 5.11 charge it)"
        case .skStorageMap, .skStorageGetInSockOps, .skStorageGetInSkMsg:
            "nothing: not used (each socket's state is in a hash map keyed by its cookie)"
        case .skcToTCPSockInSockOps:
            "load refuses: the release of a connection with a side on TCP reads the socket's queues"
        case .skcToTCPSockInSkMsg: "load refuses: sk_msg reads its socket's cookie, the key of its state"
        case .netnsCookieInSkMsg: "nothing: not used"
        }
    }

    /// The first required feature `results` lack, or nil when `load` can go ahead.
    package static func firstMissingRequirement(in results: [FeatureResult]) -> FeatureResult? {
        results.first { !$0.supported && need($0.feature) == .required }
    }

    /// Probes the required features (once per process) and throws when one is missing.
    package static func requireLoadable() throws(AcceleratorError) {
        if let missing = firstMissingRequirement(in: requiredResults) {
            throw .kernelFeatureMissing(feature: missing.feature, running: KernelRelease.running?.text ?? "unknown")
        }
    }

    /// Throws when `load --replace` cannot swap programs on this kernel.
    package static func requireReplaceable() throws(AcceleratorError) {
        let result = FeatureProbe.probe(.cgroupAttachReplace)
        if !result.supported {
            throw .kernelFeatureMissing(feature: .cgroupAttachReplace, running: KernelRelease.running?.text ?? "unknown")
        }
    }

    static let requiredResults: [FeatureResult] = KernelFeature.allCases.filter { need($0) == .required }.map(FeatureProbe.probe)
}

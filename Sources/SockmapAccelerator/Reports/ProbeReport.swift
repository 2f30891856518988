import BPFLoader

/// What `swift-sockmap probe` shows: every kernel feature, whether this kernel has it, and what
/// the accelerator does when it is missing.
public struct ProbeReport: Sendable, Codable {
    /// One feature: what it is, whether this kernel has it, and what its absence means.
    public struct Entry: Sendable, Codable {
        /// Stable id, e.g. "helper.sk_msg.get_netns_cookie".
        public let feature: KernelFeature
        /// What the feature is, in a few words.
        public let summary: String
        /// The Linux release that introduced it ("5.15").
        public let firstKernel: String
        /// Whether the running kernel has it.
        public let supported: Bool
        /// How the probe decided.
        public let detail: String
        /// How much the accelerator depends on it.
        public let need: KernelSupport.Need
        /// What the accelerator does without it.
        public let ifMissing: String
    }

    /// The running kernel's release.
    public let kernel: String
    /// Every feature, in ``KernelFeature``'s order.
    public let features: [Entry]
    /// Whether `load` can go ahead on this kernel.
    public let loadable: Bool
    /// The line `load` refuses with, when it would.
    public let refusal: String?
    /// The networks `load` would count as this host's for the SYNs' pairing tokens, besides
    /// loopback and each socket's own address (the host's namespaces only: no cgroup is looked
    /// at); nil when not looked at.
    public var localNetworks: [String]? = nil

    /// Probes the running kernel (needs root), and what `load` would find as this host's networks.
    public static func probe() throws(AcceleratorError) -> ProbeReport {
        try Privileges.requireRoot()
        var report = ProbeReport(results: FeatureProbe.all(), kernel: KernelRelease.running?.text ?? "unknown")
        report.localNetworks = LocalNetworks.resolve(operatorPrefixes: [], discover: true, cgroup: nil).map(\.description)
        return report
    }

    /// The report for probe `results` on the kernel named `kernel`.
    package init(results: [FeatureResult], kernel: String) {
        self.kernel = kernel
        features = results.map {
            Entry(feature: $0.feature, summary: $0.feature.summary, firstKernel: $0.feature.firstKernel,
                  supported: $0.supported, detail: $0.detail, need: KernelSupport.need($0.feature),
                  ifMissing: KernelSupport.consequence($0.feature))
        }
        let missing = KernelSupport.firstMissingRequirement(in: results)
        loadable = missing == nil
        refusal = missing.map { AcceleratorError.kernelFeatureMissing(feature: $0.feature, running: kernel).description }
    }
}

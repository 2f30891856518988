import BPFLoader
import SockmapAccelerator
import Testing

/// The refusal decision from probe results, without a kernel.
@Suite struct KernelSupportTests {
    static func results(missing: Set<KernelFeature>) -> [FeatureResult] {
        KernelFeature.allCases.map { FeatureResult(feature: $0, supported: !missing.contains($0), detail: "test") }
    }

    @Test("a 5.10-like kernel without bpf_get_netns_cookie in sock_ops and atomics is refused with one line naming 5.15")
    func netnsCookieMissingRefused() {
        let report = ProbeReport(results: Self.results(missing: [.netnsCookieInSockOps, .netnsCookieInSkMsg, .memcgAccounting, .atomicCompareExchange]),
                                 kernel: "5.10.0-32-amd64")
        #expect(!report.loadable)
        #expect(report.refusal == "this kernel (5.10.0-32-amd64) lacks bpf_get_netns_cookie in sock_ops, which first appeared in Linux 5.15: "
                + "load refuses: the pairing fingerprints each connection with its network namespace, or equal 4-tuples in two namespaces could claim each other's tokens")
    }

    @Test("the pairing's own needs refuse a load when missing: header options (5.10), compare-and-exchange (5.12), bpf_skc_to_tcp_sock (5.9: sk_msg reads its cookie, the key of its state, with it)",
          arguments: [KernelFeature.headerOptionsInSockOps, .atomicCompareExchange, .skcToTCPSockInSkMsg, .skcToTCPSockInSockOps])
    func pairingNeedsRefuse(feature: KernelFeature) {
        let report = ProbeReport(results: Self.results(missing: [feature]), kernel: "5.11.0")
        #expect(!report.loadable)
        #expect(report.refusal?.contains(feature.summary) == true, "\(report.refusal ?? "")")
    }

    @Test("missing features the accelerator adapts to or does not use do not stop a load")
    func adaptedFeaturesDoNotRefuse() {
        let report = ProbeReport(results: Self.results(missing: [.memcgAccounting, .cgroupAttachReplace, .skStorageMap, .skStorageGetInSockOps,
                                                                 .skStorageGetInSkMsg, .netnsCookieInSkMsg]),
                                 kernel: "6.1.0")
        #expect(report.loadable)
        #expect(report.refusal == nil)
    }

    @Test("kernel releases parse Debian and upstream forms and compare by major.minor", arguments: [
        ("5.10.0-32-amd64", 5, 10), ("6.12.117+deb13-amd64", 6, 12), ("7.2.13+deb14-amd64", 7, 2), ("6.18.44-fc-v1045\n", 6, 18),
    ])
    func releaseParsing(text: String, major: Int, minor: Int) throws {
        let release = try #require(KernelRelease(text))
        #expect(release.major == major && release.minor == minor)
        #expect(release < KernelRelease(major: major, minor: minor + 1))
    }

    @Test("malformed releases are refused", arguments: ["", "linux", "6", "-5.10"])
    func releaseRejected(text: String) {
        #expect(KernelRelease(text) == nil)
    }
}

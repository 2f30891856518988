@testable import BPFLoader
@testable import BPFObject
import Foundation
import SockmapAccelerator
import TestSupport
import Testing

extension KernelIntegration {
    /// The feature probes against the running kernel, the memlock handling, and the refusal of
    /// kernels that lack a required feature. Run on every kernel of tools/kernel-matrix.sh.
    @Suite struct KernelFeatureTests {
        @Test("every feature the catalogue dates at or before this kernel is found; an older kernel may have it too (a backport)")
        func probesMatchCatalogue() throws {
            let release = try #require(KernelRelease.running)
            for result in FeatureProbe.all() {
                let first = try #require(KernelRelease(result.feature.firstKernel))
                #expect(!result.detail.isEmpty)
                if release >= first {
                    #expect(result.supported, "\(result.feature.rawValue) on \(release): missing (\(result.detail)), the catalogue says from \(first)")
                } else if result.supported {
                    // A distribution kernel may carry the feature before its mainline version:
                    // the probe, not the version, decides.
                    report("\(result.feature.rawValue): found on \(release), before mainline \(first) (a backport)")
                }
            }
        }

        @Test("load is possible exactly when every required feature is found, whatever the kernel's version")
        func loadableFollowsTheProbes() {
            let results = FeatureProbe.all()
            let report = ProbeReport(results: results, kernel: KernelRelease.running?.text ?? "unknown")
            let requiredMissing = results.filter { !$0.supported && KernelSupport.need($0.feature) == .required }
            #expect(report.loadable == requiredMissing.isEmpty, "\(requiredMissing)")
            #expect((report.refusal == nil) == requiredMissing.isEmpty)
        }

        @Test("a helper the program type does not have is reported missing, with the verifier's words")
        func missingHelperDetected() {
            // bpf_msg_redirect_hash exists only for sk_msg; sock_ops programs cannot call it.
            let result = KernelProbe.program(type: .sockOps, helper: .init(id: 71, name: "bpf_msg_redirect_hash"))
            #expect(!result.supported)
            #expect(result.detail.hasPrefix("the verifier: "), "\(result.detail)")
            #expect(result.detail.contains("bpf_msg_redirect_hash"), "\(result.detail)")
        }

        @Test("load on a kernel without a required feature refuses with one line and leaves nothing behind; otherwise it loads")
        func loadRefusesOrLoads() throws {
            let env = try AcceleratedCgroup(load: false)
            defer { env.tearDown() }
            let report = ProbeReport(results: FeatureProbe.all(), kernel: KernelRelease.running?.text ?? "unknown")
            let accelerator = Accelerator(pinDirectory: env.pinDirectory)
            do {
                try accelerator.load(.init(objectPath: PackageLayout.redirObject, cgroup: env.cgroup.path))
                #expect(report.loadable, "loaded although the probes say: \(report.refusal ?? "")")
                try accelerator.detach()
            } catch {
                guard case .kernelFeatureMissing = error else { throw error }
                #expect(!report.loadable)
                #expect(error.description == report.refusal)
                #expect(!error.description.contains("\n"))
                #expect(((try? FileManager.default.contentsOfDirectory(atPath: env.pinDirectory)) ?? []).isEmpty)
            }
        }

        @Test("RLIMIT_MEMLOCK: raised where the kernel charges it (before 5.11); an EPERM as root never says 'run as root'")
        func memlockRaisedAndNamed() throws {
            var original = rlimit()
            #expect(getrlimit(__rlimit_resource_t(__RLIMIT_MEMLOCK.rawValue), &original) == 0)
            defer { _ = setrlimit(__rlimit_resource_t(__RLIMIT_MEMLOCK.rawValue), &original) }
            var limited = rlimit(rlim_cur: 64 << 10, rlim_max: original.rlim_max)
            #expect(setrlimit(__rlimit_resource_t(__RLIMIT_MEMLOCK.rawValue), &limited) == 0)
            #expect(MemlockLimit.current == 64 << 10)

            let limitedError = BPFError(command: .mapCreate, errno: .notPermitted, context: "create map sock_hash")
            #expect(!limitedError.description.contains("run as root"), "\(limitedError)")
            let release = try #require(KernelRelease.running)
            if release < KernelRelease(major: 5, minor: 11) {
                #expect(MemlockLimit.kernelCharges)
                #expect(limitedError.description.contains("RLIMIT_MEMLOCK is 65536 bytes"), "\(limitedError)")
                let failure = MemlockLimit.raise()
                // Without CAP_SYS_RESOURCE the soft limit goes up to the hard one.
                #expect(failure == nil ? MemlockLimit.current == nil : MemlockLimit.current == UInt64(original.rlim_max))
            } else {
                #expect(!MemlockLimit.kernelCharges)
                #expect(limitedError.description.contains("denied although running as root"), "\(limitedError)")
                #expect(MemlockLimit.raise() == nil)
                #expect(MemlockLimit.current == 64 << 10, "the limit is left alone where the kernel ignores it")
            }
        }
    }

    /// `swift-sockmap probe` through the built binary.
    @Suite struct ProbeCommandTests {
        @Test("probe prints every feature and whether load can work; --json has the same facts")
        func probeCommand() throws {
            let text = try CommandRunner.cli("probe")
            let json = try CommandRunner.cli("probe", "--json")
            let report = ProbeReport(results: FeatureProbe.all(), kernel: KernelRelease.running?.text ?? "unknown")
            #expect(text.status == (report.loadable ? 0 : 1), "\(text.stderr)")
            #expect(json.status == text.status)
            for feature in KernelFeature.allCases {
                #expect(text.stdout.contains(feature.summary), "\(feature) missing from:\n\(text.stdout)")
            }
            let decoded = try JSONDecoder().decode(ProbeReport.self, from: Data(json.stdout.utf8))
            #expect(decoded.features.map(\.feature) == KernelFeature.allCases)
            #expect(decoded.features.map(\.supported) == report.features.map(\.supported))
            #expect(decoded.loadable == report.loadable)
            // Which destinations a SYN would carry a pairing token toward: at least this host's own addresses.
            let networks = try #require(decoded.localNetworks)
            #expect(text.stdout.contains("pairing tokens toward: loopback, each socket's own address"))
            #expect(networks.allSatisfy { LocalNetwork(cidr: $0) != nil }, "\(networks)")
            let last = text.stdout.split(separator: "\n").last.map(String.init) ?? ""
            #expect(last == (report.refusal.map { "accelerator: cannot load: \($0)" } ?? "accelerator: every required feature is present"))
        }
    }
}

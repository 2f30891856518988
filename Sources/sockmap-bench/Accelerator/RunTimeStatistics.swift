import BPFLoader

/// `kernel.bpf_stats_enabled`, held on through a BPF_ENABLE_STATS descriptor while the bench
/// measures programs' run time, and let go during the connect workload.
///
/// Statistics add two clock reads to every run of every BPF program. A short connection runs
/// our sock_ops program about 18 times (the pairing's header-option callbacks) against about 9
/// for the seed's programs, so the figure they exist for (the sk_msg cost of a send) would tax
/// the connect row of accelerated mode twice as much as reference mode's, and plain mode not at
/// all: the connect rows run without them, like a production kernel.
final class RunTimeStatistics {
    private var holder: KernelObject?

    /// Turns statistics on; throws when the kernel refuses (then the bench reports no ns/run).
    init() throws {
        holder = try BPFProgram.enableRunTimeStatistics()
    }

    /// Turns statistics off: closing the last descriptor turns kernel.bpf_stats_enabled off.
    func pause() { holder = nil }

    /// Turns them on again after `pause()`.
    func resume() throws(BPFError) {
        if holder == nil { holder = try BPFProgram.enableRunTimeStatistics() }
    }
}

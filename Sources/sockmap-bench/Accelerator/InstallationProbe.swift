import BPFLoader
import SockmapAccelerator

/// What one installation's data path did during one run, read by the parent right before the run
/// and right after both children exited (runs are sequential, so the difference is that run's
/// alone): its sk_msg program's run time and run count (`BPF_OBJ_GET_INFO_BY_FD`, counted while
/// `kernel.bpf_stats_enabled` is on), and our counters when the object has them.
struct InstallationProbe {
    /// The verdict program attached to the installation's SOCKHASH.
    let program: BPFProgram
    /// Where to read our counters; nil for an object without them (the seed's).
    let accelerator: Accelerator?

    /// One reading; a field is nil when it could not be read.
    struct Snapshot: Sendable {
        var runTimeNanoseconds: UInt64?
        var runCount: UInt64?
        var counters: Counters?
    }

    /// Opens the verdict program `load` recorded in `pinDir`; a failure is a warning (the run goes
    /// on without these figures), returned as the error's text.
    static func open(pinDir: String, readCounters: Bool) -> Result<InstallationProbe, BenchError> {
        let accelerator = Accelerator(pinDirectory: pinDir)
        guard let state = accelerator.recordedState() else {
            return .failure(BenchError("no load state in \(pinDir): no sk_msg run time or counters per run"))
        }
        let program: BPFProgram
        do { program = try accelerator.program(state.verdictProgram) } catch {
            return .failure(BenchError("cannot open \(state.verdictProgram) in \(pinDir): \(error)"))
        }
        let probe = InstallationProbe(program: program, accelerator: readCounters ? accelerator : nil)
        if readCounters {
            do { _ = try accelerator.counters() } catch {
                return .failure(BenchError("cannot read the counters in \(pinDir): \(error)"))
            }
        }
        return .success(probe)
    }

    func snapshot() -> Snapshot {
        var snapshot = Snapshot()
        if let info = try? program.info() {
            snapshot.runTimeNanoseconds = info.runTimeNanoseconds
            snapshot.runCount = info.runCount
        }
        snapshot.counters = try? accelerator?.counters()
        return snapshot
    }
}

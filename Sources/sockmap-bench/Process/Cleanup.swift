import Dispatch
import Glibc
import Synchronization

/// What must happen however the run ends: kill live children, then undo setup (detach the
/// programs, remove the cgroup), newest first. Runs once, from the normal path, an error, or a
/// SIGINT/SIGTERM; a second caller waits until the first has finished.
final class Cleanup: Sendable {
    static let shared = Cleanup()

    private let children = Mutex<Set<pid_t>>([])
    private let actions = Mutex<[(name: String, action: @Sendable () -> Void)]>([])

    func track(_ pid: pid_t) {
        children.withLock { _ = $0.insert(pid) }
    }

    func untrack(_ pid: pid_t) {
        children.withLock { _ = $0.remove(pid) }
    }

    /// Adds an undo step; `runAll` runs the steps in reverse order of registration.
    func register(_ name: String, _ action: @escaping @Sendable () -> Void) {
        actions.withLock { $0.append((name, action)) }
    }

    func runAll() {
        let live = children.withLock { $0 }
        for pid in live { kill(pid, SIGKILL) }
        for pid in live { waitpid(pid, nil, 0) }
        // Held across the steps on purpose: a concurrent caller (the signal handler) waits here.
        // The steps may spawn processes; those use `children`, a different lock.
        actions.withLock { steps in
            for step in steps.reversed() { step.action() }
            steps.removeAll()
        }
    }

    /// SIGINT/SIGTERM: clean up, then exit 130. Keep the returned sources alive for the run.
    func installSignalHandlers() -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                note("\nsockmap-bench: interrupted, cleaning up")
                Cleanup.shared.runAll()
                exit(130)
            }
            source.resume()
            return source
        }
    }
}

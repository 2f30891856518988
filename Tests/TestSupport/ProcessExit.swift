import Foundation

/// A child's exit, waited for with a timeout and no polling: `Process.terminationHandler`
/// signals it.
package final class ProcessExit: Sendable {
    private let exited = DispatchSemaphore(value: 0)

    /// Watches `process`; call before `process.run()` (it sets the termination handler).
    package init(_ process: Process) {
        process.terminationHandler = { [exited] _ in exited.signal() }
    }

    /// Waits up to `timeout` seconds (forever when nil) for the exit; returns whether it happened.
    /// Once it has, every later call returns true at once.
    @discardableResult
    package func wait(timeout: TimeInterval? = nil) -> Bool {
        guard let timeout else {
            exited.wait()
            exited.signal()
            return true
        }
        guard exited.wait(timeout: .now() + timeout) == .success else { return false }
        exited.signal() // stays signalled for the next caller
        return true
    }
}

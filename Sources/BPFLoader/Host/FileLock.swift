import BPFObject
import SystemPackage
internal import Glibc

/// An exclusive `flock(2)` on a file or directory, held as long as the value lives: dropping it
/// closes the descriptor, which releases the lock (as the kernel does when the process dies).
///
/// Locks belong to open file descriptions, so two `FileLock`s on one path exclude each other
/// even within one process.
package struct FileLock: ~Copyable {
    /// The locked path.
    package let path: String
    private let descriptor: FileDescriptor

    /// How long to wait for a lock another holder has.
    package enum Wait: Sendable, Equatable {
        /// Fail with `Failure.held` right away (`LOCK_NB`).
        case never
        /// Try again every 10 ms until the duration has passed, then fail with `Failure.held`.
        case upTo(Duration)
        /// Block in the kernel until the holder lets go.
        case forever
    }

    /// Why a lock could not be taken.
    package enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// Another holder has it (`EWOULDBLOCK`), and did not let go in the time given.
        case held
        /// `open(2)` of the path failed.
        case open(Errno)
        /// `flock(2)` failed with something else than `EWOULDBLOCK`.
        case lock(Errno)

        /// What went wrong, with the errno's text (the path is the caller's to add).
        package var description: String {
            switch self {
            case .held: return "another process holds the lock"
            case .open(let errno): return "cannot open: \(errno)"
            case .lock(let errno): return "cannot lock: \(errno)"
            }
        }
    }

    /// Opens `path` (read-only; a directory when `directory`) and locks it exclusively, waiting
    /// as `wait` says. `EINTR` is retried.
    package init(exclusive path: String, directory: Bool = true, wait: Wait = .never) throws(Failure) {
        let descriptor: FileDescriptor
        do {
            descriptor = try HostSystem.open(path, .readOnly, options: directory ? [.directory, .closeOnExec] : .closeOnExec)
        } catch { throw .open(error) }
        do {
            try Self.lock(descriptor, wait: wait)
        } catch {
            try? descriptor.close()
            throw error
        }
        self.path = path
        self.descriptor = descriptor
    }

    deinit { try? descriptor.close() }

    /// Runs `body` with the lock held and releases it once `body` returns or throws.
    package consuming func whileHeld<Value, Failure: Error>(_ body: () throws(Failure) -> Value) throws(Failure) -> Value {
        try body()
    }

    /// Takes the lock on `descriptor` as `wait` says.
    private static func lock(_ descriptor: FileDescriptor, wait: Wait) throws(Failure) {
        switch wait {
        case .forever:
            do { try HostSystem.call { flock(descriptor.rawValue, LOCK_EX) } } catch { throw .lock(error) }
        case .never:
            guard try tryLock(descriptor) else { throw .held }
        case .upTo(let timeout):
            let deadline = ContinuousClock.now + timeout
            while try !tryLock(descriptor) {
                guard ContinuousClock.now < deadline else { throw .held }
                usleep(10_000)
            }
        }
    }

    /// One non-blocking attempt: whether the lock was taken (false: `EWOULDBLOCK`, someone has it).
    private static func tryLock(_ descriptor: FileDescriptor) throws(Failure) -> Bool {
        do {
            try HostSystem.call { flock(descriptor.rawValue, LOCK_EX | LOCK_NB) }
            return true
        } catch where error == .wouldBlock {
            return false
        } catch {
            throw .lock(error)
        }
    }
}

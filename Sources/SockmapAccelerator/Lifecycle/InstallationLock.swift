import BPFLoader

/// Serialises `load`, `load --replace` and `detach` on one pin directory: two operators (or a
/// service manager and an operator) running them at once must not interleave their steps.
///
/// An exclusive `flock` (`FileLock`) on the directory that holds the pin directory and its `-staging` and
/// `-draining` siblings; the kernel drops it if the process dies.
enum InstallationLock {
    /// Runs `body` holding the lock, waiting up to `timeout` seconds for another holder.
    static func withLock<T>(_ pins: PinLayout, timeout: Double = 10, _ body: () throws(AcceleratorError) -> T) throws(AcceleratorError) -> T {
        let parent = pins.parentDirectory
        try BPFFileSystem.makeDirectory(parent)
        let lock: FileLock
        do { lock = try FileLock(exclusive: parent, wait: .upTo(.seconds(timeout))) } catch {
            switch error {
            case .held:
                throw .io(path: pins.directory, reason: "another swift-sockmap is loading or detaching here (waited \(Int(timeout)) s)")
            case .open(let errno): throw .systemCall(path: parent, operation: "open for locking", errno: errno)
            case .lock(let errno): throw .systemCall(path: parent, operation: "lock", errno: errno)
            }
        }
        return try lock.whileHeld(body)
    }
}

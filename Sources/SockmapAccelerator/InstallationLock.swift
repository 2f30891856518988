import Foundation

/// Serialises `load`, `load --replace` and `detach` on one pin directory: two operators (or a
/// service manager and an operator) running them at once must not interleave their steps.
///
/// An exclusive `flock(2)` on the directory that holds the pin directory and its `-staging` and
/// `-draining` siblings; the kernel drops it if the process dies.
enum InstallationLock {
    static func withLock<T>(_ pins: PinLayout, timeout: Double = 10, _ body: () throws(AcceleratorError) -> T) throws(AcceleratorError) -> T {
        let parent = pins.parentDirectory
        try BPFFileSystem.makeDirectory(parent)
        let fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: parent, reason: "cannot open for locking: \(String(cString: strerror(errno)))") }
        defer { close(fd) } // closing releases the lock
        let deadline = Date().addingTimeInterval(timeout)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                throw .io(path: parent, reason: "cannot lock: \(String(cString: strerror(errno)))")
            }
            guard Date() < deadline else {
                throw .io(path: pins.directory, reason: "another swift-sockmap is loading or detaching here (waited \(Int(timeout)) s)")
            }
            usleep(10_000)
        }
        return try body()
    }
}

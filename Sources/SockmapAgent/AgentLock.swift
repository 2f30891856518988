import FoundationEssentials
import Glibc
import SockmapAccelerator

/// One agent per pin directory: an exclusive `flock` on `<pin-dir>-agent`, a directory beside
/// the pin directory in bpffs (bpffs holds no regular files, and the pin directory itself comes
/// and goes with load and detach). Held for the agent's life, removed when it stops; the kernel
/// drops the lock if the agent dies, and the next agent takes the directory over.
///
/// It is not the installation lock (`load`, `detach`), which is held only while those run.
package final class AgentLock {
    /// The locked directory.
    package let path: String
    private var descriptor: Int32 = -1

    /// Takes the lock or throws `pinDirectoryTaken` at once (no waiting: a second agent is a mistake).
    package init(pins: PinLayout) throws(AgentError) {
        path = pins.directory + "-agent"
        for _ in 0..<3 {
            do { try BPFFileSystem.makeDirectory(path) } catch { throw .lock(path: path, reason: error.description) }
            let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if fd < 0 {
                if errno == ENOENT { continue } // removed by an agent stopping meanwhile
                throw .lock(path: path, reason: String(cString: strerror(errno)))
            }
            var result: Int32
            repeat { result = flock(fd, LOCK_EX | LOCK_NB) } while result != 0 && errno == EINTR
            if result != 0 {
                let code = errno
                close(fd)
                if code == EWOULDBLOCK { throw .pinDirectoryTaken(pinDir: pins.directory) }
                throw .lock(path: path, reason: String(cString: strerror(code)))
            }
            // The directory locked must still be the one at the path: an agent stopping between
            // our open and our flock removes it, and a lock on a removed directory excludes no one.
            var atPath = stat(), held = stat()
            if stat(path, &atPath) == 0, fstat(fd, &held) == 0, atPath.st_ino == held.st_ino, atPath.st_dev == held.st_dev {
                descriptor = fd
                return
            }
            close(fd)
        }
        throw .lock(path: path, reason: "another agent keeps removing it")
    }

    /// Removes the directory, then lets go of the lock (closing the descriptor drops it).
    package func release() {
        guard descriptor >= 0 else { return }
        rmdir(path)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}

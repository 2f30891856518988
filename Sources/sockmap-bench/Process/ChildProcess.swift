import Glibc

/// A child started with posix_spawn, stdout (and optionally stderr) on pipes.
///
/// Signals the parent ignores are reset to default in the child, so Ctrl-C still stops it. A child
/// still running when its `ChildProcess` is dropped is killed: nothing outlives an error.
final class ChildProcess {
    let pid: pid_t
    let command: String
    private var stdoutFD: Int32
    private var stderrFD: Int32   // -1 when stderr is inherited
    private var pending: [UInt8] = []
    private var capturedStderr: [UInt8] = []
    private var status: Int32?

    /// Starts `path` (or a bare name from PATH) with `arguments`; `captureStderr: false` lets its
    /// stderr reach ours.
    init(path: String, arguments: [String], captureStderr: Bool) throws {
        command = ([path] + arguments).joined(separator: " ")
        var out: [Int32] = [-1, -1]
        var err: [Int32] = [-1, -1]
        guard makePipe(&out) else { throw BenchError.system("pipe") }
        if captureStderr, !makePipe(&err) {
            let code = errno
            close(out[0]); close(out[1])
            throw BenchError.system("pipe", errno: code)
        }
        defer {
            close(out[1])
            if captureStderr { close(err[1]) }
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        if captureStderr { posix_spawn_file_actions_adddup2(&actions, err[1], 2) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGINT, SIGTERM, SIGPIPE, SIGALRM] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        // posix_spawnp: a bare name ("bpftool") is looked up in PATH; a path is used as is.
        let rc = posix_spawnp(&pid, path, &actions, &attributes, argv, environ)
        guard rc == 0 else {
            close(out[0])
            if captureStderr { close(err[0]) }
            throw BenchError.system("posix_spawn \(path)", errno: rc)
        }
        self.pid = pid
        stdoutFD = out[0]
        stderrFD = captureStderr ? err[0] : -1
        Cleanup.shared.track(pid)
    }

    deinit {
        if status == nil {
            kill(pid, SIGKILL)
            waitpid(pid, nil, 0)
        }
        Cleanup.shared.untrack(pid)
        if stdoutFD >= 0 { close(stdoutFD) }
        if stderrFD >= 0 { close(stderrFD) }
    }

    /// The next line of stdout without its newline; nil at end-of-file.
    func readLine(until deadline: Deadline) throws -> String? {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            guard stdoutFD >= 0 else {
                defer { pending.removeAll() }
                return pending.isEmpty ? nil : String(decoding: pending, as: UTF8.self)
            }
            try pump(until: deadline)
        }
    }

    /// Everything left on stdout and the captured stderr, up to end-of-file on both.
    func readToEnd(until deadline: Deadline) throws -> (stdout: String, stderr: String) {
        while stdoutFD >= 0 || stderrFD >= 0 { try pump(until: deadline) }
        defer { pending.removeAll(); capturedStderr.removeAll() }
        return (String(decoding: pending, as: UTF8.self), String(decoding: capturedStderr, as: UTF8.self))
    }

    /// The exit status (128 + signal for a signal); a child still running at `deadline` is killed.
    @discardableResult
    func wait(until deadline: Deadline) throws -> Int32 {
        if let status { return status }
        var raw: Int32 = 0
        var delay: UInt32 = 50
        while true {
            let rc = waitpid(pid, &raw, WNOHANG)
            if rc == pid { break }
            if rc < 0, errno != EINTR { throw BenchError.system("waitpid \(pid)") }
            if deadline.hasPassed {
                kill(pid, SIGKILL)
                waitpid(pid, &raw, 0)
                status = -1
                Cleanup.shared.untrack(pid)
                throw BenchError("\(command): did not exit in time, killed")
            }
            usleep(delay)
            delay = min(delay * 2, 5_000)
        }
        let signal = raw & 0x7F
        let result = signal == 0 ? (raw >> 8) & 0xFF : 128 + signal
        status = result
        Cleanup.shared.untrack(pid)
        return result
    }

    /// Waits for output on the pipes still open and moves it into the buffers.
    private func pump(until deadline: Deadline) throws {
        var entries = [stdoutFD, stderrFD].filter { $0 >= 0 }.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        let timeout = deadline.remainingMilliseconds
        guard timeout > 0 else { throw BenchError("\(command): no output in time") }
        let rc = poll(&entries, nfds_t(entries.count), timeout)
        if rc < 0 {
            if errno == EINTR { return }
            throw BenchError.system("poll child output")
        }
        var chunk = [UInt8](repeating: 0, count: 16384)
        for entry in entries where entry.revents != 0 {
            let n = chunk.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR || errno == EAGAIN { continue }
            if n <= 0 {
                close(entry.fd)
                if entry.fd == stdoutFD { stdoutFD = -1 } else { stderrFD = -1 }
            } else if entry.fd == stdoutFD {
                pending.append(contentsOf: chunk[..<n])
            } else {
                capturedStderr.append(contentsOf: chunk[..<n])
            }
        }
    }
}

/// Runs a command to completion with captured output; the wall time includes start-up and exit.
struct CommandOutcome {
    let status: Int32
    let stdout: String
    let stderr: String
    let seconds: Double
}

func runCommand(_ path: String, _ arguments: [String], timeoutSeconds: Double = 60) throws -> CommandOutcome {
    let start = monotonicNanos()
    let deadline = Deadline(seconds: timeoutSeconds)
    let child = try ChildProcess(path: path, arguments: arguments, captureStderr: true)
    let output = try child.readToEnd(until: deadline)
    let status = try child.wait(until: deadline)
    let seconds = Double(monotonicNanos() - start) / 1e9
    return CommandOutcome(status: status, stdout: output.stdout, stderr: output.stderr, seconds: seconds)
}

/// This executable's own path (for re-executing itself as a child role).
func currentExecutablePath() throws -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard n > 0 else { throw BenchError.system("readlink /proc/self/exe") }
    return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// pipe(2) with both ends close-on-exec, so only the dup2'ed copies reach a child. (pipe2 needs
/// _GNU_SOURCE; children are spawned from one thread, so no exec can slip in between.)
private func makePipe(_ fds: inout [Int32]) -> Bool {
    guard pipe(&fds) == 0 else { return false }
    _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
    return true
}

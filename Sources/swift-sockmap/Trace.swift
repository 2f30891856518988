import ArgumentParser
import BPFLoader
import FoundationEssentials
import Glibc
import SockmapAccelerator
import SystemPackage

struct Trace: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Print the trace lines of programs loaded with `--set debug=1`.",
        discussion: """
            Reads the kernel's trace_pipe (tracefs at /sys/kernel/tracing or \
            /sys/kernel/debug/tracing; mounted at /sys/kernel/tracing if neither is there) and prints \
            the lines containing --prefix. Reading consumes them: run one reader at a time. Stops \
            after --duration seconds, after --count lines, or on Ctrl-C.
            """)

    @Option(help: "Stop after this many seconds.")
    var duration: Double?

    @Option(help: "Stop after printing this many lines.")
    var count: Int?

    @Option(help: "Print only lines containing this text (\"\" prints every trace line).")
    var prefix = "swift-sockmap:"

    func validate() throws {
        if let duration, !(duration > 0) { throw ValidationError("--duration must be positive") }
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
    }

    func run() throws {
        let path: String
        do { path = try TracePipe.locate() } catch {
            CLILog.printError("\(error)")
            throw ExitCode(getuid() == 0 ? 1 : 77)
        }
        let descriptor: FileDescriptor
        do { descriptor = try HostSystem.open(path, .readOnly, options: [.nonBlocking, .closeOnExec]) } catch {
            CLILog.printError("cannot open \(path): \(error)" + (error == .permissionDenied ? " — run as root" : ""))
            throw ExitCode(error == .permissionDenied || error == .notPermitted ? 77 : 1)
        }
        defer { try? descriptor.close() }
        let fd = descriptor.rawValue

        let deadline = duration.map { Date().addingTimeInterval($0) }
        var printed = 0
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while count.map({ printed < $0 }) ?? true {
            let remaining = deadline.map { $0.timeIntervalSinceNow } ?? 1
            if remaining <= 0 { break }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(min(remaining, 1) * 1000))
            if ready < 0 && errno != EINTR { throw ExitCode(1) }
            guard ready > 0 else { continue }
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && (errno == EAGAIN || errno == EINTR) { continue }
            guard n > 0 else { break }
            pending += buffer[0..<n]
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                guard prefix.isEmpty || line.contains(prefix) else { continue }
                CLILog.write(TracePipe.trimmed(line) + "\n", to: STDOUT_FILENO)
                printed += 1
                if let count, printed >= count { break }
            }
        }
    }
}

import Foundation

/// What a command run to completion printed and how it ended.
package struct CommandResult: Sendable {
    /// The exit status, or the signal number when `signal` is set.
    package let status: Int32
    /// Everything the command wrote to standard output, decoded as UTF-8.
    package let stdout: String
    /// Everything the command wrote to standard error, decoded as UTF-8.
    package let stderr: String
    /// The signal that ended the process, or nil when it exited.
    package var signal: Int32?

    /// A result with these fields, for tests that make one up.
    package init(status: Int32, stdout: String, stderr: String, signal: Int32? = nil) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.signal = signal
    }
}

/// Runs a program to completion and captures its output.
package enum CommandRunner {
    /// Runs `executable` with `arguments`, standard input empty. `environment` is added to (and
    /// overrides) this process's environment. Both outputs are drained while it runs, so a chatty
    /// child never blocks on a full pipe. A child still running after `timeout` seconds gets
    /// SIGTERM, and SIGKILL 10 seconds later.
    package static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                            timeout: TimeInterval = 60) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        let exited = ProcessExit(process)
        try process.run()
        let stdout = PipeCollector(out.fileHandleForReading), stderr = PipeCollector(err.fileHandleForReading)
        if !exited.wait(timeout: timeout) {
            process.terminate()
            if !exited.wait(timeout: 10) { kill(process.processIdentifier, SIGKILL) }
            exited.wait()
        }
        return CommandResult(status: process.terminationStatus,
                             stdout: String(decoding: stdout.finish(), as: UTF8.self),
                             stderr: String(decoding: stderr.finish(), as: UTF8.self),
                             signal: process.terminationReason == .uncaughtSignal ? process.terminationStatus : nil)
    }
}

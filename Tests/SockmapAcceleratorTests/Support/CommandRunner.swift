import Foundation

/// Runs a program to completion and captures its output.
struct CommandResult {
    /// The exit status, or the signal number when `signal` is set.
    let status: Int32
    let stdout: String
    let stderr: String
    /// The signal that ended the process, or nil when it exited.
    var signal: Int32? = nil
}

enum CommandRunner {
    /// `environment` is added to (and overrides) this process's environment.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
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
        try process.run()
        // Drain both pipes while the process runs, so a chatty child never blocks on a full pipe.
        let outData = Data.Collector(out.fileHandleForReading), errData = Data.Collector(err.fileHandleForReading)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { process.terminate(); process.waitUntilExit() }
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus,
                             stdout: String(decoding: outData.finish(), as: UTF8.self),
                             stderr: String(decoding: errData.finish(), as: UTF8.self),
                             signal: process.terminationReason == .uncaughtSignal ? process.terminationStatus : nil)
    }

    /// Runs the built `swift-sockmap`.
    static func cli(_ arguments: String...) throws -> CommandResult {
        try run(KernelTestEnvironment.cliPath, arguments)
    }

    /// Runs the built `swift-sockmap` with extra environment variables.
    static func cli(environment: [String: String], _ arguments: String...) throws -> CommandResult {
        try run(KernelTestEnvironment.cliPath, arguments, environment: environment)
    }
}

extension Data {
    /// Reads a file handle to its end on a background thread.
    final class Collector: @unchecked Sendable {
        private var data = Data()
        private let done = DispatchSemaphore(value: 0)

        init(_ handle: FileHandle) {
            Thread.detachNewThread { [self] in
                data = handle.readDataToEndOfFile()
                done.signal()
            }
        }

        func finish() -> Data {
            done.wait()
            return data
        }
    }
}

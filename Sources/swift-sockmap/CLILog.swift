import ArgumentParser
import FoundationEssentials
import Glibc
import Logging
import SockmapAccelerator

enum CLILog {
    /// Bootstraps swift-log once (writing to standard error) and returns the CLI's logger.
    static func logger(verbose: Bool) -> Logger {
        Bootstrap.once
        var logger = Logger(label: "swift-sockmap")
        logger.logLevel = verbose ? .debug : .warning
        return logger
    }

    private enum Bootstrap {
        static let once: Void = LoggingSystem.bootstrap(StreamLogHandler.standardError)
    }

    /// Runs `body`, turning an accelerator error into one line on standard error and an exit code.
    static func reporting<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as AcceleratorError {
            printError(error.description)
            throw ExitCode(exitCode(for: error))
        }
    }

    static func printError(_ text: String) {
        write("swift-sockmap: error: \(text)\n", to: STDERR_FILENO)
    }

    /// Writes `text` to `fd` at once, unbuffered (a pipe sees each line as it comes).
    static func write(_ text: String, to fd: Int32) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return }
            bytes = bytes.dropFirst(n)
        }
    }

    static func exitCode(for error: AcceleratorError) -> Int32 {
        switch error {
        case .notRoot: 77
        case .alreadyLoaded, .cgroupTaken: 3
        case .notLoaded: 4
        default: 1
        }
    }
}

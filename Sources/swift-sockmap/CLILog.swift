import ArgumentParser
import Foundation
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
        FileHandle.standardError.write(Data("swift-sockmap: error: \(text)\n".utf8))
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

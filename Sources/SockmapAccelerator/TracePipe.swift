import Foundation

/// Where the kernel's trace_pipe is, mounting tracefs when no mount provides it.
public enum TracePipe {
    public static let candidates = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]

    public struct Unavailable: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { "no trace_pipe: \(reason)" }
    }

    public static func locate() throws -> String {
        for directory in candidates where access(directory + "/trace_pipe", F_OK) == 0 {
            return directory + "/trace_pipe"
        }
        let target = candidates[0]
        guard mount("tracefs", target, "tracefs", 0, nil) == 0 else {
            throw Unavailable(reason: "tracefs is not mounted and mounting it at \(target) failed: \(String(cString: strerror(errno)))")
        }
        return target + "/trace_pipe"
    }

    /// A trace line without the column padding the kernel puts before the task name.
    public static func trimmed(_ line: String) -> String {
        String(line.drop { $0 == " " })
    }
}

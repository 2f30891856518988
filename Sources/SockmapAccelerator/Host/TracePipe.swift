import BPFLoader
import FoundationEssentials

/// Where the kernel's trace_pipe is, mounting tracefs when no mount provides it.
package enum TracePipe {
    /// The directories tracefs is found in, the first being where it is mounted when missing.
    package static let candidates = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"]

    /// No trace_pipe could be found or made available.
    package struct Unavailable: Error, CustomStringConvertible {
        /// What is missing and what was tried.
        package let reason: String
        /// "no trace_pipe: " and the reason.
        package var description: String { "no trace_pipe: \(reason)" }
    }

    /// The path of trace_pipe, mounting tracefs at the first candidate when no candidate has one.
    package static func locate() throws(Unavailable) -> String {
        for directory in candidates where FileManager.default.fileExists(atPath: directory + "/trace_pipe") {
            return directory + "/trace_pipe"
        }
        let target = candidates[0]
        do { try HostSystem.mountFileSystem(.tracefs, at: target) } catch {
            throw Unavailable(reason: "tracefs is not mounted and mounting it at \(target) failed: \(error)")
        }
        return target + "/trace_pipe"
    }

    /// A trace line without the column padding the kernel puts before the task name.
    package static func trimmed(_ line: String) -> String {
        String(line.drop { $0 == " " })
    }
}

import Glibc
import SystemPackage

/// Everything the benchmark can fail with: a message, and the errno when a system call failed.
struct BenchError: Error, CustomStringConvertible {
    let message: String
    let code: Int32?

    init(_ message: String) {
        self.message = message
        self.code = nil
    }

    /// The failure of a system call, reading `errno` right away.
    static func system(_ operation: String, errno code: Int32 = errno) -> BenchError {
        BenchError(operation, code: code)
    }

    private init(_ message: String, code: Int32) {
        self.message = message
        self.code = code
    }

    var description: String {
        guard let code else { return message }
        return "\(message): \(Errno(rawValue: code)) (errno \(code))"
    }
}

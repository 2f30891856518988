import FoundationEssentials
import Glibc

/// `--json` and `--svg`: whole files, written next to nothing else.
enum ResultFiles {
    /// Every result, every round's value included; NaN (a missing value) becomes "nan".
    static func writeJSON(_ results: BenchResults, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try writeBytes(Array(try encoder.encode(results)) + [UInt8(ascii: "\n")], to: path)
    }

    static func writeText(_ text: String, to path: String) throws {
        try writeBytes(Array(text.utf8), to: path)
    }

    private static func writeBytes(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw BenchError.system("open \(path)") }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw BenchError.system("write \(path)") }
            offset += n
        }
    }
}

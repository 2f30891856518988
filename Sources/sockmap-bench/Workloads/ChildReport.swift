import FoundationEssentials
import Glibc

/// What a child role prints for the parent: one line `RESULT {json}` on stdout.
struct ChildReport: Codable, Sendable {
    /// Messages echoed (rtt server), round trips timed (rtt client), connections (connect).
    var messages: UInt64 = 0
    /// Bytes sent (stream sender) or received and checked (stream receiver).
    var bytes: UInt64 = 0
    /// Wall time of the measured part.
    var seconds: Double = 0
    /// Round-trip percentiles in nanoseconds, keyed "p50", "p99", "p99.9", "mean", "max".
    var latencyNanos: [String: Double]?
    /// Stream bytes that did not match the sender's pattern.
    var patternErrors: UInt64 = 0
    /// Paused and control modes: the plain TCP reference connections' bytes and writing time (`PausedPair`;
    /// the client's `bytes` and these leave out the untimed warm-up, the server's count it all).
    var referenceBytes: UInt64?
    var referenceSeconds: Double?

    static let linePrefix = "RESULT "

    /// Writes the report line straight to fd 1 (no stdio buffering between us and the parent).
    func emit() throws {
        let json = try JSONEncoder().encode(self)
        try writeLineToStdout(Self.linePrefix + String(decoding: json, as: UTF8.self))
    }

    init() {}

    init(line: String) throws {
        guard line.hasPrefix(Self.linePrefix) else { throw BenchError("not a result line: \(line)") }
        self = try JSONDecoder().decode(ChildReport.self, from: Data(line.dropFirst(Self.linePrefix.count).utf8))
    }
}

/// One line on fd 1, written whole.
func writeLineToStdout(_ line: String) throws {
    let bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0 {
            if errno == EINTR { continue }
            throw BenchError.system("write stdout")
        }
        offset += n
    }
}

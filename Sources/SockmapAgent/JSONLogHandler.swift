import FoundationEssentials
import Glibc
import Logging
import SockmapAccelerator

/// A swift-log handler writing one JSON object per line to standard error (`--log-format json`):
/// `time` (ISO 8601 with milliseconds), `level`, `label`, `message`, and the metadata as strings.
package struct JSONLogHandler: LogHandler {
    package var logLevel: Logger.Level = .info
    package var metadata: Logger.Metadata = [:]
    private let label: String

    package init(label: String) { self.label = label }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        let line = Array((Self.line(event, label: label, metadata: metadata) + "\n").utf8)
        line.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(2, bytes.baseAddress! + offset, bytes.count - offset)
                if written > 0 { offset += written } else if written < 0 && errno == EINTR { continue } else { break }
            }
        }
    }

    /// The JSON line of one event (keys sorted; metadata keys never shadow the fixed ones).
    package static func line(_ event: LogEvent, label: String, metadata: Logger.Metadata, date: Date = Date()) -> String {
        var object: [String: String] = [:]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new }) {
            object[key] = "\(value)"
        }
        object["time"] = Self.time(date)
        object["level"] = event.level.rawValue
        object["label"] = label
        object["message"] = "\(event.message)"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(object)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// ISO 8601 in UTC with milliseconds (`2026-12-07T04:33:55.123Z`), written directly (no ICU).
    static func time(_ date: Date) -> String {
        let seconds = LoadState.iso8601(date).dropLast() // "…:55Z" without the Z
        let milliseconds = Int((date.timeIntervalSince1970 - date.timeIntervalSince1970.rounded(.down)) * 1000)
        let digits = String(min(999, max(0, milliseconds)))
        return seconds + "." + String(repeating: "0", count: 3 - digits.count) + digits + "Z"
    }
}

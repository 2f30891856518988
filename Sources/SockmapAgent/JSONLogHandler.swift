import Foundation
import Logging

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
        FileHandle.standardError.write(Data((Self.line(event, label: label, metadata: metadata) + "\n").utf8))
    }

    /// The JSON line of one event (keys sorted; metadata keys never shadow the fixed ones).
    package static func line(_ event: LogEvent, label: String, metadata: Logger.Metadata, date: Date = Date()) -> String {
        var object: [String: String] = [:]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { _, new in new }) {
            object[key] = "\(value)"
        }
        object["time"] = Self.timeFormat.string(from: date)
        object["level"] = event.level.rawValue
        object["label"] = label
        object["message"] = "\(event.message)"
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    nonisolated(unsafe) private static let timeFormat: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
}

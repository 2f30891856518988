import Foundation

/// Mount points read from `/proc/self/mountinfo`.
public enum Mounts {
    public struct Entry: Sendable, Equatable {
        public let mountPoint: String
        public let fileSystemType: String
    }

    public static func read(_ path: String = "/proc/self/mountinfo") -> [Entry] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return parse(text)
    }

    /// Parses mountinfo lines: field 5 is the mount point; the type follows the " - " separator.
    public static func parse(_ text: String) -> [Entry] {
        text.split(separator: "\n").compactMap { line in
            let halves = line.components(separatedBy: " - ")
            guard halves.count >= 2 else { return nil }
            let left = halves[0].split(separator: " ")
            let right = halves[1].split(separator: " ")
            guard left.count >= 5, let type = right.first else { return nil }
            return Entry(mountPoint: unescape(String(left[4])), fileSystemType: String(type))
        }
    }

    /// mountinfo escapes space, tab, newline and backslash as \040, \011, \012, \134.
    static func unescape(_ field: String) -> String {
        field.replacingOccurrences(of: "\\040", with: " ").replacingOccurrences(of: "\\011", with: "\t")
            .replacingOccurrences(of: "\\012", with: "\n").replacingOccurrences(of: "\\134", with: "\\")
    }

    /// The first cgroup2 mount point (`/sys/fs/cgroup` on most hosts, `/sys/fs/cgroup/unified` on hybrid ones).
    public static func cgroup2MountPoint() throws(AcceleratorError) -> String {
        guard let entry = read().first(where: { $0.fileSystemType == "cgroup2" }) else { throw .noCgroup2Mount }
        return entry.mountPoint
    }

    public static func isMounted(_ path: String, type: String) -> Bool {
        read().contains { $0.mountPoint == path && $0.fileSystemType == type }
    }
}

import BPFLoader

/// Mount points read from `/proc/self/mountinfo`.
package enum Mounts {
    /// One mount: where, and of which file-system type.
    package struct Entry: Sendable, Equatable {
        /// The mount point, unescaped.
        package let mountPoint: String
        /// The file-system type ("bpf", "cgroup2", …).
        package let fileSystemType: String

        /// A mount of `fileSystemType` at `mountPoint`.
        package init(mountPoint: String, fileSystemType: String) {
            self.mountPoint = mountPoint
            self.fileSystemType = fileSystemType
        }
    }

    /// The mounts listed in `path` (a mountinfo file), none when it cannot be read.
    package static func read(_ path: String = "/proc/self/mountinfo") -> [Entry] {
        guard let bytes = try? HostSystem.readFile(path) else { return [] }
        return parse(String(decoding: bytes, as: UTF8.self))
    }

    /// Parses mountinfo lines: field 5 is the mount point; the file-system type is the field
    /// after the lone "-" that ends the optional fields. (Split on spaces, never searched with
    /// Foundation: this runs on every command, and a host can have thousands of mounts.)
    package static func parse(_ text: String) -> [Entry] {
        text.utf8.split(separator: UInt8(ascii: "\n")).compactMap { line in
            let fields = line.split(separator: UInt8(ascii: " "))
            guard fields.count >= 7, let dash = fields.dropFirst(6).firstIndex(where: { $0.elementsEqual("-".utf8) }),
                  dash + 1 < fields.count else { return nil }
            return Entry(mountPoint: unescape(fields[4]), fileSystemType: String(decoding: fields[dash + 1], as: UTF8.self))
        }
    }

    /// mountinfo escapes space, tab, newline and backslash as three octal digits (\040 …).
    static func unescape(_ field: Substring.UTF8View.SubSequence) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(field.count)
        var index = field.startIndex
        while index < field.endIndex {
            let byte = field[index]
            let digits = field[field.index(after: index)...].prefix(3)
            if byte == UInt8(ascii: "\\"), digits.count == 3,
               let value = UInt8(String(decoding: digits, as: UTF8.self), radix: 8) {
                bytes.append(value)
                index = digits.endIndex
            } else {
                bytes.append(byte)
                index = field.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The first cgroup2 mount point (`/sys/fs/cgroup` on most hosts, `/sys/fs/cgroup/unified` on hybrid ones).
    package static func cgroup2MountPoint() throws(AcceleratorError) -> String {
        guard let entry = read().first(where: { $0.fileSystemType == "cgroup2" }) else { throw .noCgroup2Mount }
        return entry.mountPoint
    }

    /// Whether a file system of `type` is mounted exactly at `path`.
    package static func isMounted(_ path: String, type: String) -> Bool {
        read().contains { $0.mountPoint == path && $0.fileSystemType == type }
    }
}

import BPFObject

/// The running kernel's release (`/proc/sys/kernel/osrelease`, as `uname -r` prints it), for the
/// few features no probe can tell without side effects.
package struct KernelRelease: Sendable, Equatable, Comparable, CustomStringConvertible {
    /// The major version (6 in 6.1).
    package let major: Int
    /// The minor version (1 in 6.1).
    package let minor: Int
    /// The whole string, e.g. "5.10.0-32-amd64".
    package let text: String

    /// Parses "major.minor[.rest]"; nil for anything else.
    package init?(_ text: String) {
        let trimmed = text.trimmingWhitespace
        let parts = trimmed.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        guard parts.count == 2, trimmed.first?.isNumber == true else { return nil }
        major = parts[0]; minor = parts[1]; self.text = trimmed
    }

    /// The release `major.minor`, to compare with.
    package init(major: Int, minor: Int) {
        self.major = major; self.minor = minor; text = "\(major).\(minor)"
    }

    /// The running kernel's release, or nil when /proc is not mounted.
    package static let running: KernelRelease? = {
        guard let bytes = try? FileBytes.read("/proc/sys/kernel/osrelease") else { return nil }
        return KernelRelease(String(decoding: bytes, as: UTF8.self))
    }()

    /// Orders by major, then minor version; the rest of the string is ignored.
    package static func < (a: KernelRelease, b: KernelRelease) -> Bool {
        (a.major, a.minor) < (b.major, b.minor)
    }

    /// Equal when major and minor versions are.
    package static func == (a: KernelRelease, b: KernelRelease) -> Bool {
        (a.major, a.minor) == (b.major, b.minor)
    }

    /// The release string as the kernel gives it.
    package var description: String { text }
}

extension String {
    var trimmingWhitespace: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

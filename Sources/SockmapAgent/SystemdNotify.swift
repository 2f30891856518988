import FoundationEssentials
import Glibc

/// sd_notify(3) without libsystemd: a datagram to the Unix socket named by `NOTIFY_SOCKET`
/// (a path, or an abstract name after '@'), so the unit can be `Type=notify`. Does nothing
/// when the variable is unset (not started by systemd).
package enum SystemdNotify {
    /// Sends `state` ("READY=1", "RELOADING=1\nMONOTONIC_USEC=…", "STOPPING=1", "STATUS=…");
    /// returns whether it was sent.
    @discardableResult
    package static func send(_ state: String, socket path: String? = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"]) -> Bool {
        guard let path, !path.isEmpty, path.utf8.count < MemoryLayout.size(ofValue: sockaddr_un().sun_path) else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var name = Array(path.utf8)
        if name.first == UInt8(ascii: "@") { name[0] = 0 } // abstract namespace
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in name.enumerated() { buffer[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + name.count)
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, message, message.count, 0, $0, length) }
        }
        return sent == message.count
    }

    /// "RELOADING=1" with the monotonic timestamp systemd's `Type=notify-reload` wants.
    package static var reloading: String {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return "RELOADING=1\nMONOTONIC_USEC=\(UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000)"
    }
}

import FoundationEssentials
import Glibc

/// The address the agent serves HTTP on: an IP literal and a port, parsed from `HOST:PORT`
/// (`127.0.0.1:9464`, `[::1]:9464`, `localhost:9464`).
package struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// The IP literal (no brackets).
    package let host: String
    /// The TCP port (0 asks the kernel for a free one).
    package let port: Int

    /// Where the agent listens unless told otherwise: loopback only, Prometheus' port for it.
    package static let `default` = ListenAddress(host: "127.0.0.1", port: 9464)

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Why a `HOST:PORT` text is not an address the agent can listen on.
    package struct ParseError: Error, CustomStringConvertible {
        package let description: String
    }

    /// Parses `HOST:PORT`; HOST is an IPv4 or IPv6 literal (IPv6 in brackets) or `localhost`.
    package init(parsing text: String) throws(ParseError) {
        let hostPart: Substring, portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw ParseError(description: "--listen \(text): expected [IPV6]:PORT")
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), text.firstIndex(of: ":") == colon else {
                throw ParseError(description: "--listen \(text): expected HOST:PORT (an IPv6 address goes in brackets: [::1]:9464)")
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard let port = Int(portPart), (0...65535).contains(port) else {
            throw ParseError(description: "--listen \(text): \(portPart) is not a port (0-65535)")
        }
        let host = hostPart == "localhost" ? "127.0.0.1" : String(hostPart)
        guard Self.family(of: host) != nil else {
            throw ParseError(description: "--listen \(text): \(hostPart) is not an IP address (give a literal such as 127.0.0.1 or [::1])")
        }
        self.init(host: host, port: port)
    }

    /// Whether only this host can reach the address (127.0.0.0/8 or ::1).
    package var isLoopback: Bool {
        switch Self.family(of: host) {
        case .some(AF_INET):
            var address = in_addr()
            inet_pton(AF_INET, host, &address)
            return UInt32(bigEndian: address.s_addr) >> 24 == 127
        case .some(AF_INET6):
            var address = in6_addr()
            inet_pton(AF_INET6, host, &address)
            return withUnsafeBytes(of: &address) { bytes in bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1 }
        default:
            return false
        }
    }

    /// `AF_INET` or `AF_INET6` for an IP literal, nil for anything else.
    private static func family(of host: String) -> Int32? {
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return AF_INET }
        if inet_pton(AF_INET6, host, &v6) == 1 { return AF_INET6 }
        return nil
    }

    /// `HOST:PORT`, with IPv6 in brackets.
    package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

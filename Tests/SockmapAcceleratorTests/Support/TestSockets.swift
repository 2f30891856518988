import BPFLoader
import Foundation

/// Small blocking-socket helpers for tests. Every operation has a timeout, so a lost byte
/// turns into a failure instead of a hang.
struct TestSocketError: Error, CustomStringConvertible {
    let description: String
    init(_ what: String, _ code: Int32 = errno) { description = "\(what): \(String(cString: strerror(code))) (errno \(code))" }
}

final class TestSocket {
    private(set) var fd: Int32

    init(fd: Int32) { self.fd = fd }
    deinit { close() }

    /// Closes the socket now (the deinitializer then does nothing).
    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Makes `close()` send a reset instead of a FIN (SO_LINGER with a zero timeout).
    func setLingerZero() {
        var hard = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, socklen_t(MemoryLayout<linger>.size))
    }

    /// Reads until the peer's FIN (recv returns 0); returns what came before it.
    func receiveToEnd(deadline: Date = Date().addingTimeInterval(Double(TestSocket.timeoutSeconds))) throws -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n == 0 { return received }
            if n > 0 { received += buffer[0..<n]; continue }
            if (errno == EAGAIN || errno == EINTR) && Date() < deadline { continue }
            throw TestSocketError("recv after \(received.count) bytes, before the end of stream")
        }
    }

    static let timeoutSeconds = 10

    /// Sets receive and send timeouts.
    func setTimeouts(seconds: Int = TestSocket.timeoutSeconds) {
        var tv = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func sendAll(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw TestSocketError("send")
            }
            sent += n
        }
    }

    /// Reads exactly `count` bytes. A blocking recv on a redirected socket may return EAGAIN
    /// spuriously (see docs/kernel-behaviour.md); that is retried until the deadline.
    func receiveExactly(_ count: Int, deadline: Date = Date().addingTimeInterval(Double(TestSocket.timeoutSeconds))) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, count - got, 0) }
            if n > 0 { got += n; continue }
            if n == 0 { throw TestSocketError("recv: end of stream after \(got) of \(count) bytes", 0) }
            if (errno == EAGAIN || errno == EINTR) && Date() < deadline { continue }
            throw TestSocketError("recv after \(got) of \(count) bytes")
        }
        return buffer
    }

    var cookie: UInt64 {
        (try? HostSystem.socketCookie(fd)) ?? 0
    }

    var localPort: UInt16 { Self.port(fd, getsockname) }
    var remotePort: UInt16 { Self.port(fd, getpeername) }

    private static func port(_ fd: Int32, _ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32) -> UInt16 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(fd, $0, &length) } }
        return withUnsafeBytes(of: storage) { UInt16($0[2]) << 8 | UInt16($0[3]) } // sin_port/sin6_port, network order
    }
}

/// A connected TCP pair on loopback, made the way applications do it: listen, connect, accept.
struct TCPPair {
    let client: TestSocket
    let server: TestSocket

    enum Family { case ipv4, ipv6, dualStack }

    /// Creates the listener and the client socket (inside `cgroup` when given), then connects and accepts.
    static func make(_ family: Family = .ipv4, in cgroup: AcceleratedCgroup? = nil, port listenPort: UInt16 = 0) throws -> TCPPair {
        let listenFamily = family == .ipv4 ? AF_INET : AF_INET6
        let clientFamily = family == .ipv6 ? AF_INET6 : AF_INET
        let listener = try cgroup?.tcp(listenFamily) ?? TestSocket.tcp(listenFamily)
        let client = try cgroup?.tcp(clientFamily) ?? TestSocket.tcp(clientFamily)
        var one: Int32 = 1
        setsockopt(listener.fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let port: UInt16
        if family == .ipv4 {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = listenPort.bigEndian
            guard bind(listener.fd, address) == 0, listen(listener.fd, 16) == 0 else { throw TestSocketError("bind/listen") }
            port = listener.localPort
        } else {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            if family == .ipv6 { address.sin6_addr = in6addr_loopback } // dual stack: in6addr_any
            address.sin6_port = listenPort.bigEndian
            guard bind(listener.fd, address) == 0, listen(listener.fd, 16) == 0 else { throw TestSocketError("bind/listen") }
            port = listener.localPort
        }
        if family == .ipv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_addr = in6addr_loopback
            address.sin6_port = port.bigEndian
            guard connect(client.fd, address) == 0 else { throw TestSocketError("connect") }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = port.bigEndian
            guard connect(client.fd, address) == 0 else { throw TestSocketError("connect") }
        }
        return try accepting(client, on: listener)
    }

    /// Accepts the connection `client` made to `listener`, with timeouts on both ends.
    static func accepting(_ client: TestSocket, on listener: TestSocket) throws -> TCPPair {
        let accepted = accept(listener.fd, nil, nil)
        guard accepted >= 0 else { throw TestSocketError("accept") }
        let server = TestSocket(fd: accepted)
        client.setTimeouts()
        server.setTimeouts()
        return TCPPair(client: client, server: server)
    }
}

func bind<T>(_ fd: Int32, _ address: T) -> Int32 {
    var copy = address
    return withUnsafePointer(to: &copy) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<T>.size)) } }
}

func connect<T>(_ fd: Int32, _ address: T) -> Int32 {
    var copy = address
    return withUnsafePointer(to: &copy) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<T>.size)) } }
}

import Glibc

/// Raw socket helpers over Glibc, every wait bounded.
///
/// Each blocking call carries SO_RCVTIMEO/SO_SNDTIMEO, and every loop gives up when it has made
/// no progress for `SocketTimeouts.idleSeconds`. EAGAIN and EINTR are "poll, then retry": on a
/// socket in a sockmap a blocking recv can return EAGAIN with nothing wrong (docs/kernel-behaviour.md).
struct Socket: ~Copyable {
    let fd: Int32

    init(adopting fd: Int32) {
        self.fd = fd
    }

    deinit {
        close(fd)
    }
}

/// How long any socket operation may sit without progress before it counts as a hang.
struct SocketTimeouts: Sendable {
    var idleSeconds: Double = 10
}

// MARK: - Creating and connecting

extension Socket {
    /// A listening socket on `endpoint` (see `boundEndpoint(like:)` for the port the kernel chose).
    static func listen(on endpoint: Endpoint, timeouts: SocketTimeouts) throws -> Socket {
        let socket = try Socket.make(for: endpoint, timeouts: timeouts)
        var one: Int32 = 1
        if endpoint.isTCP {
            _ = setsockopt(socket.fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        let rc = withSocketAddress(endpoint) { bind(socket.fd, $0, $1) }
        guard rc == 0 else { throw BenchError.system("bind \(endpoint)") }
        guard Glibc.listen(socket.fd, 1024) == 0 else { throw BenchError.system("listen \(endpoint)") }
        return socket
    }

    /// A connected socket (TCP_NODELAY on TCP), with the connect bounded by SO_SNDTIMEO.
    static func connect(to endpoint: Endpoint, timeouts: SocketTimeouts, noDelay: Bool = true) throws -> Socket {
        let socket = try Socket.make(for: endpoint, timeouts: timeouts)
        let deadline = Deadline(seconds: timeouts.idleSeconds)
        while true {
            let rc = withSocketAddress(endpoint) { Glibc.connect(socket.fd, $0, $1) }
            if rc == 0 { break }
            let code = errno
            // EINTR: the connect goes on in the background; EISCONN on the retry means it finished.
            if code == EISCONN { break }
            guard code == EINTR || code == EALREADY || code == EINPROGRESS, !deadline.hasPassed else {
                throw BenchError.system("connect \(endpoint)", errno: code)
            }
            try socket.waitFor(Int16(POLLOUT), until: deadline, what: "connect \(endpoint)")
        }
        if endpoint.isTCP && noDelay { try socket.setNoDelay() }
        return socket
    }

    /// The next connection, within the idle timeout.
    func accept(timeouts: SocketTimeouts, noDelay: Bool) throws -> Socket {
        let deadline = Deadline(seconds: timeouts.idleSeconds)
        while true {
            let fd = Glibc.accept(self.fd, nil, nil)
            if fd >= 0 {
                let socket = Socket(adopting: fd)
                _ = fcntl(fd, F_SETFD, FD_CLOEXEC)   // accept4 needs _GNU_SOURCE; no exec can run in between
                try socket.setTimeouts(timeouts)
                if noDelay { try socket.setNoDelay() }
                return socket
            }
            let code = errno
            guard code == EAGAIN || code == EINTR || code == ECONNABORTED else {
                throw BenchError.system("accept", errno: code)
            }
            try waitFor(Int16(POLLIN), until: deadline, what: "accept")
        }
    }

    /// Close with RST instead of FIN: no TIME_WAIT, so a connection-rate run cannot exhaust ports.
    func setLingerZero() throws {
        var value = linger(l_onoff: 1, l_linger: 0)
        guard setsockopt(fd, SOL_SOCKET, SO_LINGER, &value, socklen_t(MemoryLayout<linger>.size)) == 0 else {
            throw BenchError.system("setsockopt SO_LINGER")
        }
    }

    /// No more writes from this side; the peer reads end-of-file after the data.
    func shutdownWrite() throws {
        guard shutdown(fd, Int32(SHUT_WR)) == 0 else { throw BenchError.system("shutdown") }
    }

    private static func make(for endpoint: Endpoint, timeouts: SocketTimeouts) throws -> Socket {
        let family = endpoint.isTCP ? AF_INET : AF_UNIX
        let fd = socket(family, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw BenchError.system("socket") }
        let socket = Socket(adopting: fd)
        try socket.setTimeouts(timeouts)
        return socket
    }

    private func setTimeouts(_ timeouts: SocketTimeouts) throws {
        let whole = timeouts.idleSeconds.rounded(.down)
        var value = timeval(tv_sec: Int(whole), tv_usec: Int((timeouts.idleSeconds - whole) * 1e6))
        let size = socklen_t(MemoryLayout<timeval>.size)
        guard setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, size) == 0,
              setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, size) == 0
        else { throw BenchError.system("setsockopt SO_RCVTIMEO/SO_SNDTIMEO") }
    }

    private func setNoDelay() throws {
        var one: Int32 = 1
        guard setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw BenchError.system("setsockopt TCP_NODELAY")
        }
    }

    /// Where the socket is bound: `requested` with the kernel's port filled in for TCP port 0.
    func boundEndpoint(like requested: Endpoint) throws -> Endpoint {
        guard requested.isTCP else { return requested }
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let rc = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard rc == 0 else { throw BenchError.system("getsockname") }
        let port = UInt16(bigEndian: address.sin_port)
        if case .bridgeTCP(let host, _) = requested { return .bridgeTCP(address: host, port: port) }
        return .loopbackTCP(port: port)
    }
}

// MARK: - Reading and writing

extension Socket {
    /// Writes every byte (MSG_NOSIGNAL: a vanished peer is an error, not a SIGPIPE).
    func sendAll(_ bytes: UnsafeRawBufferPointer, timeouts: SocketTimeouts) throws {
        var offset = 0
        var lastProgress = Deadline(seconds: timeouts.idleSeconds)
        while offset < bytes.count {
            let n = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if n > 0 {
                offset += n
                lastProgress = Deadline(seconds: timeouts.idleSeconds)
                continue
            }
            let code = errno
            guard n < 0, code == EAGAIN || code == EINTR else {
                throw BenchError.system("send", errno: code)
            }
            try waitFor(Int16(POLLOUT), until: lastProgress, what: "send")
        }
    }

    /// Reads up to `buffer.count` bytes; 0 means end-of-file.
    func receiveSome(into buffer: UnsafeMutableRawBufferPointer, timeouts: SocketTimeouts) throws -> Int {
        let deadline = Deadline(seconds: timeouts.idleSeconds)
        while true {
            let n = recv(fd, buffer.baseAddress, buffer.count, 0)
            if n >= 0 { return n }
            let code = errno
            guard code == EAGAIN || code == EINTR else { throw BenchError.system("recv", errno: code) }
            try waitFor(Int16(POLLIN), until: deadline, what: "recv")
        }
    }

    /// Fills `buffer` completely. Returns false on end-of-file before the first byte (a clean
    /// end between messages); end-of-file in the middle of a message is an error.
    func receiveExactly(into buffer: UnsafeMutableRawBufferPointer, timeouts: SocketTimeouts) throws -> Bool {
        var offset = 0
        while offset < buffer.count {
            let n = try receiveSome(into: UnsafeMutableRawBufferPointer(rebasing: buffer[offset...]), timeouts: timeouts)
            if n == 0 {
                if offset == 0 { return false }
                throw BenchError("peer closed after \(offset) of \(buffer.count) bytes of a message")
            }
            offset += n
        }
        return true
    }

    /// poll(2) for `events` until `deadline`; passing the deadline is the error that ends a hang.
    private func waitFor(_ events: Int16, until deadline: Deadline, what: String) throws {
        var entry = pollfd(fd: fd, events: events, revents: 0)
        while true {
            let timeout = deadline.remainingMilliseconds
            guard timeout > 0 else { throw BenchError("\(what): no progress for the idle timeout (hang?)") }
            let rc = poll(&entry, 1, timeout)
            if rc > 0 { return }   // ready, or an error the retried call will report
            if rc < 0, errno != EINTR { throw BenchError.system("poll (\(what))") }
        }
    }
}

/// Calls `body` with `endpoint` as a sockaddr; the pointer does not outlive the call.
private func withSocketAddress<R>(_ endpoint: Endpoint, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
    switch endpoint {
    case .loopbackTCP(let port):
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian   // 127.0.0.1, never anything else
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    case .bridgeTCP(let host, let port):
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        _ = inet_pton(AF_INET, host, &address.sin_addr)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    case .unixAbstract(let name):
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let nameBytes = Array(name.utf8.prefix(100))
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            path[0] = 0   // abstract namespace
            for (index, byte) in nameBytes.enumerated() { path[index + 1] = byte }
        }
        let length = MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + 1 + nameBytes.count
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(length)) }
        }
    }
}

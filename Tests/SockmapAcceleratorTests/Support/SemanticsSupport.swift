import Foundation
import SockmapAccelerator
import Testing

// Support for the semantics and stress tests: the three paths a connection can take, raw
// connections whose ends can be closed early, epoll and splice (not in Swift's Glibc module),
// and threads that can be waited for with a deadline.

/// How a test connection is made, so one test body can compare the accelerated path with
/// ordinary TCP.
enum SocketPath: String, Sendable, CaseIterable, CustomTestStringConvertible {
    /// Both ends inside an accelerated cgroup: every send is redirected.
    case accelerated
    /// Outside any accelerated cgroup: ordinary loopback TCP.
    case plain
    /// Inside the accelerated cgroup, but the server port is on the policy deny-list (added before
    /// connecting): the way around the kernel's caveats for one service.
    case denyListed

    var testDescription: String { rawValue }
}

/// A connected loopback pair as raw descriptors. Either end can be closed early (`close(.client)`),
/// the rest are closed by `deinit`.
final class Connection: @unchecked Sendable {
    enum End: Sendable { case client, server }
    private(set) var client: Int32
    private(set) var server: Int32
    let serverPort: UInt16

    init(client: Int32, server: Int32, serverPort: UInt16) {
        self.client = client
        self.server = server
        self.serverPort = serverPort
    }

    deinit {
        if client >= 0 { Glibc.close(client) }
        if server >= 0 { Glibc.close(server) }
    }

    func fd(_ end: End) -> Int32 { end == .client ? client : server }

    func close(_ end: End) {
        switch end {
        case .client: if client >= 0 { Glibc.close(client); client = -1 }
        case .server: if server >= 0 { Glibc.close(server); server = -1 }
        }
    }

    /// Wakes every thread blocked on either end (used when a test runs out of time).
    func shutdownBoth() {
        if client >= 0 { shutdown(client, Int32(SHUT_RDWR)) }
        if server >= 0 { shutdown(server, Int32(SHUT_RDWR)) }
    }
}

/// An accelerated cgroup (unless the path is `.plain`) and the connections made for one test.
final class PathEnvironment {
    let path: SocketPath
    let cgroup: AcceleratedCgroup?

    init(_ path: SocketPath) throws {
        self.path = path
        cgroup = path == .plain ? nil : try AcceleratedCgroup()
    }

    func tearDown() { cgroup?.tearDown() }

    func counters() throws -> Counters { try cgroup?.counters() ?? Counters() }

    /// Makes a socket inside the cgroup (when there is one): a socket keeps the cgroup it was created in.
    func socket() throws -> Int32 {
        if let cgroup { return try cgroup.socketDescriptor(family: AF_INET) }
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSocketError("socket") }
        return fd
    }

    /// Listen, (deny-list the port,) connect, accept. `timeouts` sets SO_RCVTIMEO/SO_SNDTIMEO on
    /// both ends; nil leaves them fully blocking (the caller must guard against hangs).
    func connection(timeouts: Int? = TestSocket.timeoutSeconds) throws -> Connection {
        let listener = try socket()
        defer { Glibc.close(listener) }
        let client = try socket()
        var ok = false
        defer { if !ok { Glibc.close(client) } }
        var one: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(listener, loopbackAddress(0)) == 0, listen(listener, 64) == 0 else { throw TestSocketError("bind/listen") }
        let port = localPort(listener)
        if path == .denyListed, let cgroup { try cgroup.accelerator.addPolicy(.port(port)) }
        setTimeouts(client, seconds: TestSocket.timeoutSeconds) // bounds connect()
        setTimeouts(listener, seconds: TestSocket.timeoutSeconds) // bounds accept()
        guard connect(client, loopbackAddress(port)) == 0 else { throw TestSocketError("connect") }
        let server = accept(listener, nil, nil)
        guard server >= 0 else { throw TestSocketError("accept") }
        setTimeouts(client, seconds: timeouts ?? 0)
        setTimeouts(server, seconds: timeouts ?? 0)
        ok = true
        return Connection(client: client, server: server, serverPort: port)
    }

    /// Checks that the test's traffic took the path it was meant to: redirected (at least
    /// `bytes` bytes) when accelerated; skipped by the policy when deny-listed.
    /// `missedSends`: sends expected to miss the map (to a peer that has closed).
    func expectTookPath(connections: Int, redirectedAtLeast bytes: Int, missedSends: UInt64 = 0,
                        sourceLocation: SourceLocation = #_sourceLocation) throws {
        let counters = try counters()
        switch path {
        case .accelerated:
            #expect(counters.socketsInserted == UInt64(2 * connections), sourceLocation: sourceLocation)
            // Redirected, or sent over TCP on a backpressure detour (a reader behind its writer).
            #expect(counters.bytesRedirected + counters.bytesDetoured >= UInt64(bytes), sourceLocation: sourceLocation)
            #expect(counters.bytesRedirected > 0, sourceLocation: sourceLocation)
            #expect(counters.redirectMissed + counters.keptOnTCP == missedSends, sourceLocation: sourceLocation)
        case .denyListed:
            #expect(counters.skippedByPolicy == UInt64(connections), sourceLocation: sourceLocation)
            #expect(counters.socketsInserted == 0, sourceLocation: sourceLocation)
            #expect(counters.bytesRedirected == 0, sourceLocation: sourceLocation)
        case .plain:
            break
        }
    }
}

func loopbackAddress(_ port: UInt16) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = port.bigEndian
    return address
}

func localPort(_ fd: Int32) -> UInt16 {
    var address = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return UInt16(bigEndian: address.sin_port)
}

func peerPort(_ fd: Int32) -> UInt16 {
    var address = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) } }
    return UInt16(bigEndian: address.sin_port)
}

/// SO_RCVTIMEO and SO_SNDTIMEO; 0 means block forever.
func setTimeouts(_ fd: Int32, seconds: Int) {
    var tv = timeval(tv_sec: seconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
}

func setNonBlocking(_ fd: Int32, _ on: Bool = true) {
    let flags = fcntl(fd, F_GETFL)
    _ = fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK)
}

/// Waits up to `milliseconds` for `events` on `fd` with poll(2); returns the revents.
func pollEvents(_ fd: Int32, _ events: Int16 = Int16(POLLIN), milliseconds: Int32) -> Int16 {
    var entry = pollfd(fd: fd, events: events, revents: 0)
    return Glibc.poll(&entry, 1, milliseconds) > 0 ? entry.revents : 0
}

/// FIONREAD (SIOCINQ): bytes the kernel says are ready to read.
func bytesReadable(_ fd: Int32) -> Int32 {
    var count: Int32 = -1
    _ = ioctl(fd, UInt(FIONREAD), &count)
    return count
}

/// The running kernel's (major, minor), from uname.
let kernelVersion: (major: Int, minor: Int) = {
    var name = utsname()
    uname(&name)
    let release = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    let parts = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
    return (parts.first ?? 0, parts.count > 1 ? parts[1] : 0)
}()

/// Sends all of `bytes` on a blocking socket; returns 0 or the errno that stopped it.
func sendAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Int32 {
    var sent = 0
    while sent < bytes.count {
        let n = send(fd, bytes.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
        if n > 0 { sent += n; continue }
        if n < 0 && errno == EINTR { continue }
        return n < 0 ? errno : EPIPE
    }
    return 0
}

/// Sends a whole stream in random-sized writes on a blocking socket; returns 0 or the errno.
func sendStream(_ fd: Int32, _ writer: StreamWriter) -> Int32 {
    while !writer.isComplete {
        let chunk = writer.pending()
        let error = sendAll(fd, chunk)
        if error != 0 { return error }
        writer.advance(chunk.count)
    }
    return 0
}

/// The result of reading a socket until it ended.
struct ReadOutcome: Equatable, CustomStringConvertible, Sendable {
    enum End: Equatable, Sendable { case endOfStream, error(Int32), timedOut }
    var bytes = 0
    var end: End = .timedOut
    /// recv() calls on a blocking socket that failed with EAGAIN before the deadline: spurious.
    var spuriousEAGAIN = 0

    var description: String {
        let ending: String
        switch end {
        case .endOfStream: ending = "end of stream"
        case .error(let code): ending = "\(errnoName(code))"
        case .timedOut: ending = "timed out"
        }
        return "\(bytes) bytes, then \(ending)" + (spuriousEAGAIN > 0 ? " (after \(spuriousEAGAIN) spurious EAGAIN)" : "")
    }
}

func errnoName(_ code: Int32) -> String {
    switch code {
    case EAGAIN: "EAGAIN"
    case ECONNRESET: "ECONNRESET"
    case EPIPE: "EPIPE"
    case EINTR: "EINTR"
    case ENOMEM: "ENOMEM"
    default: "errno \(code) (\(String(cString: strerror(code))))"
    }
}

/// Reads a blocking socket into `verifier` until end of stream, an error or `deadline`. EAGAIN
/// before the deadline is counted and retried (a blocking socket should never return it).
func receiveStream(_ fd: Int32, into verifier: StreamVerifier, readSize: Int = 256 << 10, deadline: Date) throws(StreamMismatch) -> ReadOutcome {
    var outcome = ReadOutcome()
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: readSize, alignment: 8)
    defer { buffer.deallocate() }
    while Date() < deadline {
        let n = recv(fd, buffer.baseAddress!, readSize, 0)
        if n > 0 {
            try verifier.consume(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            outcome.bytes += n
            continue
        }
        if n == 0 { outcome.end = .endOfStream; return outcome }
        let code = errno
        if code == EINTR { continue }
        if code == EAGAIN { outcome.spuriousEAGAIN += 1; continue }
        outcome.end = .error(code)
        return outcome
    }
    return outcome
}

/// A body running on its own thread, waited for with a deadline.
final class BackgroundTask<T: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: T?
    private var threadID: pthread_t?
    private var kernelThreadID: pid_t?

    init(_ body: @escaping @Sendable () -> T) {
        Thread.detachNewThread { [self] in
            condition.withLock { threadID = pthread_self(); kernelThreadID = LibC.shared.gettid(); condition.broadcast() }
            let value = body()
            condition.withLock { result = value; condition.broadcast() }
        }
    }

    /// The result, or nil if the body is still running after `timeout` seconds.
    func wait(timeout: TimeInterval) -> T? {
        let deadline = Date().addingTimeInterval(timeout)
        return condition.withLock {
            while result == nil && condition.wait(until: deadline) {}
            return result
        }
    }

    var isFinished: Bool { condition.withLock { result != nil } }

    /// The thread's kernel id (its /proc/self/task entry), once it has started.
    var taskID: pid_t {
        condition.withLock {
            while kernelThreadID == nil { condition.wait() }
            return kernelThreadID!
        }
    }

    /// The thread, once it has started.
    var thread: pthread_t {
        condition.withLock {
            while threadID == nil { condition.wait() }
            return threadID!
        }
    }
}

/// Functions Swift's Glibc module does not declare (they need _GNU_SOURCE or sys/epoll.h), looked up in libc.
struct LibC: @unchecked Sendable {
    typealias SpliceFunction = @convention(c) (Int32, UnsafeMutablePointer<Int64>?, Int32, UnsafeMutablePointer<Int64>?, Int, UInt32) -> Int
    typealias EpollCreateFunction = @convention(c) (Int32) -> Int32
    typealias EpollControlFunction = @convention(c) (Int32, Int32, Int32, UnsafeMutableRawPointer?) -> Int32
    typealias EpollWaitFunction = @convention(c) (Int32, UnsafeMutableRawPointer?, Int32, Int32) -> Int32
    typealias GetTIDFunction = @convention(c) () -> pid_t
    typealias SetAffinityFunction = @convention(c) (pid_t, Int, UnsafeMutablePointer<cpu_set_t>) -> Int32

    let splice: SpliceFunction
    let epollCreate1: EpollCreateFunction
    let epollControl: EpollControlFunction
    let epollWait: EpollWaitFunction
    let gettid: GetTIDFunction
    let schedSetAffinity: SetAffinityFunction

    static let shared = LibC()

    private init() {
        func lookup<F>(_ name: String, as type: F.Type) -> F {
            guard let symbol = dlsym(nil, name) else { fatalError("libc has no \(name)") }
            return unsafeBitCast(symbol, to: type)
        }
        splice = lookup("splice", as: SpliceFunction.self)
        epollCreate1 = lookup("epoll_create1", as: EpollCreateFunction.self)
        epollControl = lookup("epoll_ctl", as: EpollControlFunction.self)
        epollWait = lookup("epoll_wait", as: EpollWaitFunction.self)
        gettid = lookup("gettid", as: GetTIDFunction.self)
        schedSetAffinity = lookup("sched_setaffinity", as: SetAffinityFunction.self)
    }

    /// `SPLICE_F_MOVE`, `SPLICE_F_NONBLOCK` from <fcntl.h>.
    static let spliceMove: UInt32 = 1
    static let spliceNonBlock: UInt32 = 2
}

/// An epoll instance. `struct epoll_event` is packed on x86-64 (12 bytes) and naturally aligned
/// elsewhere (16 bytes); this builds it by hand.
final class Epoll {
    struct Event: Sendable {
        var events: UInt32
        var data: UInt64
    }

    /// EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, EPOLLRDHUP, EPOLLET from <sys/epoll.h>.
    static let readable: UInt32 = 0x001
    static let writable: UInt32 = 0x004
    static let error: UInt32 = 0x008
    static let hangUp: UInt32 = 0x010
    static let readHangUp: UInt32 = 0x2000
    static let edgeTriggered: UInt32 = 1 << 31

    #if arch(x86_64)
    private static let eventSize = 12, dataOffset = 4
    #else
    private static let eventSize = 16, dataOffset = 8
    #endif

    let fd: Int32
    private let buffer: UnsafeMutableRawBufferPointer
    private let capacity: Int

    init(capacity: Int = 256) throws {
        fd = LibC.shared.epollCreate1(O_CLOEXEC)
        guard fd >= 0 else { throw TestSocketError("epoll_create1") }
        self.capacity = capacity
        buffer = .allocate(byteCount: capacity * Self.eventSize, alignment: 8)
    }

    deinit {
        close(fd)
        buffer.deallocate()
    }

    private func control(_ operation: Int32, _ target: Int32, _ events: UInt32, _ data: UInt64) throws {
        var raw = [UInt8](repeating: 0, count: Self.eventSize)
        raw.withUnsafeMutableBytes {
            $0.storeBytes(of: events, toByteOffset: 0, as: UInt32.self)
            $0.storeBytes(of: data, toByteOffset: Self.dataOffset, as: UInt64.self)
        }
        let result = raw.withUnsafeMutableBytes { LibC.shared.epollControl(fd, operation, target, $0.baseAddress) }
        guard result == 0 else { throw TestSocketError("epoll_ctl") }
    }

    func add(_ target: Int32, events: UInt32, data: UInt64) throws { try control(1, target, events, data) }
    func modify(_ target: Int32, events: UInt32, data: UInt64) throws { try control(3, target, events, data) }
    func remove(_ target: Int32) throws { try control(2, target, 0, 0) }

    /// epoll_wait; EINTR counts as no events.
    func wait(milliseconds: Int32) throws -> [Event] {
        let n = LibC.shared.epollWait(fd, buffer.baseAddress, Int32(capacity), milliseconds)
        if n < 0 {
            if errno == EINTR { return [] }
            throw TestSocketError("epoll_wait")
        }
        return (0..<Int(n)).map { i in
            let base = i * Self.eventSize
            return Event(events: buffer.loadUnaligned(fromByteOffset: base, as: UInt32.self),
                         data: buffer.loadUnaligned(fromByteOffset: base + Self.dataOffset, as: UInt64.self))
        }
    }
}

/// Prints a measured value, so the numbers behind the documentation show up in the test log.
func report(_ text: String) {
    print("[semantics] \(text)")
    fflush(nil)
}

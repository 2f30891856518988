import Foundation
import SockmapAccelerator
import TestSupport

// Helpers for the hardening tests: pairs whose ends live in different cgroups or network
// namespaces, threads, streaming with byte-for-byte checks and file modes.

extension TestSocket {
    /// A new TCP socket with send/receive timeouts set (they also bound connect and accept).
    static func tcp(_ family: Int32 = AF_INET) throws -> TestSocket {
        let socket = TestSocket(fd: Glibc.socket(family, Int32(SOCK_STREAM.rawValue), 0))
        guard socket.fd >= 0 else { throw TestSocketError("socket") }
        socket.setTimeouts()
        return socket
    }

    /// Binds to 127.0.0.1:`port` (0 = any free port).
    func bindLoopback(port: UInt16) throws {
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, Self.loopback(port)) == 0 else { throw TestSocketError("bind 127.0.0.1:\(port)") }
    }

    static func loopback(_ port: UInt16) -> sockaddr_in { ipv4("127.0.0.1", port) }

    static func ipv4(_ text: String, _ port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(text)
        address.sin_port = port.bigEndian
        return address
    }
}

extension TCPPair {
    /// An IPv4 loopback pair whose listener and client socket are created in the given cgroups
    /// (nil: the test runner's) and in `namespace` (nil: the runner's). The accepted socket
    /// belongs to the listener's cgroup. Fixed ports make equal 4-tuples possible (e.g. in two
    /// namespaces).
    static func makeIPv4(listenerIn listenerCgroup: AcceleratedCgroup? = nil, clientIn clientCgroup: AcceleratedCgroup? = nil,
                         namespace: NetworkNamespace? = nil, serverPort: UInt16 = 0, clientPort: UInt16? = nil) throws -> TCPPair {
        let make = { (cgroup: AcceleratedCgroup?) throws -> TestSocket in
            if let cgroup { return try cgroup.tcp(in: namespace) }
            return try namespace.map { try $0.run { try TestSocket.tcp() } } ?? TestSocket.tcp()
        }
        let listener = try make(listenerCgroup)
        let client = try make(clientCgroup)
        try listener.bindLoopback(port: serverPort)
        guard listen(listener.fd, 16) == 0 else { throw TestSocketError("listen") }
        if let clientPort { try client.bindLoopback(port: clientPort) }
        guard connect(client.fd, TestSocket.loopback(listener.localPort)) == 0 else { throw TestSocketError("connect") }
        return try accepting(client, on: listener)
    }
}

/// Runs `body` on a new thread and waits for it: for per-thread state such as the network
/// namespace (`setns` changes only the calling thread). Every blocking call in `body` must have
/// its own timeout, since this waits for the thread to end.
func onNewThread<T>(_ body: () throws -> T) throws -> T {
    try withoutActuallyEscaping(body) { body in
        let box = ThreadBox(body)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            box.run()
            done.signal()
        }
        done.wait() // the closure must not outlive this call (withoutActuallyEscaping)
        return try box.result!.get()
    }
}

/// Carries a closure and its result across threads; the caller waits for the thread to finish,
/// so there is never concurrent access. `run` drops the closure before the caller resumes, as
/// `withoutActuallyEscaping` checks that nothing holds it afterwards.
private final class ThreadBox<T>: @unchecked Sendable {
    private var body: (() throws -> T)?
    var result: Result<T, any Error>?
    init(_ body: @escaping () throws -> T) { self.body = body }
    func run() {
        result = Result { try body!() }
        body = nil
    }
}

/// A named network namespace (`ip netns add`), with its own loopback up. `delete()` removes it.
final class NetworkNamespace {
    let name: String

    static let ipTool: String = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        .first { FileManager.default.isExecutableFile(atPath: $0) } ?? "ip"

    init(name: String) throws {
        self.name = name
        _ = try? CommandRunner.run(Self.ipTool, ["netns", "delete", name]) // a leftover of a crashed run
        let add = try CommandRunner.run(Self.ipTool, ["netns", "add", name], timeout: 10)
        guard add.status == 0 else { throw TestSocketError("ip netns add \(name): \(add.stderr)", 0) }
        let up = try CommandRunner.run(Self.ipTool, ["-n", name, "link", "set", "lo", "up"], timeout: 10)
        guard up.status == 0 else {
            delete()
            throw TestSocketError("ip -n \(name) link set lo up: \(up.stderr)", 0)
        }
    }

    /// A namespace someone else made (`ip -batch`); `delete()` still removes it.
    init(existing name: String) {
        self.name = name
    }

    func delete() {
        _ = try? CommandRunner.run(Self.ipTool, ["netns", "delete", name], timeout: 10)
    }

    /// Runs `body` on a fresh thread that has joined this namespace: sockets it creates live in
    /// the namespace for good, whichever thread uses them later.
    func run<T>(_ body: () throws -> T) throws -> T {
        try onNewThread {
            let fd = open("/var/run/netns/" + name, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw TestSocketError("open /var/run/netns/\(name)") }
            defer { close(fd) }
            guard let setns = Self.setns else { throw TestSocketError("setns is not available", ENOSYS) }
            guard setns(fd, Self.cloneNewNet) == 0 else { throw TestSocketError("setns \(name)") }
            return try body()
        }
    }

    /// `CLONE_NEWNET` from <sched.h>.
    static let cloneNewNet: Int32 = 0x4000_0000

    private typealias SetnsFunction = @convention(c) (Int32, Int32) -> Int32
    /// Swift's Glibc module does not declare setns(2) (it needs _GNU_SOURCE): look it up in libc.
    private static var setns: SetnsFunction? {
        dlsym(nil, "setns").map { unsafeBitCast($0, to: SetnsFunction.self) }
    }
}

/// The permission bits of a file or directory, without following a symlink.
func permissions(_ path: String) -> mode_t? {
    var info = stat()
    guard lstat(path, &info) == 0 else { return nil }
    return info.st_mode & 0o7777
}

/// Streams a byte pattern both ways over every pair at once: per socket one writer and one
/// reader thread. Readers check every byte against the pattern, then expect end of stream (the
/// writer shuts down after its last byte), so loss, duplication, reordering and corruption all
/// show up as failures.
final class BidirectionalStreams: @unchecked Sendable {
    private struct Stream {
        let sender: Int32
        let receiver: Int32
        let pattern: [UInt8]
    }

    let bytesPerStream: Int
    private let streams: [Stream]
    private let lock = NSLock()
    private var received: [Int]
    private var failures: [String] = []
    private let group = DispatchGroup()
    private static let patternLength = 300_007 // not a multiple of any chunk size
    private static let chunkSizes = [1, 7, 1000, 4096, 65536, 16384, 3, 100_000, 512]

    /// Stream 2i goes from pair i's client to its server, 2i+1 back.
    init(pairs: [TCPPair], bytesPerStream: Int) {
        self.bytesPerStream = bytesPerStream
        var streams: [Stream] = []
        for (index, pair) in pairs.enumerated() {
            for (direction, ends) in [(pair.client.fd, pair.server.fd), (pair.server.fd, pair.client.fd)].enumerated() {
                let seed = UInt64(0x5EED_0000 + index * 2 + direction)
                streams.append(Stream(sender: ends.0, receiver: ends.1,
                                      pattern: Pattern.bytes(seed: seed, offset: 0, count: Self.patternLength)))
            }
        }
        self.streams = streams
        received = Array(repeating: 0, count: streams.count)
    }

    var streamCount: Int { streams.count }

    func start(timeout: TimeInterval = 60) {
        let deadline = Date().addingTimeInterval(timeout)
        for index in streams.indices {
            group.enter()
            Thread.detachNewThread { [self] in write(index, deadline: deadline); group.leave() }
            group.enter()
            Thread.detachNewThread { [self] in read(index, deadline: deadline); group.leave() }
        }
    }

    /// Waits for every thread; false if they did not finish in time.
    func wait(timeout: TimeInterval = 90) -> Bool {
        group.wait(timeout: .now() + timeout) == .success
    }

    /// For a test that fails early: unless every thread has finished, shuts the sockets down so
    /// blocked threads return, and waits for them, so none touches a descriptor after it is
    /// closed (and maybe reused). Call it before the pairs are released.
    func stop() {
        if group.wait(timeout: .now()) == .success { return }
        for stream in streams { shutdown(stream.sender, Int32(SHUT_RDWR)) }
        _ = wait(timeout: 30)
    }

    /// Bytes verified so far, per stream.
    var progress: [Int] { lock.withLock { received } }
    var errors: [String] { lock.withLock { failures } }

    private func fail(_ text: String) { lock.withLock { failures.append(text) } }

    private func write(_ index: Int, deadline: Date) {
        let stream = streams[index]
        var sent = 0, chunk = 0
        defer { shutdown(stream.sender, Int32(SHUT_WR)) }
        while sent < bytesPerStream {
            let position = sent % Self.patternLength
            let size = min(Self.chunkSizes[chunk % Self.chunkSizes.count], Self.patternLength - position, bytesPerStream - sent)
            chunk += 1
            var done = 0
            while done < size {
                let n = stream.pattern.withUnsafeBytes { send(stream.sender, $0.baseAddress! + position + done, size - done, Int32(MSG_NOSIGNAL)) }
                if n > 0 { done += n; continue }
                if n < 0 && (errno == EINTR || (errno == EAGAIN && Date() < deadline)) { continue }
                fail("stream \(index): send after \(sent + done) bytes: \(String(cString: strerror(errno)))")
                return
            }
            sent += size
        }
    }

    private func read(_ index: Int, deadline: Date) {
        let stream = streams[index]
        var buffer = [UInt8](repeating: 0, count: 128 * 1024)
        var got = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(stream.receiver, $0.baseAddress!, $0.count, 0) }
            if n == 0 {
                if got != bytesPerStream { fail("stream \(index): end of stream after \(got) of \(bytesPerStream) bytes") }
                return
            }
            if n < 0 {
                // Blocking recv on a redirected socket may return EAGAIN spuriously (docs/kernel-behaviour.md).
                if (errno == EAGAIN || errno == EINTR) && Date() < deadline { continue }
                fail("stream \(index): recv after \(got) of \(bytesPerStream) bytes: \(String(cString: strerror(errno)))")
                return
            }
            if got + n > bytesPerStream {
                fail("stream \(index): \(got + n - bytesPerStream) bytes more than were sent")
                return
            }
            if let offset = mismatch(buffer, count: n, at: got, pattern: stream.pattern) {
                fail("stream \(index): wrong byte at offset \(offset) (read of \(n) bytes at \(got))")
                return
            }
            got += n
            lock.withLock { received[index] = got }
        }
    }

    /// The stream offset of the first byte of `buffer[0..<count]` that differs from the pattern.
    private func mismatch(_ buffer: [UInt8], count: Int, at start: Int, pattern: [UInt8]) -> Int? {
        var checked = 0
        while checked < count {
            let position = (start + checked) % Self.patternLength
            let length = min(count - checked, Self.patternLength - position)
            let equal = buffer.withUnsafeBytes { b in
                pattern.withUnsafeBytes { p in memcmp(b.baseAddress! + checked, p.baseAddress! + position, length) == 0 }
            }
            if !equal {
                for i in 0..<length where buffer[checked + i] != pattern[position + i] { return start + checked + i }
            }
            checked += length
        }
        return nil
    }
}

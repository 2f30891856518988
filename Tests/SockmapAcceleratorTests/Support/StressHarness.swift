import Foundation
import Synchronization
import TestSupport

/// What a stress run moves, read from the environment so the same test serves CI and soak runs:
///
/// - `SOCKMAP_STRESS_BYTES`: total bytes over all connections and both directions
///   (`1G` by default, about 6 s per path; `4G` or more for a soak run). Suffixes K, M, G, T (binary).
/// - `SOCKMAP_STRESS_CONNECTIONS`: concurrent connections (default 64).
/// - `SOCKMAP_STRESS_SEED`: seed of the write sizes and patterns (default fixed, so runs repeat).
struct StressConfiguration: Sendable, CustomStringConvertible {
    var totalBytes = 1 << 30
    var connections = 64
    var seed: UInt64 = 0x50C4_AA11
    /// Largest single write.
    var maxWrite = 1 << 20
    /// A writer stays at most this far ahead of its reader (application-level flow control:
    /// redirected data has no receive-buffer limit, see docs/backpressure.md).
    var window = 2 << 20

    static func fromEnvironment() -> StressConfiguration {
        var configuration = StressConfiguration()
        let environment = ProcessInfo.processInfo.environment
        if let text = environment["SOCKMAP_STRESS_BYTES"], let bytes = parseByteCount(text) { configuration.totalBytes = bytes }
        if let text = environment["SOCKMAP_STRESS_CONNECTIONS"], let count = Int(text), count > 0 { configuration.connections = count }
        if let text = environment["SOCKMAP_STRESS_SEED"], let seed = UInt64(text) { configuration.seed = seed }
        return configuration
    }

    var streams: Int { 2 * connections }
    var bytesPerStream: Int { max(1, totalBytes / streams) }

    /// Generous: the run fails on a 15 s stall long before this.
    var deadline: TimeInterval { 120 + Double(totalBytes) / Double(8 << 20) }

    var description: String {
        "\(connections) connections, \(bytesPerStream) bytes per direction (\(bytesPerStream * streams) in all), seed \(seed)"
    }
}

/// Received bytes per stream, shared by the two sides for flow control and stall reports.
final class StressProgress: Sendable {
    private let counts: [Counter]
    let stop = Atomic<Bool>(false)

    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    init(streams: Int) { counts = (0..<streams).map { _ in Counter() } }

    func received(_ stream: Int) -> Int { counts[stream].value.load(ordering: .relaxed) }
    func setReceived(_ stream: Int, _ value: Int) { counts[stream].value.store(value, ordering: .relaxed) }
    var total: Int { counts.reduce(0) { $0 + $1.value.load(ordering: .relaxed) } }
}

/// Client port → connection index, filled by the client before it connects, read by the server
/// when it accepts.
final class StressRegistry: Sendable {
    private let ports = Mutex<[UInt16: Int]>([:])
    func register(port: UInt16, index: Int) { ports.withLock { $0[port] = index } }
    func index(of port: UInt16) -> Int? { ports.withLock { $0[port] } }
}

/// One side of every connection (all client ends, or all server ends) driven by one epoll loop
/// on one thread: non-blocking sockets, random-sized writes, every received byte verified.
final class StressSide: @unchecked Sendable {
    enum Role: String, Sendable { case client, server }

    /// One socket: it writes one stream and reads the other.
    final class End {
        let index: Int
        let fd: Int32
        let writer: StreamWriter
        let outStream: Int
        let verifier: StreamVerifier
        let inStream: Int
        var writing = true, reading = true
        var wantsOutput = true
        var windowBlocked = false
        init(index: Int, fd: Int32, writer: StreamWriter, outStream: Int, verifier: StreamVerifier, inStream: Int) {
            self.index = index
            self.fd = fd
            self.writer = writer
            self.outStream = outStream
            self.verifier = verifier
            self.inStream = inStream
        }
    }

    let role: Role
    let configuration: StressConfiguration
    private let progress: StressProgress
    private let registry: StressRegistry
    /// Server: the listener. Client: nothing.
    private let listener: Int32
    /// Client: sockets made (inside the cgroup) and bound, in connection order.
    private var unconnected: [Int32]
    private let serverPort: UInt16
    private var ends: [Int: End] = [:]
    private var finished = 0
    private var opened = 0
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 8)

    private(set) var failures: [String] = []
    private(set) var sendErrors: [Int32: Int] = [:]
    private(set) var writes = 0

    init(role: Role, configuration: StressConfiguration, progress: StressProgress, registry: StressRegistry,
         listener: Int32 = -1, clientSockets: [Int32] = [], serverPort: UInt16 = 0) {
        self.role = role
        self.configuration = configuration
        self.progress = progress
        self.registry = registry
        self.listener = listener
        unconnected = clientSockets
        self.serverPort = serverPort
    }

    deinit {
        readBuffer.deallocate()
        for end in ends.values { close(end.fd) }
        for fd in unconnected { close(fd) }
    }

    /// Stream 2i goes from connection i's client to its server, 2i+1 back.
    private func makeEnd(index: Int, fd: Int32) -> End {
        let out = role == .client ? 2 * index : 2 * index + 1
        let inbound = role == .client ? 2 * index + 1 : 2 * index
        let total = configuration.bytesPerStream
        let pattern = { (stream: Int) in Pattern(run: self.configuration.seed, connection: stream / 2, direction: stream % 2) }
        return End(index: index, fd: fd,
                   writer: StreamWriter(pattern: pattern(out), total: total, seed: configuration.seed &+ UInt64(out) &* 0x100_0001,
                                        maxWrite: configuration.maxWrite),
                   outStream: out,
                   verifier: StreamVerifier(name: "connection \(index) \(inbound % 2 == 0 ? "client→server" : "server→client")",
                                            pattern: pattern(inbound), total: total),
                   inStream: inbound)
    }

    private func fail(_ text: String) {
        failures.append(text)
        progress.stop.store(true, ordering: .relaxed)
    }

    /// Runs until every connection of this side is done, a failure, a stall or the deadline.
    func run() {
        do {
            try loop()
        } catch {
            fail("\(role): \(error)")
        }
    }

    private func loop() throws {
        let epoll = try Epoll(capacity: 256)
        if role == .server {
            try epoll.add(listener, events: Epoll.readable, data: UInt64.max)
        }
        let deadline = Date().addingTimeInterval(configuration.deadline)
        var lastProgress = Date(), lastTotal = -1
        while finished < configuration.connections {
            if progress.stop.load(ordering: .relaxed) { return }
            let now = Date()
            if now > deadline { fail("\(role): deadline passed; \(state())"); return }
            let total = progress.total
            if total != lastTotal { lastTotal = total; lastProgress = now }
            if now.timeIntervalSince(lastProgress) > 15 { fail("\(role): no progress for 15 s; \(state())"); return }

            // The client opens its connections one per turn while the earlier ones already stream.
            if role == .client, opened < configuration.connections { try connectNext(epoll) }

            let blocked = ends.values.contains { $0.windowBlocked }
            let timeout: Int32 = opened < configuration.connections && role == .client ? 0 : (blocked ? 1 : 100)
            for event in try epoll.wait(milliseconds: timeout) {
                if event.data == UInt64.max { try acceptAll(epoll); continue }
                guard let end = ends[Int(event.data)] else { continue }
                if event.events & (Epoll.readable | Epoll.readHangUp | Epoll.hangUp | Epoll.error) != 0 { read(end) }
                if event.events & Epoll.writable != 0 { write(end) }
                try retire(end, epoll)
            }
            for end in ends.values where end.windowBlocked {
                write(end)
                try retire(end, epoll)
            }
        }
    }

    /// Connects the next client socket and, right after connect() returns, sends two writes
    /// (at most 16 bytes, then at most 64 KiB), while the server may still be accepting others:
    /// this probes the ordering of bytes sent before the server socket is in the map.
    private func connectNext(_ epoll: Epoll) throws {
        let index = opened
        let fd = unconnected.removeFirst()
        opened += 1
        guard connect(fd, loopbackAddress(serverPort)) == 0 else {
            close(fd)
            throw TestSocketError("connect (connection \(index))")
        }
        let end = makeEnd(index: index, fd: fd)
        ends[index] = end
        for limit in [16, 64 << 10] {
            let chunk = end.writer.pending(limit: limit)
            guard sendAll(fd, chunk) == 0 else { throw TestSocketError("first send (connection \(index))") }
            end.writer.advance(chunk.count)
            writes += 1
        }
        setNonBlocking(fd)
        try epoll.add(fd, events: Epoll.readable | Epoll.readHangUp | Epoll.writable, data: UInt64(index))
    }

    private func acceptAll(_ epoll: Epoll) throws {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EAGAIN || errno == EINTR { return }
                throw TestSocketError("accept")
            }
            guard let index = registry.index(of: peerPort(fd)) else {
                close(fd)
                throw TestSocketError("accepted a connection from an unknown port \(peerPort(fd))", 0)
            }
            setNonBlocking(fd)
            ends[index] = makeEnd(index: index, fd: fd)
            opened += 1
            try epoll.add(fd, events: Epoll.readable | Epoll.readHangUp | Epoll.writable, data: UInt64(index))
        }
    }

    private func read(_ end: End) {
        guard end.reading else { return }
        var budget = 4 << 20
        while budget > 0 {
            let n = recv(end.fd, readBuffer.baseAddress!, readBuffer.count, 0)
            if n > 0 {
                do {
                    try end.verifier.consume(UnsafeRawBufferPointer(rebasing: readBuffer[0..<n]))
                } catch {
                    fail("\(error)")
                    end.reading = false
                    return
                }
                progress.setReceived(end.inStream, end.verifier.offset)
                budget -= n
                continue
            }
            if n == 0 {
                if !end.verifier.isComplete {
                    fail("\(end.verifier.name): end of stream after \(end.verifier.offset) of \(end.verifier.total) bytes")
                }
                end.reading = false
                return
            }
            if errno == EAGAIN || errno == EINTR { return }
            fail("\(end.verifier.name): recv after \(end.verifier.offset) bytes: \(errnoName(errno))")
            end.reading = false
            return
        }
    }

    private func write(_ end: End) {
        guard end.writing else { return }
        var budget = 4 << 20
        end.windowBlocked = false
        while budget > 0 {
            if end.writer.isComplete {
                shutdown(end.fd, Int32(SHUT_WR))
                end.writing = false
                return
            }
            if end.writer.sent - progress.received(end.outStream) > configuration.window {
                end.windowBlocked = true
                return
            }
            let chunk = end.writer.pending()
            let n = send(end.fd, chunk.baseAddress!, chunk.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            if n > 0 {
                end.writer.advance(n)
                if n == chunk.count { writes += 1 }
                budget -= n
                continue
            }
            let code = n < 0 ? errno : EIO
            if code == EAGAIN || code == EINTR { return }
            sendErrors[code, default: 0] += 1
            if code == ENOMEM && sendErrors[code]! < 100 { usleep(1000); return } // memory pressure: record, retry
            fail("connection \(end.index) \(role): send after \(end.writer.sent) bytes: \(errnoName(code))")
            end.writing = false
            return
        }
    }

    /// Updates the epoll interest of `end`, and closes it when both its streams are done.
    private func retire(_ end: End, _ epoll: Epoll) throws {
        if !end.writing && !end.reading {
            try epoll.remove(end.fd)
            close(end.fd)
            ends[end.index] = nil
            finished += 1
            return
        }
        let wantsOutput = end.writing && !end.windowBlocked
        if wantsOutput != end.wantsOutput {
            end.wantsOutput = wantsOutput
            try epoll.modify(end.fd, events: Epoll.readable | Epoll.readHangUp | (wantsOutput ? Epoll.writable : 0), data: UInt64(end.index))
        }
    }

    /// Where every unfinished connection of this side stands.
    private func state() -> String {
        let open = ends.values.sorted { $0.index < $1.index }.prefix(16).map {
            "#\($0.index) sent \($0.writer.sent)/\($0.writer.total)\($0.windowBlocked ? " (window)" : "") received \($0.verifier.offset)/\($0.verifier.total)"
        }
        return "\(finished) of \(configuration.connections) done, \(opened) open; " + open.joined(separator: "; ")
    }
}

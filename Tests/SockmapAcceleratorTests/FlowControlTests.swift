import Foundation
import SockmapAccelerator
import TestSupport
import Testing

/// Flow control that keeps the fast path: a healthy bulk reader stays accelerated, a stalled one
/// sends its writer on a detour over TCP and the writer comes back once the reader has caught up,
/// an application's locked SO_RCVBUF is the limit exactly, and readers that wait inside TCP's own
/// receive path (MSG_WAITALL, SO_RCVLOWAT) are never stranded. Every test runs the same code on
/// plain TCP and accelerated, and checks every byte (docs/backpressure.md).
extension KernelIntegration {
    @Suite struct FlowControlTests {
        static let deadline: TimeInterval = 60

        enum Placement: String, CaseIterable, Sendable { case sameCPU = "same CPU", crossCPU = "cross CPU" }

        @Test("4 KiB locked buffers both ends, the peer closes after 1 KiB of a 256 KiB sendfile: the sender fails as on TCP", arguments: [SocketPath.accelerated, .plain])
        func lockedSmallBuffersPeerClosesMidway(path: SocketPath) throws {
            let env = try PathEnvironment(path)
            defer { env.tearDown() }
            let connection = try env.connection(buffers: 4096)
            let size = 256 << 10
            let file = try TemporaryFile(size: size, pattern: Pattern(seed: 301))
            defer { withExtendedLifetime(file) {} }
            let sender = try BackpressureTests.sendfileInBackground(connection.client, file, size: size)
            defer { if sender.wait(timeout: Self.deadline) == nil { connection.shutdownBoth() } }
            let verifier = StreamVerifier(name: "file", pattern: Pattern(seed: 301), total: size)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 8)
            defer { buffer.deallocate() }
            var read = 0
            while read < 1024 {
                let n = recv(connection.server, buffer.baseAddress! + read, 1024 - read, 0)
                guard n > 0 else { break }
                read += n
            }
            try verifier.consume(UnsafeRawBufferPointer(rebasing: buffer[0..<read]))
            // The sender must be held back by the 4 KiB buffers before the peer closes: wait until
            // it sleeps in the kernel waiting for send buffer space.
            let senderThread = sender.taskID
            #expect(waitUntil(timeout: 10) { sender.isFinished || threadWaits(senderThread, in: "sk_stream_wait_memory") },
                    "the sender waits for buffer space")
            connection.close(.server)
            let result = try #require(sender.wait(timeout: Self.deadline), "sendfile never returned after the peer closed")
            report("\(path): 4 KiB buffers: sendfile stopped after \(result.sent) of \(size) bytes with \(result.error == 0 ? "success" : errnoName(result.error)) (the peer read \(read) and closed)")
            #expect(result.sent < size, "the whole file cannot have been accepted by 4 KiB buffers")
            #expect(result.error == EPIPE || result.error == ECONNRESET)
            if path == .accelerated {
                let counters = try env.counters()
                #expect(counters.backpressureToTCP >= 1, "the locked SO_RCVBUF is the limit")
            }
        }

        @Test("1 GiB to a reader that reads continuously: accelerated, or back on plain TCP after a detour that cannot end; every byte checked", arguments: Placement.allCases)
        func bulkTransferStaysAccelerated(placement: Placement) throws {
            let env = try PathEnvironment(.accelerated)
            defer { env.tearDown() }
            let connection = try env.connection(timeouts: 30)
            let total = 1 << 30
            let clientFD = connection.client
            let sender = BackgroundTask { () -> Int32 in
                pinCurrentThread(to: 0)
                let writer = StreamWriter(pattern: Pattern(seed: 302), total: total, seed: 12, maxWrite: 1 << 20)
                let error = sendStream(clientFD, writer)
                return error != 0 ? error : (shutdown(clientFD, Int32(SHUT_WR)) == 0 ? 0 : errno)
            }
            defer { if sender.wait(timeout: Self.deadline) == nil { connection.shutdownBoth() } }
            let serverFD = connection.server
            let reader = BackgroundTask { () -> Result<ReadOutcome, StreamMismatch> in
                pinCurrentThread(to: placement == .sameCPU ? 0 : 1)
                let verifier = StreamVerifier(name: "bulk", pattern: Pattern(seed: 302), total: total)
                return Result { () throws(StreamMismatch) in
                    try receiveStream(serverFD, into: verifier, readSize: 1 << 20, deadline: Date().addingTimeInterval(Self.deadline))
                }
            }
            let outcome = try #require(reader.wait(timeout: Self.deadline + 5), "the reader never finished").get()
            #expect(outcome.bytes == total && outcome.end == .endOfStream, "\(outcome)")
            #expect(sender.wait(timeout: Self.deadline) == 0)
            let c = try env.counters()
            let share = Double(c.bytesRedirected) / Double(total)
            report(String(format: "1 GiB, \(placement.rawValue): %.1f%% redirected, %llu detours, %llu returns, %llu MiB detoured, %llu released",
                          100 * share, c.backpressureToTCP, c.returnedToFastPath, c.bytesDetoured >> 20, c.socketsReleased))
            #expect(c.redirectMissed == 0)
            // Either the connection stayed in the map, every byte went one of the two ways and
            // every detour but possibly the last came back; or a detour never found the reader
            // caught up at one of the writer's sends (a writer that never pauses stays ahead of
            // its reader by TCP's buffers) and, after detour_limit bytes, the connection left the
            // map for plain TCP (docs/backpressure.md). Across CPUs a detour is rare (the reader
            // keeps up): the share is reported, and the fast path's share over many runs is the
            // benchmark's to show.
            if c.socketsReleased == 0 {
                #expect(c.bytesRedirected + c.bytesDetoured == UInt64(total))
                #expect(c.keptOnTCP == 0, "the connection stayed in the map")
                #expect(c.returnedToFastPath + 1 >= c.backpressureToTCP)
            } else {
                #expect(c.socketsReleased == 2 && c.bytesDetoured >= 64 << 20, "left the map only after a detour of detour_limit bytes")
                #expect(c.backpressureToTCP == c.returnedToFastPath + 1)
            }
            #expect(c.bytesRedirected > 0)
        }

        @Test("a reader that alternates stalls and bursts: the writer detours and comes back, every byte in order", arguments: [SocketPath.accelerated, .plain])
        func stallsAndBursts(path: SocketPath) throws {
            let env = try PathEnvironment(path)
            defer { env.tearDown() }
            let connection = try env.connection(timeouts: 30)
            // Rounds of 12 MiB, as a producer that answers requests: each round starts once the
            // reader has read the one before. The reader stalls at the start of every round until
            // the writer is held back (a detour), then reads the round in bursts with short stalls.
            let round = 12 << 20, rounds = 4, total = round * rounds
            let gate = ReadGate()
            let clientFD = connection.client
            let sender = BackgroundTask {
                Self.sendRounds(clientFD, StreamWriter(pattern: Pattern(seed: 303), total: total, seed: 13, maxWrite: 256 << 10),
                                round: round, gate: gate) { index in index * round }
            }
            defer { if sender.wait(timeout: Self.deadline) == nil { connection.shutdownBoth() } }
            let senderThread = sender.taskID
            let verifier = StreamVerifier(name: "bursts", pattern: Pattern(seed: 303), total: total)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 8)
            defer { buffer.deallocate() }
            var generator = SeededGenerator(seed: 14)
            var read = 0
            for _ in 0..<rounds {
                let held = waitUntil(timeout: 10) { threadWaits(senderThread, in: "sk_stream_wait_memory") }
                #expect(held, "the writer is held back while the reader stalls")
                let end = read + round
                while read < end {
                    let burst = min(Int.random(in: 256 << 10...4 << 20, using: &generator), end - read)
                    var got = 0
                    while got < burst {
                        let n = recv(connection.server, buffer.baseAddress!, min(buffer.count, burst - got), 0)
                        guard n > 0 else { break }
                        try verifier.consume(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                        got += n
                    }
                    read += got
                    gate.advance(to: read)
                    if got < burst { break }
                    // A short stall: until the writer waits again, or the round is read.
                    _ = waitUntil(timeout: 1) { read == end || threadWaits(senderThread, in: "sk_stream_wait_memory") }
                }
            }
            let outcome = try receiveStream(connection.server, into: verifier, deadline: Date().addingTimeInterval(Self.deadline))
            #expect(read == total && outcome.bytes == 0 && outcome.end == .endOfStream, "read \(read) of \(total), then \(outcome)")
            #expect(sender.wait(timeout: Self.deadline) == 0)
            let c = try env.counters()
            report("\(path): \(rounds) rounds with stalls: \(c.backpressureToTCP) detours, \(c.returnedToFastPath) returns, \(c.bytesRedirected >> 20) MiB redirected, \(c.bytesDetoured >> 20) MiB detoured")
            if path == .accelerated {
                #expect(c.backpressureToTCP >= 1 && c.returnedToFastPath >= 1, "detoured and came back")
                #expect(c.socketsReleased == 0 && c.keptOnTCP == 0)
            }
        }

        /// Sends `writer`'s stream in rounds of `round` bytes, round `index` once `gate` shows
        /// `start(index)` bytes read (`start` may also wait for something else first), then shuts
        /// the sending side down. Returns 0 or the errno that stopped it (ETIMEDOUT: the reader
        /// never got that far).
        static func sendRounds(_ fd: Int32, _ writer: StreamWriter, round: Int, gate: ReadGate, start: (Int) -> Int) -> Int32 {
            for index in 0..<(writer.total + round - 1) / round {
                guard gate.wait(until: start(index), timeout: Self.deadline) else { return ETIMEDOUT }
                while writer.sent < min((index + 1) * round, writer.total) {
                    let chunk = writer.pending(limit: (index + 1) * round - writer.sent)
                    let error = sendAll(fd, chunk)
                    if error != 0 { return error }
                    writer.advance(chunk.count)
                }
            }
            return shutdown(fd, Int32(SHUT_WR)) == 0 ? 0 : errno
        }

        enum WaitingReader: String, CaseIterable, Sendable { case waitAll = "MSG_WAITALL", lowat = "SO_RCVLOWAT" }

        @Test("readers waiting inside TCP's receive path (MSG_WAITALL, SO_RCVLOWAT) across detours and returns: never stranded, every byte in order",
              arguments: [SocketPath.accelerated, .plain], WaitingReader.allCases)
        func waitingReaders(path: SocketPath, reader kind: WaitingReader) throws {
            let env = try PathEnvironment(path)
            defer { env.tearDown() }
            // Timeouts turn a stranded reader into EAGAIN after 10 s instead of a hang.
            let connection = try env.connection(timeouts: 10)
            let chunk = 128 << 10 // divides a round: a MSG_WAITALL read never spans two
            if kind == .lowat {
                var lowat = Int32(chunk)
                setsockopt(connection.server, SOL_SOCKET, SO_RCVLOWAT, &lowat, socklen_t(MemoryLayout<Int32>.size))
            }
            // Rounds of 8 MiB, each once the reader is within one read of the end of the one
            // before (a MSG_WAITALL read of redirected data can come back short, so the reads do
            // not stay aligned with the rounds). Even rounds: the reader stalls until the writer
            // is held back (a detour). Odd rounds: the reader is already waiting in recv() when
            // the round starts, possibly inside tcp_recvmsg() with part of a MSG_WAITALL read:
            // the writer may come back to the fast path only if that cannot strand it.
            let round = 8 << 20, rounds = 4, total = round * rounds
            let gate = ReadGate()
            let readerThread = LibC.shared.gettid()
            let clientFD = connection.client
            let sender = BackgroundTask {
                Self.sendRounds(clientFD, StreamWriter(pattern: Pattern(seed: 304), total: total, seed: 15, maxWrite: 128 << 10),
                                round: round, gate: gate) { index in
                    if index % 2 == 1 { _ = waitUntil(timeout: 5) { threadBlockedInReceive(readerThread) } }
                    return max(0, index * round - chunk + 1)
                }
            }
            defer { if sender.wait(timeout: Self.deadline) == nil { connection.shutdownBoth() } }
            let senderThread = sender.taskID
            let verifier = StreamVerifier(name: kind.rawValue, pattern: Pattern(seed: 304), total: total)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 8)
            defer { buffer.deallocate() }
            let flags = kind == .waitAll ? Int32(MSG_WAITALL) : 0
            var read = 0, reads = 0, end = ReadOutcome.End.timedOut
            let deadline = Date().addingTimeInterval(Self.deadline)
            var stalledRound = -1, shortReads = 0
            reading: while Date() < deadline {
                let currentRound = read / round
                if currentRound % 2 == 0 && currentRound > stalledRound && read < total {
                    stalledRound = currentRound
                    _ = waitUntil(timeout: 10) { threadWaits(senderThread, in: "sk_stream_wait_memory") }
                }
                let n = recv(connection.server, buffer.baseAddress!, chunk, flags)
                reads += 1
                if n > 0 && n < chunk && read + n < total { shortReads += 1 }
                if n > 0 {
                    try verifier.consume(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                    read += n
                    gate.advance(to: read)
                    continue
                }
                if n == 0 { end = .endOfStream; break reading }
                if errno == EINTR { continue }
                end = .error(errno)
                break reading
            }
            #expect(read == total && end == .endOfStream, "\(kind.rawValue) reader: \(read) of \(total) bytes, then \(end)")
            #expect(sender.wait(timeout: Self.deadline) == 0)
            let c = try env.counters()
            report("\(path), \(kind.rawValue): \(reads) reads (\(shortReads) short), \(c.backpressureToTCP) detours, \(c.returnedToFastPath) returns, \(c.bytesRedirected >> 20) MiB redirected, \(c.bytesDetoured >> 20) MiB detoured")
            if path == .accelerated {
                #expect(c.backpressureToTCP >= 1, "the stalls sent the writer on detours")
            }
        }
    }
}

extension PathEnvironment {
    /// A connection whose two ends set SO_SNDBUF and SO_RCVBUF to `buffers` before connecting
    /// (the accepted socket inherits the listener's), as an application that locks its buffers.
    func connection(buffers: Int32) throws -> Connection {
        let listener = try socket()
        defer { Glibc.close(listener) }
        let client = try socket()
        var size = buffers
        for fd in [listener, client] {
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        guard bind(listener, loopbackAddress(0)) == 0, listen(listener, 8) == 0 else { Glibc.close(client); throw TestSocketError("bind/listen") }
        setTimeouts(client, seconds: TestSocket.timeoutSeconds)
        setTimeouts(listener, seconds: TestSocket.timeoutSeconds)
        guard connect(client, loopbackAddress(localPort(listener))) == 0 else { Glibc.close(client); throw TestSocketError("connect") }
        let server = accept(listener, nil, nil)
        guard server >= 0 else { Glibc.close(client); throw TestSocketError("accept") }
        setTimeouts(client, seconds: 0)
        setTimeouts(server, seconds: TestSocket.timeoutSeconds)
        return Connection(client: client, server: server, serverPort: localPort(listener))
    }
}

/// How far a reader has read, for a writer that sends a round only once the one before was read.
final class ReadGate: @unchecked Sendable {
    private let condition = NSCondition()
    private var read = 0

    func advance(to bytes: Int) { condition.withLock { read = bytes; condition.broadcast() } }

    /// Waits until `bytes` have been read; false after `timeout` seconds.
    func wait(until bytes: Int, timeout: TimeInterval) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        return condition.withLock {
            while read < bytes { if !condition.wait(until: deadline) { return read >= bytes } }
            return true
        }
    }
}

import Foundation
import SockmapAccelerator
import TestSupport
import Testing

/// Flow control: a reader that stops reading must slow its sender down exactly as TCP does
/// (EAGAIN then EPOLLOUT, blocking, SO_SNDTIMEO, EINTR), never fail a live connection with
/// ENOMEM/EPIPE, keep kernel memory bounded, and lose or reorder no byte. Every test runs the
/// same code on plain TCP and accelerated (docs/backpressure.md explains the mechanism).
extension KernelIntegration {
    @Suite struct BackpressureTests {
        static let deadline: TimeInterval = 30

        /// Sends on a non-blocking socket until the kernel refuses; returns the bytes sent and the
        /// errno that stopped it.
        static func fill(_ fd: Int32, _ writer: StreamWriter, maxWrite: Int = 64 << 10) -> (bytes: Int, error: Int32) {
            var bytes = 0
            while !writer.isComplete {
                let chunk = writer.pending(limit: maxWrite)
                let n = send(fd, chunk.baseAddress!, chunk.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                if n > 0 { writer.advance(n); bytes += n; continue }
                return (bytes, n < 0 ? errno : 0)
            }
            return (bytes, 0)
        }

        /// sendfile(2)s the first `size` bytes of `file` to `socket` on a thread of its own, until
        /// done or refused: the bytes sent and the errno that stopped it (0: all sent).
        /// Sends `file` with sendfile(2) on a new thread. SIGPIPE is ignored for the process first
        /// (`sigpipeIgnored`), so a peer that closes gives EPIPE.
        static func sendfileInBackground(_ socket: Int32, _ file: TemporaryFile, size: Int) throws -> BackgroundTask<(sent: Int, error: Int32)> {
            try sigpipeIgnored.get()
            let fileFD = file.fd
            return BackgroundTask { () -> (sent: Int, error: Int32) in
                var offset: off_t = 0
                while Int(offset) < size {
                    let n = sendfile(socket, fileFD, &offset, size - Int(offset))
                    if n > 0 { continue }
                    return (Int(offset), n < 0 ? errno : 0)
                }
                return (Int(offset), 0)
            }
        }

        /// Sends the rest of `writer` on a non-blocking socket, waiting for POLLOUT after each
        /// EAGAIN, then shuts the sending side down. Returns 0 or the errno that stopped it.
        static func sendWithPoll(_ fd: Int32, _ writer: StreamWriter, maxWrite: Int = 64 << 10) -> Int32 {
            let deadline = Date().addingTimeInterval(deadline)
            while !writer.isComplete {
                let (_, error) = fill(fd, writer, maxWrite: maxWrite)
                if writer.isComplete { break }
                guard error == EAGAIN else { return error }
                if Date() > deadline { return ETIMEDOUT }
                _ = pollEvents(fd, Int16(POLLOUT), milliseconds: 1000)
            }
            return shutdown(fd, Int32(SHUT_WR)) == 0 ? 0 : errno
        }

        static func expectMovedToTCP(_ env: PathEnvironment, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let counters = try env.counters()
            report("\(env.path): \(counters.backpressureToTCP) detours over TCP by backpressure, \(counters.returnedToFastPath) returns, \(counters.socketsReleased) sockets released")
            if env.path == .accelerated {
                #expect(counters.backpressureToTCP >= 1, sourceLocation: sourceLocation)
                #expect(counters.bytesRedirected > 0, sourceLocation: sourceLocation)
            }
        }

        @Test("non-blocking sender, reader pauses then drains: EAGAIN, no POLLOUT while full, then POLLOUT; every byte in order", arguments: [SocketPath.accelerated, .plain])
        func nonBlockingSenderToPausedReader(path: SocketPath) throws {
            let env = try PathEnvironment(path)
            defer { env.tearDown() }
            let connection = try env.connection()
            setNonBlocking(connection.client)
            let total = 32 << 20
            // Filled here, then finished by the sender thread once this one has stopped using it.
            nonisolated(unsafe) let writer = StreamWriter(pattern: Pattern(seed: 81), total: total, seed: 91, maxWrite: 64 << 10)

            let (queued, error) = Self.fill(connection.client, writer)
            report("\(path): \(queued) bytes accepted before the sender was refused with \(errnoName(error))")
            #expect(error == EAGAIN, "a full connection refuses with EAGAIN, not \(errnoName(error))")
            #expect(queued < total)
            #expect(pollEvents(connection.client, Int16(POLLOUT), milliseconds: 300) & Int16(POLLOUT) == 0, "not writable while the reader sleeps")

            let clientFD = connection.client
            let sender = BackgroundTask { Self.sendWithPoll(clientFD, writer) }
            defer { if sender.wait(timeout: Self.deadline) == nil { connection.shutdownBoth() } }
            let verifier = StreamVerifier(name: "stream", pattern: Pattern(seed: 81), total: total)
            let outcome = try receiveStream(connection.server, into: verifier, deadline: Date().addingTimeInterval(Self.deadline))
            #expect(outcome.bytes == total && outcome.end == .endOfStream, "\(outcome)")
            #expect(sender.wait(timeout: Self.deadline) == 0)
            try Self.expectMovedToTCP(env)
        }

        @Test("blocking sender with SO_SNDTIMEO and a reader that stopped: the send times out with EAGAIN", arguments: [SocketPath.accelerated, .plain])
        func sendTimeout(path: SocketPath) throws {
            let env = try PathEnvironment(path)
            defer { env.tearDown() }
            let connection = try env.connection(timeouts: 1)
            let clientFD = connection.client
            let started = Date()
            let sender = BackgroundTask { () -> (Int, Int32) in
                let writer = StreamWriter(pattern: Pattern(seed: 82), total: 256 << 20, seed: 92, maxWrite: 256 << 10)
                var bytes = 0
                while !writer.isComplete {
                    let chunk = writer.pending()
                    let n = send(clientFD, chunk.baseAddress!, chunk.count, Int32(MSG_NOSIGNAL))
                    if n > 0 { writer.advance(n); bytes += n; continue }
                    return (bytes, n < 0 ? errno : 0)
                }
                return (bytes, 0)
            }
            let result = sender.wait(timeout: Self.deadline)
            if result == nil { connection.shutdownBoth() }
            let (bytes, error) = try #require(result, "the blocking send never timed out")
            report(String(format: "\(path): blocking send timed out after %.1f s with \(errnoName(error)), \(bytes) bytes queued", Date().timeIntervalSince(started)))
            #expect(error == EAGAIN)
            try Self.expectMovedToTCP(env)
        }

        @Test("a sender blocked on a full connection is interrupted by a signal: a partial count or EINTR, and the stream stays whole", arguments: [SocketPath.accelerated, .plain])
        func signalInterruptsBlockedSend(path: SocketPath) throws {
            let env = try PathEnvironment(path)
            defer { env.tearDown() }
            let connection = try env.connection(timeouts: 0)
            try interruptingHandler.get()
            let clientFD = connection.client
            let total = 24 << 20
            nonisolated(unsafe) let writer = StreamWriter(pattern: Pattern(seed: 83), total: total, seed: 93, maxWrite: 1 << 20)
            let cuts = StressProgress.Counter() // sends the signal cut short, as the sender counts them
            let sender = BackgroundTask { () -> (interrupted: Int, error: Int32) in
                // Threads may start with signals blocked; this one must take SIGUSR2.
                var set = sigset_t()
                sigemptyset(&set)
                sigaddset(&set, SIGUSR2)
                pthread_sigmask(SIG_UNBLOCK, &set, nil)
                var interrupted = 0
                while !writer.isComplete {
                    let chunk = writer.pending()
                    let n = send(clientFD, chunk.baseAddress!, chunk.count, Int32(MSG_NOSIGNAL))
                    if n > 0 {
                        if n < chunk.count { interrupted += 1; cuts.value.add(1, ordering: .relaxed) }
                        writer.advance(n)
                        continue
                    }
                    if n < 0 && errno == EINTR { interrupted += 1; cuts.value.add(1, ordering: .relaxed); continue }
                    return (interrupted, n < 0 ? errno : 0)
                }
                return (interrupted, shutdown(clientFD, Int32(SHUT_WR)) == 0 ? 0 : errno)
            }
            defer { if sender.wait(timeout: Self.deadline) == nil { connection.shutdownBoth() } }
            // Wait until the sender blocks on the full connection, then interrupt it, three times.
            // A sender seen blocked may be woken by freed space before the signal lands and
            // finish that send whole: a signal counts once the sender reports the cut, and one
            // that did not cut is sent again at the next block (at most 10 tries).
            let senderTask = sender.taskID
            #expect(waitUntil(timeout: 10) { threadWaits(senderTask, in: "sk_stream_wait_memory") }, "the sender blocks while the reader sleeps")
            var signals = 0
            while cuts.value.load(ordering: .relaxed) < 3 && signals < 10 && !sender.isFinished {
                guard waitUntil(timeout: 5, { sender.isFinished || threadWaits(senderTask, in: "sk_stream_wait_memory") }), !sender.isFinished else { break }
                let before = cuts.value.load(ordering: .relaxed)
                pthread_kill(sender.thread, SIGUSR2)
                signals += 1
                _ = waitUntil(timeout: 5) { cuts.value.load(ordering: .relaxed) > before || threadWaits(senderTask, in: "sk_stream_wait_memory") }
            }
            let verifier = StreamVerifier(name: "stream", pattern: Pattern(seed: 83), total: total)
            let outcome = try receiveStream(connection.server, into: verifier, deadline: Date().addingTimeInterval(Self.deadline))
            #expect(outcome.bytes == total && outcome.end == .endOfStream, "\(outcome)")
            let result = try #require(sender.wait(timeout: Self.deadline))
            report("\(path): \(signals) signals cut \(result.interrupted) send(s) short; sender ended with \(result.error == 0 ? "success" : errnoName(result.error))")
            #expect(result.error == 0)
            #expect(result.interrupted >= 1, "the signal returns from the blocked send (partial count or EINTR)")
            try Self.expectMovedToTCP(env)
        }

        @Test("64 senders to readers that never read: every sender is refused with EAGAIN and kernel memory stays within 2× plain TCP's", arguments: [SocketPath.accelerated, .plain])
        func manyStalledReaders(path: SocketPath) throws {
            // Plain TCP's figure is measured in the same test, first, as the yardstick.
            let plain = try PathEnvironment(.plain)
            let plainCharged = try Self.stalledConnections(plain, drainFirst: false)
            plain.tearDown()
            guard path == .accelerated else { return }
            let env = try PathEnvironment(path)
            defer { env.tearDown() }
            let charged = try Self.stalledConnections(env, drainFirst: true)
            report("accelerated/plain TCP memory of 64 stalled connections: \(String(format: "%.2f", Double(charged) / Double(max(plainCharged, 1))))×")
            #expect(charged <= 2 * plainCharged, "bounded: at most 2× what plain TCP holds (\(charged >> 20) MiB vs \(plainCharged >> 20) MiB)")
            try Self.expectMovedToTCP(env)
        }

        /// Fills 64 connections of `env` whose readers never read; returns the growth of the
        /// host's TCP memory. With `drainFirst`, one connection is then read to its end, in order.
        static func stalledConnections(_ env: PathEnvironment, drainFirst: Bool) throws -> Int {
            // Host-wide: memory of the test before (its sockets closing) must be freed first, or
            // this run's growth reads too low.
            let before = settledTCPMemoryPages()
            let connections = try (0..<64).map { _ in try env.connection() }
            defer { connections.forEach { $0.shutdownBoth(); $0.close(.client); $0.close(.server) } }
            var queued = 0
            for (index, connection) in connections.enumerated() {
                setNonBlocking(connection.client)
                let writer = StreamWriter(pattern: Pattern(seed: 1000 + UInt64(index)), total: 64 << 20, seed: 7, maxWrite: 64 << 10)
                let (bytes, error) = Self.fill(connection.client, writer)
                #expect(error == EAGAIN, "sender \(index): \(errnoName(error))")
                queued += bytes
            }
            let after = tcpMemoryPages()
            let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
            let charged = (after - before) * pageSize
            report("\(env.path): 64 stalled connections hold \(queued >> 20) MiB unread; TCP memory (sockstat) grew by \(charged >> 20) MiB")
            if drainFirst {
                // Every byte is still there, in order: drain one connection fully.
                let first = connections[0]
                setNonBlocking(first.client, false)
                shutdown(first.client, Int32(SHUT_WR))
                let verifier = StreamVerifier(name: "first", pattern: Pattern(seed: 1000), total: 64 << 20)
                let outcome = try receiveStream(first.server, into: verifier, deadline: Date().addingTimeInterval(Self.deadline))
                #expect(outcome.end == .endOfStream && outcome.bytes > 0, "\(outcome)")
            }
            return charged
        }

        @Test("sendfile to a peer that closes midway ends as on TCP: a short count, then EPIPE or ECONNRESET", arguments: [SocketPath.accelerated, .plain])
        func sendfileToClosingPeer(path: SocketPath) throws {
            let env = try PathEnvironment(path)
            defer { env.tearDown() }
            let connection = try env.connection()
            let size = 64 << 20
            let file = try TemporaryFile(size: size, pattern: Pattern(seed: 84))
            defer { withExtendedLifetime(file) {} }
            let sender = try Self.sendfileInBackground(connection.client, file, size: size)
            defer { if sender.wait(timeout: Self.deadline) == nil { connection.shutdownBoth() } }
            let verifier = StreamVerifier(name: "file", pattern: Pattern(seed: 84), total: size)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 8)
            defer { buffer.deallocate() }
            var read = 0
            while read < 1 << 20 {
                let n = recv(connection.server, buffer.baseAddress!, (1 << 20) - read, 0)
                guard n > 0 else { break }
                try verifier.consume(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                read += n
            }
            connection.close(.server)
            let result = try #require(sender.wait(timeout: Self.deadline), "sendfile never returned after the peer closed")
            report("\(path): sendfile stopped after \(result.sent) of \(size) bytes with \(errnoName(result.error)) (the peer read \(read) and closed)")
            #expect(result.sent < size)
            #expect(result.error == EPIPE || result.error == ECONNRESET)
        }

        @Test("two threads write one socket while both readers stall and resume, the other side streaming back: no error, every byte of each thread whole and in order", arguments: [SocketPath.accelerated, .plain])
        func twoWritersToStallingReader(path: SocketPath) throws {
            let env = try PathEnvironment(path)
            defer { env.tearDown() }
            let perWriter = 8 << 20, reply = 16 << 20
            // The server's reply stream moves to TCP under backpressure (the client's reader
            // stalls), so the server leaves the map while the client's two writers may each have
            // a redirect into it in flight; the client's writers then move to TCP too.
            for round in 0..<3 {
                let connection = try env.connection(timeouts: 10)
                let clientFD = connection.client, serverFD = connection.server
                let patterns = (0..<2).map { TaggedPattern(writer: $0, seed: UInt64(round * 2 + $0) &* 0x51ED_270B) }
                let writers = patterns.map { pattern in
                    BackgroundTask { sendTagged(clientFD, pattern, total: perWriter, seed: UInt64(pattern.writer + 17 * round), maxWrite: 16 << 10) }
                }
                let replyPattern = Pattern(seed: 86 + UInt64(round))
                let replier = BackgroundTask { () -> Int32 in
                    let writer = StreamWriter(pattern: replyPattern, total: reply, seed: 96, maxWrite: 64 << 10)
                    let error = sendStream(serverFD, writer)
                    return error != 0 ? error : (shutdown(serverFD, Int32(SHUT_WR)) == 0 ? 0 : errno)
                }
                let replyReader = BackgroundTask { () -> ReadOutcome? in
                    // Stall until the replier is held back (or has sent everything).
                    _ = waitUntil(timeout: Self.deadline) { replier.isFinished || threadWaits(replier.taskID, in: "sk_stream_wait_memory") }
                    let verifier = StreamVerifier(name: "reply", pattern: replyPattern, total: reply)
                    return try? receiveStream(clientFD, into: verifier, deadline: Date().addingTimeInterval(Self.deadline))
                }
                let tasks: [() -> Bool] = writers.map { w in { w.wait(timeout: Self.deadline) != nil } }
                    + [{ replier.wait(timeout: Self.deadline) != nil }, { replyReader.wait(timeout: Self.deadline) != nil }]
                defer { if !tasks.allSatisfy({ $0() }) { connection.shutdownBoth() } }

                let verifier = TaggedVerifier(patterns: patterns)
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 8)
                defer { buffer.deallocate() }
                var outcome = ReadOutcome()
                // Stall until both writers are held back (or done), read 2 MiB, stall so again,
                // then drain.
                let heldBack = { () -> Bool in
                    waitUntil(timeout: Self.deadline) {
                        writers.allSatisfy { $0.isFinished || threadWaits($0.taskID, in: "sk_stream_wait_memory") }
                    }
                }
                #expect(heldBack(), "the writers block while the reader stalls")
                var stalledAgain = false, writersDone = false
                let deadline = Date().addingTimeInterval(Self.deadline)
                while Date() < deadline {
                    if !stalledAgain && outcome.bytes >= 2 << 20 { stalledAgain = true; #expect(heldBack()) }
                    if !writersDone && writers.allSatisfy(\.isFinished) {
                        writersDone = true
                        shutdown(clientFD, Int32(SHUT_WR))
                    }
                    guard pollEvents(serverFD, Int16(POLLIN), milliseconds: 100) & Int16(POLLIN) != 0 else { continue }
                    let n = recv(serverFD, buffer.baseAddress!, buffer.count, Int32(MSG_DONTWAIT))
                    if n > 0 {
                        try verifier.consume(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                        outcome.bytes += n
                        continue
                    }
                    if n == 0 { outcome.end = .endOfStream; break }
                    if errno == EAGAIN || errno == EINTR { continue }
                    outcome.end = .error(errno)
                    break
                }
                let results = writers.map { $0.wait(timeout: Self.deadline) }
                #expect(results.allSatisfy { $0 == 0 }, "writers ended with \(results.map { $0.map(errnoName) ?? "no result" })")
                #expect(outcome.end == .endOfStream, "\(outcome)")
                #expect(verifier.offsets == [perWriter, perWriter], "bytes per writer: \(verifier.offsets)")
                #expect(replier.wait(timeout: Self.deadline) == 0)
                let replied = replyReader.wait(timeout: Self.deadline) ?? nil
                #expect(replied?.bytes == reply && replied?.end == .endOfStream, "reply: \(replied.map(\.description) ?? "mismatch")")
            }
            let counters = try env.counters()
            report("\(path): 3 connections, 2 writers + 1 replier: \(counters.backpressureToTCP) moved to TCP by backpressure, \(counters.socketsReleased) sockets released, \(counters.messagesRedirected) messages redirected")
            if path == .accelerated { #expect(counters.backpressureToTCP >= 1) }
        }

        @Test("TLS-like framing: small non-blocking records to a reader that pauses make progress and arrive whole", arguments: [SocketPath.accelerated, .plain])
        func smallRecordsToPausingReader(path: SocketPath) throws {
            let env = try PathEnvironment(path)
            defer { env.tearDown() }
            let connection = try env.connection()
            setNonBlocking(connection.client)
            let total = 8 << 20
            nonisolated(unsafe) let writer = StreamWriter(pattern: Pattern(seed: 85), total: total, seed: 95, maxWrite: 16 << 10)
            let clientFD = connection.client
            // Writes of random size up to 16 KiB, mostly small (log-uniform), as a TLS library writes records.
            let sender = BackgroundTask { Self.sendWithPoll(clientFD, writer, maxWrite: 16 << 10) }
            defer { if sender.wait(timeout: Self.deadline) == nil { connection.shutdownBoth() } }
            // The reader pauses three times, each until the sender waits in poll() for room (or
            // has finished), reading a little in between.
            let verifier = StreamVerifier(name: "records", pattern: Pattern(seed: 85), total: total)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 8)
            defer { buffer.deallocate() }
            for _ in 0..<3 {
                #expect(waitUntil(timeout: Self.deadline) { sender.isFinished || threadWaits(sender.taskID, in: "do_sys_poll") })
                for _ in 0..<16 {
                    let n = recv(connection.server, buffer.baseAddress!, 4096, 0)
                    guard n > 0 else { break }
                    try verifier.consume(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                }
            }
            let outcome = try receiveStream(connection.server, into: verifier, deadline: Date().addingTimeInterval(Self.deadline))
            #expect(outcome.end == .endOfStream && verifier.offset == total, "\(outcome)")
            #expect(sender.wait(timeout: Self.deadline) == 0)
        }
    }
}

/// Pages charged to TCP sockets host-wide ("TCP: ... mem N" in /proc/net/sockstat).
func tcpMemoryPages() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/net/sockstat", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("TCP:") }) else { return 0 }
    let fields = line.split(separator: " ")
    guard let index = fields.firstIndex(of: "mem"), index + 1 < fields.count else { return 0 }
    return Int(fields[index + 1]) ?? 0
}

/// `tcpMemoryPages()` once it has stopped going down (freed sockets' memory is given back
/// asynchronously): two readings 200 ms apart with no decrease, for at most 5 s.
func settledTCPMemoryPages() -> Int {
    var last = tcpMemoryPages()
    let deadline = Date().addingTimeInterval(5)
    while Date() < deadline {
        usleep(200_000)
        let now = tcpMemoryPages()
        if now >= last { return now }
        last = now
    }
    return last
}

/// A file of `size` bytes of `pattern`, deleted when released.
final class TemporaryFile {
    let fd: Int32

    init(size: Int, pattern: Pattern) throws {
        var template = Array("/tmp/swift-sockmap-bp-XXXXXX".utf8CString)
        fd = mkstemp(&template)
        guard fd >= 0 else { throw TestSocketError("mkstemp") }
        unlink(String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 8)
        defer { chunk.deallocate() }
        var offset = 0
        while offset < size {
            let count = min(chunk.count, size - offset)
            pattern.fill(UnsafeMutableRawBufferPointer(rebasing: chunk[0..<count]), offset: offset)
            guard write(fd, chunk.baseAddress!, count) == count else { throw TestSocketError("write") }
            offset += count
        }
    }

    deinit { close(fd) }
}

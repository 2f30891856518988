import Foundation
import SockmapAccelerator
import TestSupport
import Testing

/// Many accelerated connections at once, both directions, random write sizes, every byte checked.
///
/// The default moves 1 GiB (about 6 s per path), for CI. A soak run: `SOCKMAP_STRESS_BYTES=4G swift test --filter
/// StressTests` (also `SOCKMAP_STRESS_CONNECTIONS`, `SOCKMAP_STRESS_SEED`; see
/// `StressConfiguration`).
extension KernelIntegration {
    @Suite struct StressTests {
        @Test("concurrent connections, random writes of 1 B to 1 MiB both ways, every byte verified in order",
              arguments: [SocketPath.accelerated, .plain])
        func stress(path: SocketPath) throws {
            let configuration = StressConfiguration.fromEnvironment()
            let env = try PathEnvironment(path)
            defer { env.tearDown() }
            let progress = StressProgress(streams: configuration.streams)
            let registry = StressRegistry()

            // Every socket is made now, in the cgroup (by its socket factory, see SocketFactory.swift);
            // the client side connects them later, one by one, while traffic already flows.
            let listener = try env.socket()
            var clients: [Int32] = []
            var handedOver = false
            defer {
                if !handedOver {
                    close(listener)
                    for fd in clients { close(fd) }
                }
            }
            for _ in 0..<configuration.connections { clients.append(try env.socket()) }
            var one: Int32 = 1
            setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            guard bind(listener, loopbackAddress(0)) == 0, listen(listener, 1024) == 0 else { throw TestSocketError("bind/listen") }
            setNonBlocking(listener)
            for (index, fd) in clients.enumerated() {
                guard bind(fd, loopbackAddress(0)) == 0 else { throw TestSocketError("bind client") }
                setTimeouts(fd, seconds: TestSocket.timeoutSeconds) // bounds connect() and the first sends
                registry.register(port: localPort(fd), index: index)
            }
            let server = StressSide(role: .server, configuration: configuration, progress: progress, registry: registry,
                                    listener: listener)
            let client = StressSide(role: .client, configuration: configuration, progress: progress, registry: registry,
                                    clientSockets: clients, serverPort: localPort(listener))
            handedOver = true
            defer { close(listener) }

            let before = try env.counters()
            let start = Date()
            let serverRun = BackgroundTask { server.run() }
            let clientRun = BackgroundTask { client.run() }
            let limit = configuration.deadline + 30
            let finished = clientRun.wait(timeout: limit) != nil && serverRun.wait(timeout: limit) != nil
            let seconds = Date().timeIntervalSince(start)
            guard finished else {
                // Both loops check their own deadline; this is the last line of defence.
                progress.stop.store(true, ordering: .relaxed)
                Issue.record("the stress loops did not stop within \(limit) s")
                return
            }
            let delta = try env.counters().delta(since: before)

            for failure in client.failures + server.failures { Issue.record("\(failure)") }
            let expected = configuration.bytesPerStream * configuration.streams
            let verified = progress.total
            #expect(verified == expected, "bytes verified in order")
            let mib = Double(verified) / Double(1 << 20)
            report("""
                stress \(path): \(configuration): \(verified) bytes verified in \(String(format: "%.1f", seconds)) s \
                (\(String(format: "%.0f", mib / seconds)) MiB/s), \(client.writes + server.writes) writes; \
                counters: \(delta.socketsInserted) inserted, \(delta.messagesRedirected) messages and \(delta.bytesRedirected) bytes \
                redirected, \(delta.bytesDetoured) bytes detoured, \(delta.redirectMissed) missed, \(delta.insertFailed) insert failures; \
                send errors \(client.sendErrors.merging(server.sendErrors, uniquingKeysWith: +).map { "\(errnoName($0.key)) × \($0.value)" })
                """)
            switch path {
            case .accelerated:
                #expect(delta.socketsInserted == UInt64(2 * configuration.connections))
                #expect(delta.insertFailed == 0)
                // Each redirected send is counted with its size, each send on a backpressure
                // detour too; a send whose peer was not in the map yet (the connect race) would be
                // counted as missed and go the TCP way.
                let accelerated = delta.bytesRedirected + delta.bytesDetoured
                #expect(accelerated <= UInt64(expected))
                #expect(Double(accelerated) >= 0.99 * Double(expected), "traffic was redirected or detoured by backpressure")
                #expect(delta.bytesRedirected > 0)
                #expect(delta.redirectMissed == 0, "no send went the TCP way")
            default:
                #expect(delta == Counters())
            }
        }

        /// The ordering hazard of docs/kernel-behaviour.md ("Ordering"): tcp_bpf_recvmsg
        /// reads the redirect queue before the TCP receive queue, so bytes that went the TCP way
        /// and are still unread when later bytes are redirected get overtaken. `pause` makes sends
        /// go the TCP way while both sockets stay in the map; `resume` redirects again.
        @Test("pause, send, resume, send: the receiver reads the bytes in the order they were sent")
        func pauseResumeOrder() throws {
            let env = try PathEnvironment(.accelerated)
            defer { env.tearDown() }
            let connection = try env.connection()
            let accelerator = try #require(env.cgroup).accelerator
            let size = 64 << 10
            let writer = StreamWriter(pattern: Pattern(seed: 9), total: 4 * size, seed: 9, maxWrite: size)
            func send(_ count: Int) throws {
                var left = count
                while left > 0 {
                    let chunk = writer.pending(limit: left)
                    #expect(sendAll(connection.client, chunk) == 0)
                    writer.advance(chunk.count)
                    left -= chunk.count
                }
            }
            try send(size) // redirected
            try accelerator.setPaused(true)
            try send(size) // TCP, behind the redirected bytes: safe, they are read first
            try accelerator.setPaused(false)
            _ = waitUntil(timeout: 2) { bytesReadable(connection.server) >= Int32(size) }
            try send(2 * size) // redirected again, while the TCP bytes are still unread
            shutdown(connection.client, Int32(SHUT_WR))
            let verifier = StreamVerifier(name: "pause/resume", pattern: Pattern(seed: 9), total: 4 * size)
            var outcome = ReadOutcome()
            var mismatch: StreamMismatch?
            do {
                outcome = try receiveStream(connection.server, into: verifier, deadline: Date().addingTimeInterval(10))
            } catch {
                mismatch = error
            }
            let counters = try env.counters()
            report("pause/resume: \(mismatch.map { "\($0)" } ?? "in order: \(outcome)"); counters: \(counters.bytesRedirected) bytes redirected, \(counters.redirectMissed) missed")
            #expect(mismatch == nil, "\(mismatch.map { "\($0)" } ?? "")")
            #expect(outcome.bytes == 4 * size && outcome.end == .endOfStream)
        }
    }
}

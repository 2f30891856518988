import BPFLoader
import Foundation
import SockmapAccelerator
import TestSupport
import Testing

extension KernelIntegration {
    /// A full SOCKHASH and many short-lived connections: nothing breaks, nothing stays behind.
    @Suite struct CapacityTests {
        @Test("more connections than the map holds: all work, the extra sockets stay on TCP and are counted")
        func overflow() throws {
            let env = try AcceleratedCgroup(maxEntries: 8)
            defer { env.tearDown() }
            #expect(try env.accelerator.map(DataPath.stateMap).info().maxEntries == 16,
                    "each socket's state has room for a full map and as many connecting sockets")
            var pairs: [TCPPair] = []
            for _ in 0..<20 { pairs.append(try TCPPair.make(.ipv4, in: env)) }

            // Sockets enter the map in the order they become ESTABLISHED: client, then server, per pair.
            let accelerated = 4
            #expect(Set(try env.accelerator.entries().compactMap(\.cookie)) ==
                    Set(pairs[..<accelerated].flatMap { [$0.client.cookie, $0.server.cookie] }))

            var acceleratedTraffic = (messages: 0, bytes: 0)
            for (index, pair) in pairs.enumerated() {
                let moved = try DataPathTests.exchange(pair, rounds: 10)
                if index < accelerated {
                    acceleratedTraffic.messages += moved.messages
                    acceleratedTraffic.bytes += moved.bytes
                }
            }
            let counters = try env.counters()
            #expect(counters.socketsInserted == 8)
            #expect(counters.insertFailed == 16, "one failure per connection beyond the capacity: the connecting side's insert fails and burns its token")
            #expect(counters.noToken == 16, "so the accepting side finds no token in the last ACK")
            #expect(counters.messagesRedirected == UInt64(acceleratedTraffic.messages))
            #expect(counters.bytesRedirected == UInt64(acceleratedTraffic.bytes))
            // Sockets not in the map have no sk_msg program at all, so nothing counts as missed.
            #expect(counters.redirectMissed == 0)

            // Closing the accelerated connections makes room again.
            pairs.removeAll()
            #expect(try waitUntil(timeout: 5) { try env.accelerator.entries().isEmpty })
            let more = try (0..<4).map { _ in try TCPPair.make(.ipv4, in: env) }
            for pair in more { _ = try DataPathTests.exchange(pair, rounds: 2) }
            #expect(try env.accelerator.entries().count == 8)
            #expect(try env.counters().socketsInserted == 16)
            #expect(try env.counters().insertFailed == 16)
        }

        @Test("10,000 short connections leave no stale entry", .timeLimit(.minutes(1)))
        func shortConnectionsLeaveNothing() throws {
            let env = try AcceleratedCgroup()
            defer { env.tearDown() }
            let connections = 10_000, size = 32
            do { // every socket made in the cgroup (the accepted ones follow their listener)
                let listener = try env.tcp()
                try listener.bindLoopback(port: 0)
                guard listen(listener.fd, 64) == 0 else { throw TestSocketError("listen") }
                let address = TestSocket.loopback(listener.localPort)
                for i in 0..<connections {
                    let client = try env.tcp()
                    guard connect(client.fd, address) == 0 else { throw TestSocketError("connect #\(i)") }
                    let accepted = accept(listener.fd, nil, nil)
                    guard accepted >= 0 else { throw TestSocketError("accept #\(i)") }
                    let server = TestSocket(fd: accepted)
                    server.setTimeouts()
                    let request = Pattern.bytes(seed: 7, offset: i, count: size)
                    try client.sendAll(request)
                    guard try server.receiveExactly(size) == request else { throw TestSocketError("request #\(i) corrupted", 0) }
                    let reply = Pattern.bytes(seed: 8, offset: i, count: size)
                    try server.sendAll(reply)
                    guard try client.receiveExactly(size) == reply else { throw TestSocketError("reply #\(i) corrupted", 0) }
                }
            }
            var left = -1
            #expect(try waitUntil(timeout: 2) { left = try env.accelerator.entries().count; return left == 0 }, "\(left) entries left")
            let counters = try env.counters()
            #expect(counters.socketsInserted == UInt64(2 * connections))
            #expect(counters.insertFailed == 0)
            #expect(counters.messagesRedirected == UInt64(2 * connections))
            #expect(counters.bytesRedirected == UInt64(2 * connections * size))
            #expect(counters.redirectMissed == 0)
        }
    }
}
